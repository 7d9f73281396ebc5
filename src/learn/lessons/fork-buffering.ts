// Output held in a user-space stdio buffer at fork is written by both processes:
// into a pipe (fully buffered), not onto a terminal (line-buffered).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { close, fork, pipe, read, waitpid } from '../../index';
import { writeAll } from '../../internal/io-loops';
import { type Lesson } from './common';

/**
 * A write buffer as C's stdio keeps one for stdout: line-buffered when
 * isatty(3) says the descriptor is a terminal (the kernel answers the
 * TCGETS ioctl), fully buffered otherwise; exit(3) flushes it, _exit(2) not.
 */
class StdioBuffer {
  private held = '';
  readonly mode: 'line' | 'full';
  /** Its size, as glibc sizes it: the descriptor's st_blksize. */
  readonly size: number;
  constructor(private readonly fd: number) {
    this.mode = tty.isatty(fd) ? 'line' : 'full';
    this.size = fs.fstatSync(fd).blksize;
  }
  printf(text: string): void {
    this.held += text;
    if (this.mode === 'line' ? this.held.includes('\n') : this.held.length >= this.size) this.fflush();
  }
  fflush(): void {
    writeAll(this.fd, this.held);
    this.held = '';
  }
  /** What exit(3) does for stdio; _exit(2) leaves the buffer unwritten. */
  exit(): void {
    this.fflush();
  }
}

export type Ending = 'exit' | 'fflush before fork' | '_exit in the child';

/** printf a line into `fd`'s buffer, fork, and end both processes as `ending` says; the buffer's size. */
function printThenFork(fd: number, ending: Ending): number {
  const out = new StdioBuffer(fd);
  out.printf('hello from before the fork\n');
  if (ending === 'fflush before fork') out.fflush();
  const pid = fork(() => {
    out.printf('child\n');
    if (ending === '_exit in the child') return; // leaves through _exit: the buffer is never written
    out.exit();
  });
  out.printf('parent\n');
  out.exit();
  waitpid(pid);
  return out.size;
}

/** What came out of a pipe that printThenFork wrote into, and the size of the buffer. */
function intoPipe(ending: Ending): { text: string; size: number } {
  const [r, w] = pipe();
  const size = printThenFork(w, ending);
  close(w);
  let text = '';
  const buf = Buffer.alloc(1024);
  for (let n; (n = read(r, buf)) > 0;) text += buf.toString('utf8', 0, n);
  close(r);
  return { text, size };
}

/**
 * What a terminal showed: this module runs as a program on the terminal that
 * script(1) gives it (a pseudo-terminal), and script copies what it shows.
 * null when script cannot run here.
 */
function ontoTerminal(): string | null {
  const program = `"${process.execPath}" "${__filename}" --onto-stdout`;
  const run = spawnSync('script', ['-qec', program, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
  return run.status === 0 ? run.stdout.replace(/\r\n/g, '\n') : null;
}

if (require.main === module && process.argv[2] === '--onto-stdout') {
  process.stdout.write(`fd 1 ${tty.isatty(1) ? 'is' : 'is not'} a terminal\n`);
  printThenFork(1, 'exit');
}

const copies = (text: string) => text.split('\n').filter((l) => l === 'hello from before the fork').length;
const shown = (text: string) => `${text.trimEnd().replace(/^/gm, '  | ')}\n`;

export const forkBuffering: Lesson = {
  name: 'fork-buffering',
  title: 'A line printed before fork comes out twice into a pipe (fully buffered), once on a terminal',
  run(say) {
    say(
      "C's printf puts bytes in a buffer in the process's memory; fork gives the\n" +
        'child a copy of that memory (copy-on-write: the pages are shared until one\n' +
        'process writes), buffer and all, and exit() flushes it.\n' +
        'stdio makes stdout line-buffered when isatty() says it is a terminal, fully\n' +
        "buffered into a pipe or a file. This lesson's writer keeps such a buffer: it\n" +
        'prints a line, forks, and each process prints its name and calls exit().\n',
    );
    say('Onto a terminal (a pseudo-terminal from script(1)), line-buffered: the line\n' + 'left before the fork.\n');
    const terminal = ontoTerminal();
    say(terminal === null ? '  (script(1) could not run here)\n' : shown(terminal));
    const { text: twice, size } = intoPipe('exit');
    say(
      `The mistake: the same into a pipe, fully buffered (st_blksize: ${size} bytes):\n` +
        'the line was still in the buffer at fork.\n',
    );
    say(shown(twice));
    say('The fix: fflush(stdout) (or fflush(NULL)) before fork. What the pipe carried:\n');
    const flushed = intoPipe('fflush before fork').text;
    say(shown(flushed));
    say('Or the child leaves with _exit(), which does not flush its copy of the buffer:\n');
    const exited = intoPipe('_exit in the child').text;
    say(shown(exited));
    say(
      "(Node writes stdout with write(2) at once, and this package's fork() refuses\n" +
        'while stdout or stderr has bytes queued, so the demo cannot hit this.)\n',
    );
    return {
      terminal:
        terminal === null ? null : { isatty: terminal.includes('fd 1 is a terminal'), copies: copies(terminal) },
      copiesIntoPipe: copies(twice),
      copiesWithFlush: copies(flushed),
      copiesWithChildExit: copies(exited),
      childLineWithChildExit: exited.includes('child\n'),
    };
  },
};

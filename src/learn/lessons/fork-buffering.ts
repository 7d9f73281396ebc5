// Output held in a user-space buffer at fork is written by both processes.
import { close, fork, pipe, read, waitpid } from '../../index';
import { writeAll } from '../../internal/io-loops';
import { type Lesson } from './common';

/** A write buffer like C's stdio when stdout is a pipe or file: bytes go out when it is flushed. */
class BufferedWriter {
  private held = '';
  constructor(private readonly fd: number) {}
  print(text: string): void {
    this.held += text;
  }
  flush(): void {
    writeAll(this.fd, this.held);
    this.held = '';
  }
}

/** Prints a line into a buffer, forks, and has both processes flush at their end; returns what came out of the pipe. */
function tryIt(flushBeforeFork: boolean): string {
  const [r, w] = pipe();
  const out = new BufferedWriter(w);
  out.print('hello from before the fork\n');
  if (flushBeforeFork) out.flush();
  const pid = fork(() => {
    close(r);
    out.print('child\n');
    out.flush(); // what exit() does for stdio
  });
  out.print('parent\n');
  out.flush();
  close(w);
  let text = '';
  const buf = Buffer.alloc(1024);
  for (let n; (n = read(r, buf)) > 0;) text += buf.toString('utf8', 0, n);
  close(r);
  waitpid(pid);
  return text;
}

export const forkBuffering: Lesson = {
  name: 'fork-buffering',
  title: 'A line printed before fork comes out twice when it was still in a user-space buffer',
  run(say) {
    say(
      "C's printf puts bytes in a buffer in the process's memory; fork copies the memory, buffer and all.\n" +
        'Here a writer with such a buffer prints a line, the process forks, and each process flushes at its end.\n',
    );
    say('The mistake: fork with the line still buffered. What the pipe carried:\n');
    const twice = tryIt(false);
    say(`${twice.trimEnd().replace(/^/gm, '  | ')}\n`);
    say('The fix: flush before fork (fflush(NULL) in C). What the pipe carried:\n');
    const once = tryIt(true);
    say(`${once.trimEnd().replace(/^/gm, '  | ')}\n`);
    say(
      "(Node writes stdout with write(2) at once, and this package's fork() refuses while stdout or stderr\n" +
        'has bytes queued, so the demo cannot hit this.)\n',
    );
    const copies = (text: string) => text.split('\n').filter((l) => l === 'hello from before the fork').length;
    return { copiesWithoutFlush: copies(twice), copiesWithFlush: copies(once) };
  },
};

// A descriptor leaked into an exec'd program keeps a pipe's write end open.
import * as fs from 'node:fs';
import { close, execvp, fork, kill, O_CLOEXEC, pipe, poll, POLLIN, read, waitpid, write } from '../../index';
import { openFds, pipeEnd, readStat } from '../../internal/proc';
import { waitUntil, type Lesson } from './common';

/** The descriptors of `pid` that refer to pipe `inode`, and which end each is, from /proc. */
function holding(pid: number, inode: number): { fd: number; end: 'read' | 'write' }[] {
  return openFds(pid)
    .filter((f) => f.pipe === inode)
    .map((f) => ({ fd: f.fd, end: pipeEnd(f.flags!) }));
}

/** A pipe; a child that execs `sleep 30`; the parent writes, closes its write end, and looks for EOF. */
function tryIt(flags: number): { eof: boolean; held: { fd: number; end: 'read' | 'write' }[]; pid: number } {
  const [r, w] = pipe(flags);
  const inode = fs.fstatSync(r).ino;
  const pid = fork(() => execvp('sleep', ['sleep', '30']));
  // Until exec, the child is a copy of us holding every descriptor: wait for the exec.
  waitUntil(() => readStat(pid).comm === 'sleep', 5000);
  write(w, 'the whole message');
  close(w);
  read(r, Buffer.alloc(64));
  const [ready] = poll([{ fd: r, events: POLLIN }], 300);
  const eof = ready.readable || ready.hangup;
  const held = holding(pid, inode);
  close(r);
  kill(pid, 'SIGKILL');
  waitpid(pid);
  return { eof, held, pid };
}

export const cloexec: Lesson = {
  name: 'cloexec',
  title: "An exec'd program that inherited a write end delays EOF; O_CLOEXEC keeps it out",
  run(say) {
    say('The mistake: pipe() without O_CLOEXEC, then a child that execs an unrelated\n' + 'program (sleep 30).\n');
    const leaked = tryIt(0);
    say(
      '  the parent wrote, closed its write end and read the message;\n' +
        `  poll() for 300 ms more: ${leaked.eof ? 'end of file' : 'nothing, no EOF'}.\n` +
        `  /proc/${leaked.pid}/fd and fdinfo: sleep holds\n` +
        `  ${leaked.held.map((h) => `fd ${h.fd} (${h.end} end)`).join(', ')} of that pipe; the write end,\n` +
        '  which it never asked for and never uses, is what keeps the reader from EOF.\n' +
        '  The reader gets EOF only when sleep exits, 30 s later (here it is killed).\n',
    );
    say('The fix: pipe(O_CLOEXEC) (or fcntl(fd, F_SETFD, FD_CLOEXEC)): the kernel\n' + 'closes it at exec.\n');
    const fixed = tryIt(O_CLOEXEC);
    say(
      `  same program: poll() reports ${fixed.eof ? 'end of file at once' : 'nothing'};\n` +
        `  sleep holds ${fixed.held.length} descriptors of the pipe.\n`,
    );
    return {
      leakedEof: leaked.eof,
      leakedEnds: leaked.held.map((h) => h.end),
      fixedEof: fixed.eof,
      fixedHeld: fixed.held.length,
    };
  },
};

// Both sides write more than the pipe holds before reading: deadlock.
import * as fs from 'node:fs';
import {
  close,
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  fcntl,
  fork,
  isSyscallError,
  kill,
  O_NONBLOCK,
  pipe,
  poll,
  POLLIN,
  POLLOUT,
  read,
  waitpid,
  write,
  WUNTRACED,
  type PollFd,
} from '../../index';
import { processState } from '../../internal/proc';
import { blockedIn, killAndReap, waitBounded, type Lesson } from './common';

/** Fills a non-blocking pipe (of `size` bytes, if given) until the kernel says EAGAIN: that is its capacity. */
function measureCapacity(size?: number): number {
  const [r, w] = pipe(O_NONBLOCK);
  if (size !== undefined) fcntl(w, F_SETPIPE_SZ, size);
  const chunk = Buffer.alloc(4096);
  let total = 0;
  try {
    for (;;) total += write(w, chunk);
  } catch (error) {
    if (!isSyscallError(error, 'EAGAIN')) throw error;
  }
  close(r);
  close(w);
  return total;
}

const SIZE = 256 * 1024;

/** Two processes that each send SIZE bytes to the other; `polite` interleaves reading. */
function exchange(polite: boolean): { pids: number[] } {
  const [aRead, bWrite] = pipe(polite ? O_NONBLOCK : 0);
  const [bRead, aWrite] = pipe(polite ? O_NONBLOCK : 0);
  const side = (readFd: number, writeFd: number, others: number[]) => () => {
    others.forEach((fd) => close(fd));
    const data = Buffer.alloc(SIZE, 0x61);
    const sink = Buffer.alloc(65536);
    let sent = 0;
    let received = 0;
    if (!polite) {
      while (sent < SIZE) sent += write(writeFd, data, sent); // blocks when the pipe is full
      while (received < SIZE) received += read(readFd, sink);
      return;
    }
    // Sleep in poll() until one of the two can move, then move what it can.
    const again = (error: unknown) => {
      if (!isSyscallError(error, 'EAGAIN')) throw error;
    };
    while (sent < SIZE || received < SIZE) {
      const wanted: PollFd[] = [];
      if (received < SIZE) wanted.push({ fd: readFd, events: POLLIN });
      if (sent < SIZE) wanted.push({ fd: writeFd, events: POLLOUT });
      for (const ready of poll(wanted, -1)) {
        if (ready.fd === readFd && (ready.readable || ready.hangup)) {
          try {
            const n = read(readFd, sink);
            if (n === 0) throw new Error('the other side closed before sending everything');
            received += n;
          } catch (error) {
            again(error);
          }
        }
        if (ready.fd === writeFd && (ready.writable || ready.error)) {
          try {
            sent += write(writeFd, data, sent, Math.min(16384, SIZE - sent));
          } catch (error) {
            again(error);
          }
        }
      }
    }
  };
  const a = fork(side(aRead, aWrite, [bRead, bWrite]));
  const b = fork(side(bRead, bWrite, [aRead, aWrite]));
  [aRead, bWrite, bRead, aWrite].forEach((fd) => close(fd));
  return { pids: [a, b] };
}

export const pipeCapacity: Lesson = {
  name: 'pipe-capacity',
  title: 'Both sides write more than the pipe holds before reading, and deadlock',
  run(say) {
    const capacity = measureCapacity();
    const [r, w] = pipe();
    const reported = fcntl(w, F_GETPIPE_SZ);
    close(r);
    close(w);
    const maxSize = Number(fs.readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    const raised = measureCapacity(maxSize);
    const softPages = Number(fs.readFileSync('/proc/sys/fs/pipe-user-pages-soft', 'utf8'));
    say(
      `A new pipe here holds ${reported} bytes (F_GETPIPE_SZ): filling a non-blocking one\n` +
        `until EAGAIN gives ${capacity}.\n` +
        "That is the default, 16 pages; once a user's pipes hold more than\n" +
        `pipe-user-pages-soft pages (${softPages} here), their new pipes get only one or\n` +
        'two pages (pipe(7); not for CAP_SYS_RESOURCE). F_SETPIPE_SZ raises it,\n' +
        `without privileges up to /proc/sys/fs/pipe-max-size (${maxSize} here); raised\n` +
        `so, the same pipe took ${raised} bytes. Any size can fill.\n`,
    );
    say(`The mistake: two processes each write ${SIZE / 1024} KiB to the other, and only then\nread.\n`);
    let { pids } = exchange(false);
    const stuck = pids.map((pid) => waitBounded(pid, 700) === null);
    const states = pids.map((pid) => `${processState(pid)} in ${blockedIn(pid)}`);
    say(
      `  after 700 ms both are still there:\n  ${states.join(', ')}.\n` +
        '  Each waits in write() for the other to read, and neither ever will: a\n' +
        '  deadlock.\n',
    );
    // Stopped first, so that neither sees the other die (and an EPIPE) before its own end.
    // kill() returns before the stop takes effect: wait until both are stopped.
    pids.forEach((pid) => kill(pid, 'SIGSTOP'));
    pids.forEach((pid) => waitpid(pid, WUNTRACED));
    pids.forEach(killAndReap);

    say(
      'The fix: non-blocking descriptors and poll(): each side sleeps in poll()\n' +
        'until it can read or write, then reads whatever has arrived and writes what\n' +
        'fits.\n',
    );
    ({ pids } = exchange(true));
    const statuses = pids.map((pid) => waitBounded(pid, 10_000));
    say(`  both sent and received ${SIZE / 1024} KiB and exited: ${statuses.map((s) => s?.exitCode).join(', ')}.\n`);
    return {
      capacity,
      reported,
      raised,
      maxSize,
      softPages,
      deadlocked: stuck.every(Boolean),
      fixExitCodes: statuses.map((s) => s?.exitCode ?? null),
    };
  },
};

// Both sides write more than the pipe holds before reading: deadlock.
import { close, fork, O_NONBLOCK, pipe, read, sleep, write } from '../../index';
import { blockedIn, killAndReap, processState, waitBounded, type Lesson } from './common';

/** Fills a non-blocking pipe until the kernel says EAGAIN: that is its capacity. */
function measureCapacity(): number {
  const [r, w] = pipe(O_NONBLOCK);
  const chunk = Buffer.alloc(4096);
  let total = 0;
  try {
    for (;;) total += write(w, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EAGAIN') throw error;
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
    while (sent < SIZE || received < SIZE) {
      let progressed = false;
      for (const step of [
        () => sent < SIZE && (sent += write(writeFd, data, sent, Math.min(16384, SIZE - sent))) > 0,
        () => received < SIZE && (received += read(readFd, sink)) > 0,
      ]) {
        try {
          progressed = step() || progressed;
        } catch (error) {
          if ((error as { code?: string }).code !== 'EAGAIN') throw error;
        }
      }
      if (!progressed) sleep(1);
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
    say(`A pipe holds a fixed amount: filling a non-blocking one until EAGAIN gives ${capacity} bytes here\n` +
      '(the F_GETPIPE_SZ value; 16 pages by default on Linux).\n');
    say(`The mistake: two processes each write ${SIZE / 1024} KiB to the other, and only then read.\n`);
    let { pids } = exchange(false);
    const stuck = pids.map((pid) => waitBounded(pid, 700) === null);
    const states = pids.map((pid) => `${processState(pid)} in ${blockedIn(pid)}`);
    say(`  after 700 ms both are still there: ${states.join(', ')}. Each waits in write() for the other\n` +
      '  to read, and neither ever will: a deadlock.\n');
    // Stopped first, so that neither sees the other die (and an EPIPE) before its own end.
    pids.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    pids.forEach(killAndReap);

    say('The fix: non-blocking descriptors, alternating a bounded write with a read of whatever has arrived.\n');
    ({ pids } = exchange(true));
    const statuses = pids.map((pid) => waitBounded(pid, 10_000));
    say(`  both sent and received ${SIZE / 1024} KiB and exited: ${statuses.map((s) => s?.exitCode).join(', ')}.\n`);
    return {
      capacity,
      deadlocked: stuck.every(Boolean),
      fixExitCodes: statuses.map((s) => s?.exitCode ?? null),
    };
  },
};

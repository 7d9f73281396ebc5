// A pipe as a barrier: a parent's read returns end of file only once every
// child has closed its copy of the write end.
import * as fs from 'node:fs';
import { close, fork, pipe, read, waitpid, write } from '../../index';
import { openFds, pipeEnd, processState } from '../../internal/proc';
import { blockedIn, killAndReap, readLine, waitBounded, waitUntil, type Lesson } from './common';

const CHILDREN = 3;

/** The processes of one run: the waiting parent, its children, and the pipes that release each child. */
interface Barrier {
  parent: number;
  children: number[];
  inode: number;
  /** go[i]: a write end; a line written there lets child i finish its work. */
  go: number[];
  report: number;
}

/**
 * Forks the parent of the barrier: it makes the pipe, forks the children
 * (each reads its go line, closes its write end, exits), then reads the pipe.
 * `keepWriteEnd`: the mistake, the parent keeps its own copy of the write end.
 */
function startBarrier(keepWriteEnd: boolean): Barrier {
  const goPipes = Array.from({ length: CHILDREN }, () => pipe());
  const [report, reportW] = pipe();
  const parent = fork(() => {
    close(report);
    const [r, w] = pipe();
    const children = goPipes.map(([goR], i) =>
      fork(() => {
        close(r);
        for (const [otherR, otherW] of goPipes) {
          close(otherW);
          if (otherR !== goR) close(otherR);
        }
        readLine(goR); // the work: here, waiting until the lesson says go
        close(w);
        write(reportW, `child ${i} (pid ${process.pid}) closed\n`);
      }),
    );
    for (const end of goPipes.flat()) close(end);
    if (!keepWriteEnd) close(w);
    const inode = fs.fstatSync(r).ino;
    write(reportW, `${children.join(' ')} ${inode}\n`);
    const n = read(r, Buffer.alloc(1));
    const statuses = children.map((pid) => waitpid(pid).exitCode);
    write(reportW, `${n} ${statuses.join(' ')}\n`);
  });
  close(reportW);
  for (const [goR] of goPipes) close(goR);
  const children = readLine(report).split(' ').map(Number);
  const inode = children.pop()!;
  return { parent, children, inode, go: goPipes.map(([, goW]) => goW), report };
}

/** The processes that hold the barrier's write end, from /proc/PID/fd and fdinfo. */
function writeEndHolders(barrier: Barrier): number[] {
  return [barrier.parent, ...barrier.children].filter((pid) =>
    openFds(pid).some((f) => f.pipe === barrier.inode && pipeEnd(f.flags!) === 'write'),
  );
}

/** Whether the parent is asleep in a pipe read and stays there for `ms`. */
function blockedInRead(parent: number, ms: number): boolean {
  return (
    waitUntil(() => processState(parent) === 'S' && /pipe_read/.test(blockedIn(parent)), 1000) &&
    waitBounded(parent, ms) === null
  );
}

/** Lets child i finish; what it reports once it has closed its write end. */
function release(barrier: Barrier, i: number): string {
  write(barrier.go[i], 'go\n');
  close(barrier.go[i]);
  return readLine(barrier.report);
}

export const pipeBarrier: Lesson = {
  name: 'pipe-barrier',
  title: 'A pipe as a barrier: EOF once the last child closes',
  run(say) {
    say(
      `A parent makes a pipe and forks ${CHILDREN} children; each does its work (here:\n` +
        'it waits for a go from this process), then closes its write end and exits.\n' +
        'The parent reads the pipe: nothing is ever written, so the read returns\n' +
        'only at end of file, when no process holds a write end. This process\n' +
        'lets the children go one by one, last forked first, and before each go\n' +
        `watches the parent for 200 ms, and which of the ${CHILDREN + 1} hold a write end.\n`,
    );
    const barrier = startBarrier(false);
    let wchan = '';
    const steps: { holders: number; blocked: boolean }[] = [];
    for (let i = CHILDREN - 1; i >= 0; i--) {
      const blocked = blockedInRead(barrier.parent, 200);
      const holders = writeEndHolders(barrier);
      wchan ||= blockedIn(barrier.parent);
      steps.push({ holders: holders.length, blocked });
      say(
        `  parent ${barrier.parent}: ${processState(barrier.parent)} in ${blockedIn(barrier.parent)}; ` +
          `write end held by ${holders.length} (/proc/PID/fd).\n`,
      );
      say(`  ${release(barrier, i)} its write end.\n`);
    }
    const [n, ...statuses] = readLine(barrier.report).split(' ').map(Number);
    const status = waitBounded(barrier.parent, 5000) ?? killAndReap(barrier.parent);
    close(barrier.report);
    say(
      `  the parent's read returned ${n} (end of file); it reaped its children\n` +
        `  (exited ${statuses.join(', ')}) and exited ${status.exitCode}.\n`,
    );

    say(
      'The mistake: the parent keeps its own write end. All children finish, and\n' +
        'still no end of file: the parent itself holds a write end.\n',
    );
    const stuck = startBarrier(true);
    for (let i = CHILDREN - 1; i >= 0; i--) release(stuck, i);
    const allExited = waitUntil(() => stuck.children.every((pid) => processState(pid) === 'Z'), 5000);
    const stuckBlocked = blockedInRead(stuck.parent, 300);
    const holders = writeEndHolders(stuck);
    say(
      `  all ${CHILDREN} children ${allExited ? 'are zombies (state Z)' : 'closed their ends'}; ` +
        `300 ms later the parent is ${processState(stuck.parent)}\n` +
        `  in ${blockedIn(stuck.parent)}; the write end is held by pid ${holders.join(', ')} ` +
        `(the parent: ${stuck.parent}).\n` +
        '  It would wait for ever; it is killed.\n',
    );
    killAndReap(stuck.parent);
    close(stuck.report);
    say('The fix: the parent closes its write end before it reads (the first run).\n');
    return {
      wchan,
      steps,
      readResult: n,
      childStatuses: statuses,
      parentExit: status.exitCode,
      stuckChildrenExited: allExited,
      stuckBlocked,
      stuckHolders: holders.length,
      stuckHolderIsParent: holders.length === 1 && holders[0] === stuck.parent,
    };
  },
};

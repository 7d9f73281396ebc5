// Three children exit while SIGCHLD is blocked: one signal is left pending, not three.
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { close, fork, isSyscallError, pipe, read, waitpid, WNOHANG, write } from '../../index';
import { nativeInternals } from '../../native';
import { maskHas, processState, signalMasks } from '../../internal/proc';
import { waitBounded, waitUntil, type Lesson } from './common';

const CHILDREN = 3;

/** Whether SIGCHLD is pending for this process, from /proc/self/status (ShdPnd: process-wide; SigPnd: this thread). */
function sigchldPending(): boolean {
  const masks = signalMasks('/proc/self/status');
  return maskHas(masks.ShdPnd, 'SIGCHLD') || maskHas(masks.SigPnd, 'SIGCHLD');
}

interface Seen {
  threads: number;
  othersBlockIt: boolean;
  allZombies: boolean;
  pendingWhileBlocked: boolean;
  reapedOnce: number;
  zombiesLeft: number;
  reapedInLoop: number;
  left: number;
}

/**
 * Runs in a child of fork(), which has one thread: blocking SIGCHLD there
 * blocks it for the whole process (Node's own threads would take it otherwise).
 */
function observe(): Seen {
  // A listener, so that SIGCHLD is caught (by libuv's handler) rather than ignored. It cannot run
  // here: Node runs listeners on the event loop, and this child's life is this synchronous function.
  process.on('SIGCHLD', () => {});
  nativeInternals.lessonBlockSignal(constants.signals.SIGCHLD, true);
  const pids: number[] = [];
  for (let i = 0; i < CHILDREN; i++) pids.push(fork(() => {}));
  const allZombies = waitUntil(() => pids.every((pid) => processState(pid) === 'Z'), 5000);
  const pendingWhileBlocked = sigchldPending();
  const tasks = fs.readdirSync('/proc/self/task');
  const threads = tasks.length;
  const othersBlockIt = tasks
    .filter((tid) => Number(tid) !== process.pid)
    .map((tid) => signalMasks(`/proc/self/task/${tid}/status`).SigBlk)
    .filter((mask) => mask !== undefined) // a thread that ended meanwhile
    .every((mask) => maskHas(mask, 'SIGCHLD'));
  nativeInternals.lessonBlockSignal(constants.signals.SIGCHLD, false);
  const reapedOnce = waitpid(-1, WNOHANG).pid !== 0 ? 1 : 0; // what a handler that reaps one per call does
  const zombiesLeft = pids.filter((pid) => fs.existsSync(`/proc/${pid}`) && processState(pid) === 'Z').length;
  let reapedInLoop = 0;
  try {
    while (waitpid(-1, WNOHANG).pid !== 0) reapedInLoop++;
  } catch (error) {
    if (!isSyscallError(error, 'ECHILD')) throw error;
  }
  const left = pids.filter((pid) => fs.existsSync(`/proc/${pid}`)).length;
  return { threads, othersBlockIt, allZombies, pendingWhileBlocked, reapedOnce, zombiesLeft, reapedInLoop, left };
}

export const sigchld: Lesson = {
  name: 'sigchld',
  title: 'Three children exit, one SIGCHLD is pending: standard signals merge, so reap in a WNOHANG loop',
  run(say) {
    say(
      `A process blocks SIGCHLD, forks ${CHILDREN} children that exit at once, and reads its\n` +
        'pending signals in /proc/self/status. (It is a child of this one: there every\n' +
        'thread but the one that blocks it already blocks all signals, so SIGCHLD\n' +
        "stays pending; Node's own threads would take it here.)\n",
    );
    const [r, w] = pipe();
    const pid = fork(() => {
      close(r);
      write(w, JSON.stringify(observe()));
    });
    close(w);
    let text = '';
    const buf = Buffer.alloc(1024);
    for (let n; (n = read(r, buf)) > 0;) text += buf.toString('utf8', 0, n);
    close(r);
    waitBounded(pid, 5000);
    const seen = JSON.parse(text) as Seen;
    say(
      `  that process has ${seen.threads} threads; the others block SIGCHLD\n` +
        `  (SigBlk in /proc/self/task/*/status): ${seen.othersBlockIt}.\n` +
        `  All ${CHILDREN} children are zombies: ${seen.allZombies}; SIGCHLD pending: ${seen.pendingWhileBlocked}.\n` +
        '  The kernel keeps one bit per standard signal, not a count (signal(7)):\n' +
        '  three exits, one pending SIGCHLD, so a handler would run once when it is\n' +
        '  unblocked.\n',
    );
    say(
      'The mistake: a handler that calls waitpid once per call.\n' +
        'No handler runs in this lesson: after unblocking, it makes the call such a\n' +
        'handler makes, waitpid(-1, WNOHANG), once.\n',
    );
    say(
      `  that waitpid reaped ${seen.reapedOnce}; ${seen.zombiesLeft} zombies are left, and no signal will\n` +
        '  come for them.\n',
    );
    say('The fix: in the handler, loop waitpid(-1, WNOHANG) until it returns 0\n(or ECHILD).\n');
    say(`  the loop reaped ${seen.reapedInLoop} more; ${seen.left} left.\n`);
    return { ...seen };
  },
};

// SIGCHLD set to SIG_IGN, or SA_NOCLDWAIT: the kernel reaps the children at
// once, and waitpid has nothing left to report.
import { close, fork, isSyscallError, pipe, poll, POLLIN, waitpid, write } from '../../index';
import { nativeInternals } from '../../native';
import { processState } from '../../internal/proc';
import { blockedIn, killAndReap, readLine, waitBounded, waitUntil, type Lesson } from './common';

const CHILDREN = 3;

/** SIGCHLD's disposition in the forked process: the code lessonSetSigchld takes, and how to say it. */
const MODES = [
  { code: 0, name: 'the default (SIG_DFL)' },
  { code: 1, name: 'SIG_IGN' },
  { code: 2, name: 'SIG_DFL with SA_NOCLDWAIT' },
] as const;

/** The state letter of `pid` in /proc/PID/stat, or 'gone' once it has no entry. */
function stateOrGone(pid: number): string {
  try {
    return processState(pid);
  } catch {
    return 'gone'; // reaped: /proc has no entry for it
  }
}

interface Run {
  /** The state that child 0 reached once it had exited: Z, or gone. */
  firstFate: string;
  /** Whether a child stayed in state Z, still Z in /proc 100 ms after it first showed Z. */
  zombieStayed: boolean;
  /** Whether waitpid(-1) was still blocked (no report, asleep in the kernel's wait) 200 ms after the call, two children alive. */
  waitBlocked: boolean;
  wchan: string;
  /** What the loop of waitpid(-1) reported, in order: 'exited N' per child, then the error code. */
  waits: string[];
}

/**
 * A process (forked: Node's own process needs SIGCHLD for child_process)
 * sets SIGCHLD's disposition, forks the children, and calls waitpid(-1)
 * until ECHILD once told to. This process lets the children exit one at a
 * time and reads their states in /proc.
 */
function observe(mode: 0 | 1 | 2): Run {
  const goPipes = Array.from({ length: CHILDREN }, () => pipe());
  const [cmdR, cmdW] = pipe();
  const [report, reportW] = pipe();
  const parent = fork(() => {
    for (const fd of [...goPipes.map(([, goW]) => goW), cmdW, report]) close(fd);
    nativeInternals.lessonSetSigchld(mode);
    const pids = goPipes.map(([goR]) => fork(() => void readLine(goR)));
    write(reportW, `${pids.join(' ')}\n`);
    readLine(cmdR); // "wait"
    for (;;) {
      try {
        const status = waitpid(-1);
        write(reportW, `exited ${status.exitCode}\n`);
      } catch (error) {
        if (!isSyscallError(error)) throw error;
        write(reportW, `${error.code}\n`);
        return;
      }
    }
  });
  for (const fd of [...goPipes.map(([goR]) => goR), cmdR, reportW]) close(fd);
  const pids = readLine(report).split(' ').map(Number);
  let zombieStayed = false;
  // A child the kernel reaps itself can show Z for an instant inside its exit
  // (exit_notify marks it a zombie, then dead): only a Z that stays is a zombie.
  const release = (i: number): string => {
    write(goPipes[i][1], 'go\n');
    waitUntil(() => ['Z', 'gone'].includes(stateOrGone(pids[i])), 5000);
    if (stateOrGone(pids[i]) === 'Z') waitUntil(() => stateOrGone(pids[i]) === 'gone', 100);
    const fate = stateOrGone(pids[i]);
    if (fate === 'Z') zombieStayed = true;
    return fate;
  };
  const firstFate = release(0);
  write(cmdW, 'wait\n');
  const waits: string[] = [];
  // Any report within 200 ms is waitpid returning; none, with the process asleep
  // in the kernel's wait (wchan do_wait on this kernel; the name varies), is it blocking.
  let waitBlocked = false;
  let wchan = '';
  if (mode === 0) waits.push(readLine(report));
  else {
    waitBlocked =
      waitUntil(() => processState(parent) === 'S' && /wait/.test(blockedIn(parent)), 1000) &&
      !poll([{ fd: report, events: POLLIN }], 200)[0].readable;
    wchan = blockedIn(parent);
  }
  for (let i = 1; i < CHILDREN; i++) release(i);
  for (let line; (line = readLine(report)) !== '';) waits.push(line);
  for (const fd of [...goPipes.map(([, goW]) => goW), cmdW, report]) close(fd);
  if (waitBounded(parent, 5000) === null) killAndReap(parent);
  return { firstFate, zombieStayed, waitBlocked, wchan, waits };
}

export const noZombies: Lesson = {
  name: 'no-zombies',
  title: 'SIGCHLD ignored (or SA_NOCLDWAIT): no zombies',
  run(say) {
    say(
      `A process sets SIGCHLD's disposition and forks ${CHILDREN} children (it is a child\n` +
        "of this one: Node's own process needs SIGCHLD for child_process). This\n" +
        'one lets the children exit one at a time and reads /proc/PID/stat;\n' +
        'after the first has exited, that process loops on waitpid(-1).\n',
    );
    const runs = MODES.map(({ code }) => observe(code));
    const [dfl, ign, nocldwait] = runs;
    say('The mistake: SIGCHLD at SIG_DFL (the default), a parent that waits late.\n');
    say(
      `  child 0 exited: state ${dfl.firstFate}, a zombie until waitpid. waitpid(-1)\n` +
        `  reported: ${dfl.waits.join(', ')}.\n`,
    );
    say(
      'The fix, for a parent that never needs the statuses: SIGCHLD set to\n' +
        'SIG_IGN, or SA_NOCLDWAIT; the kernel reaps each child as it exits.\n',
    );
    for (const [i, run] of [ign, nocldwait].entries()) {
      say(
        `  ${MODES[i + 1].name}: child 0 exited: ` +
          `${run.firstFate === 'gone' ? 'gone from /proc' : `state ${run.firstFate}`};\n` +
          `  ${run.zombieStayed ? 'a child stayed' : 'no child stayed'} in state Z for 100 ms after its exit.\n` +
          `  waitpid(-1) ${run.waitBlocked ? `blocked (${run.wchan}) while two children ran` : 'did not block'}; ` +
          `then: ${run.waits.join(', ')}.\n`,
      );
    }
    say('  (waitpid waits for all the children, then fails: none is left to report.)\n');
    return { default: dfl, ignore: ign, noCldWait: nocldwait };
  },
};

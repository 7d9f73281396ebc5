// A child learns that its parent died: PR_SET_PDEATHSIG (and its race), and
// a pidfd that polls readable when a process ends.
import {
  close,
  fork,
  getpid,
  getppid,
  isSyscallError,
  pidfdOpen,
  pipe,
  poll,
  POLLIN,
  read,
  setParentDeathSignal,
  sleep,
  waitpid,
  write,
} from '../../index';
import { nativeInternals } from '../../native';
import { readStat } from '../../internal/proc';
import { killAndReap, readLine, waitBounded, waitUntil, type Lesson } from './common';

/** none: the child asks for nothing; set: it calls setParentDeathSignal; late: it calls it once its parent has gone. */
type Mode = 'none' | 'set' | 'late';

interface Orphaned {
  parent: number;
  child: number;
  parentExit: number | null;
  /** getppid() in the child right after its call (or at its start, with none). */
  ppidAfterCall: number;
  /** The child's parent in /proc/PID/stat after its parent's exit, while it still ran; 0 if it did not. */
  adoptedBy: number;
  /** 'killed by SIGTERM', or 'running' when it was still running 300 ms after its parent's exit. */
  fate: string;
}

/** In the subreaper: a parent forks a child that loops for ever, then exits. */
function orphan(mode: Mode): Orphaned {
  const [report, reportW] = pipe();
  const [readyR, readyW] = pipe();
  const parent = fork(() => {
    const me = getpid();
    fork(() => {
      if (mode === 'late') waitUntil(() => getppid() !== me, 5000);
      if (mode !== 'none') setParentDeathSignal('SIGTERM');
      write(reportW, `${getpid()} ${getppid()}\n`);
      close(readyW); // the parent may exit now
      for (;;) sleep(1000);
    });
    close(readyW);
    if (mode !== 'late') read(readyR, Buffer.alloc(1)); // end of file once the child has made its call
  });
  close(reportW);
  close(readyW);
  close(readyR);
  const parentExit = waitpid(parent).exitCode;
  const [child, ppidAfterCall] = readLine(report).split(' ').map(Number);
  close(report);
  const status = waitBounded(child, 300);
  const adoptedBy = status === null ? readStat(child).ppid : 0;
  const end = status ?? killAndReap(child);
  const fate = status === null ? 'running' : end.signaled ? `killed by ${end.signal}` : `exited ${end.exitCode}`;
  return { parent, child, parentExit, ppidAfterCall, adoptedBy, fate };
}

interface Seen {
  subreaper: number;
  runs: Record<Mode, Orphaned>;
}

export const parentDeath: Lesson = {
  name: 'parent-death',
  title: "A child learns of its parent's death: PDEATHSIG, pidfd",
  run(say) {
    say(
      'A process makes itself a subreaper (prctl PR_SET_CHILD_SUBREAPER), so that\n' +
        'orphans among its descendants become its children and it reads their wait\n' +
        'status. In it, a parent forks a child that loops for ever, then exits.\n',
    );
    const [report, reportW] = pipe();
    const [goR, goW] = pipe();
    const subreaper = fork(() => {
      close(report);
      close(goW);
      nativeInternals.lessonBecomeSubreaper();
      const runs = { none: orphan('none'), set: orphan('set'), late: orphan('late') };
      write(reportW, `${JSON.stringify({ subreaper: getpid(), runs } satisfies Seen)}\n`);
      // A process this one (the lesson's) did not fork: it exits when it reads a line.
      const worker = fork(() => void readLine(goR));
      write(reportW, `${worker}\n`);
      waitpid(worker);
    });
    close(reportW);
    close(goR);
    const seen = JSON.parse(readLine(report)) as Seen;
    const { none, set, late } = seen.runs;
    say('The mistake: nothing tells the child that its parent has died.\n');
    say(
      `  parent ${none.parent} exited ${none.parentExit}; child ${none.child} (whose parent was ` +
        `${none.ppidAfterCall}) is ${none.fate}\n` +
        `  300 ms later, adopted by ${none.adoptedBy}${none.adoptedBy === seen.subreaper ? ', the subreaper' : ''} ` +
        `(/proc/${none.child}/stat);\n  it is killed.\n`,
    );
    say(
      "The fix: the child calls setParentDeathSignal('SIGTERM') (prctl\n" + 'PR_SET_PDEATHSIG) before anything else.\n',
    );
    say(`  parent ${set.parent} exited ${set.parentExit}; waitpid on child ${set.child}: ${set.fate}.\n`);
    say(
      'The race: the parent dies before the call. This child waits until\n' +
        'getppid() has changed, then makes the call.\n',
    );
    say(
      `  getppid() after the call: ${late.ppidAfterCall}, not ${late.parent}; ${late.fate === 'running' ? 'still running' : late.fate} ` +
        '300 ms later:\n' +
        '  no signal came. So compare getppid() after the call with the pid the\n' +
        '  parent had before fork, and act at once if they differ.\n',
    );

    const worker = Number(readLine(report));
    say(
      `A pidfd: pidfdOpen(${worker}), a process this one did not fork, and poll()\n` +
        'for POLLIN, which comes once it has ended.\n',
    );
    let waitError = '';
    try {
      waitpid(worker);
    } catch (error) {
      if (!isSyscallError(error)) throw error;
      waitError = error.code;
    }
    const pidfd = pidfdOpen(worker);
    const whileRunning = poll([{ fd: pidfd, events: POLLIN }], 0)[0].readable;
    write(goW, 'go\n');
    close(goW);
    const afterExit = poll([{ fd: pidfd, events: POLLIN }], 5000)[0].readable;
    close(pidfd);
    close(report);
    const subreaperStatus = waitBounded(subreaper, 5000) ?? killAndReap(subreaper);
    say(
      `  waitpid(${worker}) here fails ${waitError}: not our child. poll while it runs:\n` +
        `  POLLIN ${whileRunning}; once it is let exit: POLLIN ${afterExit}.\n`,
    );
    return {
      ...seen,
      waitError,
      pidfdWhileRunning: whileRunning,
      pidfdAfterExit: afterExit,
      subreaperExit: subreaperStatus.exitCode,
    };
  },
};

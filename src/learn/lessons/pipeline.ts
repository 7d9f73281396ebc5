// `ls | wc -l` built by hand: pipe, fork, dup2, close, execvp, waitpid; then
// the hang when the parent keeps its write end (TLPI 44.4, xv6's sh.c).
import { spawnSync } from 'node:child_process';
import { close, dup2, execvp, fork, pipe, waitpid } from '../../index';
import { readAll } from '../../internal/io-loops';
import { processState } from '../../internal/proc';
import { blockedIn, killAndReap, waitBounded, waitUntil, type Lesson } from './common';

/** Forks a child that makes `from` its descriptor `to`, closes every pipe end it was given, and runs `argv`. */
function spawnWith(redirects: [from: number, to: number][], ends: number[], argv: string[]): number {
  return fork(() => {
    for (const [from, to] of redirects) dup2(from, to);
    for (const fd of ends) close(fd);
    execvp(argv[0], argv);
  });
}

/** Runs ls | wc -l; wc's output comes back through a third pipe. `keepWriteEnd`: the mistake. */
function lsWc(keepWriteEnd: boolean): {
  count: string;
  lsPid: number;
  wcPid: number;
  result: number;
  out: number;
  w: number;
} {
  const [r, w] = pipe();
  const [out, outW] = pipe();
  const lsPid = spawnWith([[w, 1]], [r, w, out, outW], ['ls']);
  const wcPid = spawnWith(
    [
      [r, 0],
      [outW, 1],
    ],
    [r, w, out, outW],
    ['wc', '-l'],
  );
  close(r);
  close(outW);
  if (!keepWriteEnd) close(w);
  return { count: '', lsPid, wcPid, result: 0, out, w };
}

export const pipeline: Lesson = {
  name: 'pipeline',
  title: 'ls | wc -l by hand (pipe, fork, dup2, close, execvp), and the hang when the parent keeps a write end',
  run(say) {
    say(
      'A shell runs `ls | wc -l` like this: one pipe; a child makes the write end\n' +
        'its fd 1 (dup2) and execs ls; another makes the read end its fd 0 and execs\n' +
        'wc; every process closes the ends it does not use, the parent all of them;\n' +
        'then the parent waits for both.\n',
    );
    const run = lsWc(false);
    const count = readAll(run.out).trim();
    close(run.out);
    const statuses = [waitpid(run.lsPid), waitpid(run.wcPid)].map((s) => s.exitCode);
    const shell = spawnSync('sh', ['-c', 'ls | wc -l'], { encoding: 'utf8' }).stdout.trim();
    say(
      `  wc -l printed ${count}; sh -c 'ls | wc -l' in the same directory prints ${shell}.\n` +
        `  ls and wc exited ${statuses.join(' and ')}.\n`,
    );

    say('The mistake: the parent forgets to close its copy of the write end.\n');
    const stuck = lsWc(true);
    const lsDone = waitBounded(stuck.lsPid, 5000);
    const blocked =
      waitUntil(() => processState(stuck.wcPid) === 'S' && /pipe_read/.test(blockedIn(stuck.wcPid)), 500) &&
      waitBounded(stuck.wcPid, 300) === null;
    const state = `${processState(stuck.wcPid)} in ${blockedIn(stuck.wcPid)}`;
    say(
      `  ls has exited (${lsDone?.exitCode}), yet 300 ms later /proc/${stuck.wcPid}/stat and wchan\n` +
        `  show wc in state ${state}: it waits for more input, because a\n` +
        "  write end (the parent's) is still open. It would wait for ever.\n",
    );
    say('The fix, here late: the parent closes its write end; wc sees end of file and\n' + 'prints its count.\n');
    close(stuck.w);
    const late = readAll(stuck.out).trim();
    close(stuck.out);
    const wcStatus = waitBounded(stuck.wcPid, 5000) ?? killAndReap(stuck.wcPid);
    say(`  wc -l printed ${late} and exited ${wcStatus.exitCode}.\n`);
    return {
      count: Number(count),
      shellCount: Number(shell),
      exitCodes: statuses,
      hungState: blocked ? 'S' : state,
      lateCount: Number(late),
      lateExit: wcStatus.exitCode,
    };
  },
};

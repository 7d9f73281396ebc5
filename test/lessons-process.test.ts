// The lessons on processes working together: pipe-barrier,
// three-stage-pipeline, no-zombies, parent-death, pass-a-descriptor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { LESSONS } from '../src/learn/lessons/index';
import { CLI } from './helpers';

function run(name: string): { result: Record<string, unknown>; text: string } {
  const lesson = LESSONS.find((l) => l.name === name);
  assert.ok(lesson, `lesson ${name} is registered`);
  let text = '';
  const result = lesson.run((t) => (text += t));
  return { result, text };
}

describe('process lessons', () => {
  it('pipe-barrier: the parent stays in a pipe read until the last child closes; its own write end keeps it there', () => {
    const { result, text } = run('pipe-barrier');
    assert.match(result.wchan as string, /pipe_read/);
    // Each child closes in turn: the parent is still in read while any holds a write end.
    assert.deepEqual(result.steps, [
      { holders: 3, blocked: true },
      { holders: 2, blocked: true },
      { holders: 1, blocked: true },
    ]);
    assert.equal(result.readResult, 0);
    assert.deepEqual(result.childStatuses, [0, 0, 0]);
    assert.equal(result.parentExit, 0);
    assert.equal(result.stuckChildrenExited, true);
    assert.equal(result.stuckBlocked, true);
    assert.equal(result.stuckHolderIsParent, true);
    // What it printed is what it observed.
    const wchan = String(result.wchan);
    assert.match(text, new RegExp(`S in ${wchan}; write end held by 3 \\(/proc/PID/fd\\)`));
    assert.match(text, /S in \S+; write end held by 1 \(\/proc\/PID\/fd\)\.\n.*child 0 \(pid \d+\) closed/);
    assert.match(text, /read returned 0 \(end of file\); it reaped its children\n {2}\(exited 0, 0, 0\)/);
    assert.match(text, /are zombies \(state Z\); 300 ms later the parent is S\n {2}in \S*pipe_read/);
  });

  it('three-stage-pipeline: printf | sort | uniq -c prints what sh prints; a failed exec gives 1 uncaught, 127 or 126 with _exit', () => {
    const { result, text } = run('three-stage-pipeline');
    const words = 'pear\napple\npear\nfig\napple\npear\n';
    const shell = spawnSync('sh', ['-c', 'printf "%s" "$1" | sort | uniq -c', 'sh', words], { encoding: 'utf8' });
    assert.match(shell.stdout, /3 pear/);
    assert.equal(result.output, shell.stdout);
    assert.equal(result.shellOutput, shell.stdout);
    assert.deepEqual(result.exitCodes, [0, 0, 0]);
    assert.deepEqual(result.thrownCodes, [1, 0, 0]);
    assert.match(result.thrownStderr as string, /ENOENT/);
    assert.equal(result.shellNotFound, spawnSync('sh', ['-c', 'no-such-program']).status);
    assert.equal(result.shellNotFound, 127);
    assert.deepEqual(result.fixedCodes, [127, 0, 0]);
    assert.equal(result.fixedStderr, 'no-such-program: ENOENT\n');
    assert.equal(result.fixedOutput, '');
    // Found but not executable: the shell says 126, and so does the fixed child.
    assert.equal(result.shellNotExecutable, spawnSync('sh', ['-c', '/dev/null']).status);
    assert.equal(result.shellNotExecutable, 126);
    assert.deepEqual(result.notExecutableCodes, [126, 0, 0]);
    assert.equal(result.notExecutableStderr, '/dev/null: EACCES\n');
    assert.match(text, /\/dev\/null: EACCES; exited 126, 0, 0; sh -c '\/dev\/null' exits 126\./);
    assert.ok(
      text.includes(
        `${shell.stdout.replace(/^/gm, '    ').trimEnd()}\n  waitpid: printf, sort and uniq exited 0, 0, 0; sh -c prints the same.`,
      ),
    );
    assert.match(text, /waitpid: exited 1, 0, 0\. Status 1 is/);
    assert.match(
      text,
      /exits 127 here\.\n {2}its stderr: no-such-program: ENOENT\n {2}waitpid: exited 127, 0, 0; sort and uniq printed nothing\./,
    );
  });

  it('no-zombies: at SIG_DFL an exited child is a zombie; ignored or SA_NOCLDWAIT, none is, and waitpid blocks then fails ECHILD', () => {
    const { result, text } = run('no-zombies');
    const { default: dfl, ignore, noCldWait } = result as Record<string, Record<string, unknown>>;
    assert.equal(dfl.firstFate, 'Z');
    assert.equal(dfl.zombieStayed, true);
    assert.deepEqual(dfl.waits, ['exited 0', 'exited 0', 'exited 0', 'ECHILD']);
    for (const [name, run] of [
      ['SIG_IGN', ignore],
      ['SA_NOCLDWAIT', noCldWait],
    ] as const) {
      assert.equal(run.firstFate, 'gone', name);
      assert.equal(run.zombieStayed, false, name);
      assert.equal(run.waitBlocked, true, name);
      assert.match(run.wchan as string, /wait/, name);
      assert.deepEqual(run.waits, ['ECHILD'], name);
      assert.match(
        text,
        new RegExp(
          `${name}: child 0 exited: gone from /proc;\\n  no child stayed in state Z for 100 ms after its exit\\.`,
        ),
      );
    }
    assert.match(
      text,
      /child 0 exited: state Z, a zombie until waitpid\. waitpid\(-1\)\n {2}reported: exited 0, exited 0, exited 0, ECHILD\./,
    );
    assert.equal(text.match(/waitpid\(-1\) blocked \(\S*wait\S*\) while two children ran; then: ECHILD\./g)?.length, 2);
  });

  it('parent-death: an orphan runs on unless it set a death signal before its parent died; a pidfd polls readable at exit', () => {
    const { result, text } = run('parent-death');
    const subreaper = result.subreaper as number;
    const { none, set, late } = result.runs as Record<string, Record<string, unknown>>;
    assert.equal(none.ppidAfterCall, none.parent);
    assert.equal(none.parentExit, 0);
    assert.equal(none.fate, 'running');
    assert.equal(none.adoptedBy, subreaper);
    assert.equal(set.ppidAfterCall, set.parent);
    assert.equal(set.fate, 'killed by SIGTERM');
    // Too late: the parent had gone before the call, and no signal ever came.
    assert.equal(late.ppidAfterCall, subreaper);
    assert.notEqual(late.ppidAfterCall, late.parent);
    assert.equal(late.fate, 'running');
    assert.equal(result.waitError, 'ECHILD');
    assert.equal(result.pidfdWhileRunning, false);
    assert.equal(result.pidfdAfterExit, true);
    assert.equal(result.subreaperExit, 0);
    assert.match(text, new RegExp(`adopted by ${subreaper}, the subreaper \\(/proc/${none.child}/stat\\)`));
    assert.match(text, new RegExp(`waitpid on child ${set.child}: killed by SIGTERM\\.`));
    assert.match(text, new RegExp(`getppid\\(\\) after the call: ${subreaper}, not ${late.parent}; still running`));
    assert.match(
      text,
      /fails ECHILD: not our child\. poll while it runs:\n {2}POLLIN false; once it is let exit: POLLIN true\./,
    );
  });

  it('pass-a-descriptor: the name fails once unlinked; the passed descriptor shares the file and its offset', () => {
    const { result, text } = run('pass-a-descriptor');
    assert.deepEqual(result, {
      first: 'abcde',
      inheritedNone: true,
      opened: 'ENOENT',
      sameInode: true,
      deleted: true,
      theirPos: 5,
      theirRead: 'fghij',
      ourRead: 'klmno',
      positions: [15, 15],
      exitCode: 0,
    });
    assert.match(text, /reads "abcde" \(fdinfo pos: 5\)/);
    assert.match(text, /its open\(2\) of the name: ENOENT; .*\n.*the child holds no descriptor of it:/);
    assert.match(text, /same inode as this process's fd \d+: true; fdinfo pos there: 5\./);
    assert.match(text, /the child reads "fghij"; then this process reads "klmno"/);
    assert.match(text, /\(pos 15 here, 15 there\)/);
  });

  it('--trace shows the descriptor passed with recvmsg, and the bytes sent and received', () => {
    const cli = spawnSync(process.execPath, [CLI, 'lesson', 'pass-a-descriptor', '--trace'], {
      encoding: 'utf8',
      timeout: 90_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /socketpair\(\d+, \d+\) = \[\d+, \d+\]/);
    assert.match(cli.stderr, /sendmsg\(\d+, "x", \[\d+\], 0\) = 1/);
    assert.match(cli.stderr, /recvmsg\(\d+, "x", 1, 0\) = 1 \(descriptors \[\d+\]\)/);
    assert.doesNotMatch(cli.stderr, /\[object Object\]|\0/);
  });
});

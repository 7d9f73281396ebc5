// The lessons on processes working together: pipe-barrier,
// three-stage-pipeline, no-zombies, parent-death, pass-a-descriptor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { LESSONS } from '../src/learn/lessons/index';
import { CLI } from './helpers';

const NAMES = ['pipe-barrier'];

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
    assert.match(text, new RegExp(`S in ${wchan}; write end held by 3 \\(/proc/\\*/fd\\)`));
    assert.match(text, /S in \S+; write end held by 1 \(\/proc\/\*\/fd\)\.\n.*child 0 \(pid \d+\) closed/);
    assert.match(text, /read returned 0 \(end of file\); it reaped its children\n {2}\(exited 0, 0, 0\)/);
    assert.match(text, /are zombies \(state Z\); 300 ms later the parent is S\n {2}in \S*pipe_read/);
  });

  it('each runs from the command line, plain and under --trace, ends by itself, exits 0, within 80 columns', () => {
    for (const name of NAMES) {
      for (const trace of [[], ['--trace']]) {
        const cli = spawnSync(process.execPath, [CLI, 'lesson', name, ...trace], {
          encoding: 'utf8',
          timeout: 90_000,
          killSignal: 'SIGKILL',
          env: { ...process.env, COLUMNS: '80' },
        });
        const what = `lesson ${name} ${trace.join(' ')}`;
        assert.equal(cli.signal, null, `${what} ended by itself; stderr:\n${cli.stderr.slice(-2000)}`);
        assert.equal(cli.status, 0, `${what}: ${cli.stderr.slice(-2000)}`);
        if (trace.length === 0) assert.equal(cli.stderr, '', what);
        assert.match(cli.stdout, /The fix/);
        for (const line of cli.stdout.split('\n'))
          assert.ok(line.length <= 80, `${what}: ${line.length} columns: ${line}`);
      }
    }
    const list = spawnSync(process.execPath, [CLI, 'lesson', '--list'], { encoding: 'utf8', timeout: 30_000 });
    for (const name of NAMES) {
      const line = list.stdout.split('\n').find((l) => l.startsWith(`${name} `));
      assert.ok(line && line.length <= 80, `lesson --list: ${line}`);
    }
  });
});

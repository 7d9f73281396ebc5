// fork()'s contract in states a program forks in: a hook that throws, a
// 'beforeExit' listener, an agent's pooled sockets, corked output. Each case
// runs test/fixtures/inherit.ts in its own Node process, bounded in time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fixture, runFixture } from './helpers';

/** The fixture's stdout lines and its stderr; it must finish in time and report no hung child. */
function run(args: string[]): { out: string[]; stderr: string } {
  const result = runFixture('inherit', args);
  assert.equal(result.signal, null, `finished in time; stderr:\n${result.stderr}`);
  const out = result.stdout.split('\n').filter(Boolean);
  assert.ok(!out.includes('HUNG'), out.join('\n'));
  return { out, stderr: result.stderr };
}

describe('a registerAtFork hook that throws never changes what fork() does', () => {
  for (const [kind, runsIn] of [
    ['before', 'parent'],
    ['afterInParent', 'parent'],
    ['afterInChild', 'child'],
  ] as const) {
    it(`'${kind}': the parent gets the pid and reaps the child, the child runs childMain, the error is on stderr`, () => {
      const { out, stderr } = run(['throwing-hook', kind]);
      const shown = `${out.join('\n')}\n${stderr}`;
      assert.ok(!out.some((line) => line.startsWith('FORK_THREW')), shown);
      assert.ok(out.includes('PARENT_GOT_PID true'), shown);
      assert.ok(out.includes('CHILD_MAIN_RAN'), shown);
      assert.ok(out.includes('STATUS 0'), shown);
      assert.ok(out.includes(`OTHER_HOOK_RAN_IN ${runsIn}`), 'the next hook still ran');
      assert.match(
        stderr,
        new RegExp(`exception ignored in a registerAtFork '${kind}' hook:\\nError: HOOK_BOOM in ${runsIn}`),
      );
    });
  }
});

describe("fork() inside a 'beforeExit' listener", () => {
  it("a child that scheduled nothing goes straight to 'exit', as Node does, without a second 'beforeExit'", () => {
    const { out } = run(['fork-in-before-exit']);
    const child = out.filter((line) => !line.includes('parent') && !line.startsWith('STATUS'));
    assert.deepEqual(child, ['CHILD_FORKED_IN_BEFORE_EXIT', 'EXIT_IN child 0']);
    assert.ok(out.includes('STATUS 0'), out.join('\n'));
  });

  it("a child that scheduled a timer runs it, then emits 'beforeExit' once more, as Node does", () => {
    const { out } = run(['fork-in-before-exit', 'schedules']);
    const child = out.filter((line) => !line.includes('parent') && !line.startsWith('STATUS'));
    assert.deepEqual(child, ['CHILD_FORKED_IN_BEFORE_EXIT', 'CHILD_TIMER', 'BEFORE_EXIT_IN child', 'EXIT_IN child 0']);
  });
});

describe("an http.Agent holding the parent's pooled keep-alive connections", () => {
  for (const which of ['own', 'global'] as const) {
    it(`${which === 'own' ? 'new http.Agent({ keepAlive: true })' : 'http.globalAgent'}: every request the child makes through it is answered`, () => {
      const { out } = run(['agent-pool', which]);
      assert.ok(out.includes('POOLED 1'), out.join('\n'));
      const child = out.filter((line) => line.startsWith('CHILD_GOT'));
      assert.deepEqual(child, [
        'CHILD_GOT answered /child-0',
        'CHILD_GOT answered /child-1',
        'CHILD_GOT answered /child-2',
      ]);
      assert.ok(out.includes('PARENT_GOT answered /after'), 'the parent still uses its pool');
      assert.ok(out.includes('STATUS 0'), out.join('\n'));
    });
  }
});

describe('a line written to a cork()ed stdout before fork()', () => {
  const check = (stdout: string): void => {
    const out = stdout.split(/\r?\n/).filter(Boolean);
    assert.ok(out.includes('FORK_REFUSED ERR_FORK_PENDING_OUTPUT'), out.join('\n'));
    assert.equal(out.filter((line) => line === 'CORKED_LINE').length, 1, out.join('\n'));
    assert.ok(out.includes('STATUS 0'), out.join('\n'));
  };

  it('stdout a pipe: fork() refuses while it is held, and once uncorked the line is written once', () => {
    const result = runFixture('inherit', ['corked-stdout']);
    assert.equal(result.signal, null, result.stderr);
    check(result.stdout);
  });

  it('stdout a file: the same', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'corked-')), 'out');
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${fixture('inherit')}" corked-stdout > "${file}"`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.signal, null, result.stderr);
    check(fs.readFileSync(file, 'utf8'));
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

// What a forked child inherits: one test per row of docs/fork.md's table
// (the rows on thread-pool work, spawned processes, Workers, signals, IPC and
// queued writes are tested in busy-child.test.ts). Each case runs
// test/fixtures/inherit.ts in its own Node process, bounded in time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fixture, runFixture, skipUnless } from './helpers';

/** script(1), which runs a command on a terminal of its own, if it is missing. */
function scriptMissing(): string[] {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return probe.error ? ['script(1) (Debian: apt-get install bsdutils)'] : [];
}

function lines(args: string[]): string[] {
  const run = runFixture('inherit', args);
  assert.equal(run.signal, null, `finished in time; stderr:\n${run.stderr}`);
  const out = run.stdout.split('\n').filter(Boolean);
  assert.ok(!out.includes('HUNG'), out.join('\n'));
  return out;
}

describe('the inheritance table, row by row', () => {
  it('a socket the parent reads: every byte reaches the parent, none the child', () => {
    const out = lines(['socket-read']);
    assert.ok(out.includes('PARENT_GOT 100000 OF 100000'), out.join('\n'));
    assert.ok(!out.includes('CHILD_READ_PARENT_SOCKET'));
    assert.ok(out.includes('STATUS 0'));
  });

  it('a listening server: a clean child never accepts on it', () => {
    const out = lines(['server']);
    assert.ok(out.includes('SERVED_BY parent'), out.join('\n'));
  });

  it('a listening server named in fork({ keep }) is served by the child too (prefork)', () => {
    const out = lines(['server', 'keep']);
    assert.ok(out.includes('SERVED_BY child,parent'), out.join('\n'));
  });

  it('timers, intervals, immediates and microtasks pending at the fork run in both processes', () => {
    const out = lines(['timers']);
    for (const kind of ['TIMEOUT', 'IMMEDIATE', 'MICROTASK']) {
      assert.ok(out.includes(`${kind}_IN parent`) && out.includes(`${kind}_IN child`), out.join('\n'));
    }
    assert.ok(out.includes('CHILD_INTERVAL_TICKED 3'));
    assert.ok(out.includes('STATUS 0'));
  });

  it("'beforeExit' and 'exit' listeners registered before the fork run in the child as well", () => {
    const out = lines(['exit-listeners']);
    assert.ok(out.includes('BEFORE_EXIT_IN child') && out.includes('EXIT_IN child 0'), out.join('\n'));
    assert.ok(out.includes('BEFORE_EXIT_IN parent') && out.includes('EXIT_IN parent 0'));
  });

  it('an fs watcher of the parent never fires in the child', () => {
    const out = lines(['fs-watch']);
    assert.ok(
      out.some((l) => l === 'WATCH_EVENT_IN parent'),
      out.join('\n'),
    );
    assert.ok(!out.includes('WATCH_EVENT_IN child'));
    assert.ok(out.includes('STATUS 0'));
  });

  it('stdin the parent reads: every byte reaches the parent, none the child', () => {
    const chunks = 'x'.repeat(5000);
    const run = spawnSync(
      'sh',
      [
        '-c',
        `for i in $(seq 20); do printf '${chunks}'; sleep 0.02; done | "${process.execPath}" "${fixture('inherit')}" stdin`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(run.signal, null);
    const out = run.stdout.split('\n').filter(Boolean);
    assert.ok(out.includes('PARENT_STDIN 100000'), out.join('\n'));
    assert.ok(!out.includes('CHILD_READ_STDIN'));
    assert.ok(out.includes('STATUS 0'));
  });

  it(
    'console output on a terminal (script(1)): every line the child writes arrives, after the parent has printed',
    {
      skip: skipUnless(scriptMissing()),
    },
    () => {
      const run = spawnSync(
        'script',
        ['-qec', `"${process.execPath}" "${fixture('inherit')}" terminal-output`, '/dev/null'],
        {
          encoding: 'utf8',
          timeout: 20_000,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      assert.equal(run.signal, null, `finished in time; output:\n${run.stdout}`);
      const out = run.stdout.split(/\r?\n/).filter(Boolean);
      const expected = ['CHILD_STDOUT 0', 'CHILD_STDERR 0', 'CHILD_STDOUT 2', 'CHILD_STDERR 2', 'CHILD_STDOUT_LATER'];
      for (const line of expected)
        assert.equal(out.filter((l) => l === line).length, 1, `${line} once in:\n${out.join('\n')}`);
      // The parent's terminal stdin, which it reads, is an inert socket in the child.
      assert.ok(out.includes('CHILD_STDIN_STREAM_FD socket'), out.join('\n'));
      assert.ok(!out.includes('STDIN_READ_IN child'));
      assert.ok(out.includes('STATUS 0'), out.join('\n'));
    },
  );
});

describe('fork({ keep }) arguments', () => {
  it('rejects an entry without an open descriptor with ERR_INVALID_ARG_VALUE, before forking', async () => {
    const { close, fork, pipe } = await import('../src/index');
    const net = await import('node:net');
    assert.throws(() => fork({ keep: [new net.Server()] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fork({ keep: [-1] }), { code: 'ERR_INVALID_ARG_VALUE' });
    const [readEnd, writeEnd] = pipe();
    close(readEnd);
    close(writeEnd); // a descriptor number that is not open
    assert.throws(() => fork({ keep: [writeEnd] }), {
      code: 'ERR_INVALID_ARG_VALUE',
      message: new RegExp(`descriptor ${writeEnd}, is not open`),
    });
    assert.throws(() => fork({ keep: 'x' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => fork(() => {}, 7 as never), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

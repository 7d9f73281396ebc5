// A child of a busy program (issue 16): work in flight at the fork belongs to
// the parent, and the child neither runs it, repeats it, nor waits for it.
// Each case runs test/fixtures/busy.ts in its own Node process, bounded in time.
import assert from 'node:assert/strict';
import { fork as nodeFork, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { busyFixtureLines as lines, fixture, nprocLimitable, runFixture, skipUnless } from './helpers';

function count(all: string[], line: string): number {
  return all.filter((l) => l === line).length;
}

describe('thread-pool work in flight at the fork', () => {
  it("the parent's pending reads resolve in the parent only; the child's own reads complete", () => {
    const out = lines('pool-in-flight');
    assert.equal(count(out, 'PARENT_READ_DONE_IN parent'), 8);
    assert.equal(count(out, 'PARENT_READ_DONE_IN child'), 0);
    assert.ok(out.includes('CHILD_READS 5'), out.join('\n'));
    assert.ok(out.includes('STATUS 0'));
    assert.ok(!out.includes('HUNG'));
  });

  it('a stat finished on the pool but not yet called back calls back in the parent only', () => {
    const out = lines('stat-completed');
    assert.equal(count(out, 'PARENT_STAT_CALLBACK_IN parent'), 1);
    assert.equal(count(out, 'PARENT_STAT_CALLBACK_IN child'), 0);
    assert.ok(out.includes('CHILD_STAT ok'), out.join('\n'));
    assert.ok(out.includes('STATUS 0'));
  });

  it('appends in flight at the fork are written once: 16 x 64 KiB gives 1 MiB', () => {
    const out = lines('append-in-flight');
    assert.ok(out.includes('STATUS 0'), out.join('\n'));
    assert.ok(out.includes(`FILE_BYTES ${2 ** 20}`), out.join('\n'));
  });
});

describe('processes and Workers of the parent', () => {
  it('a child does not wait for a process its parent spawned, and cannot signal it', () => {
    const out = lines('spawned');
    assert.ok(!out.includes('HUNG'), out.join('\n'));
    assert.ok(out.includes('STATUS 0'), out.join('\n'));
    assert.ok(out.includes('CHILD_KILL_SLEEPER false'), 'kill() in the child reaches nothing');
    assert.ok(!out.some((l) => l.startsWith('SLEEPER_EXIT_IN child')));
  });

  it('an inherited Worker fails at once in the child: postMessage throws, terminate() rejects', () => {
    const out = lines('worker-inherited');
    assert.ok(out.includes('PARENT_WORKER 42'), out.join('\n'));
    assert.ok(out.includes('CHILD_POST ERR_FORKED_CHILD_NO_THREADS'), out.join('\n'));
    assert.ok(out.includes('CHILD_TERMINATE ERR_FORKED_CHILD_NO_THREADS'), out.join('\n'));
    assert.ok(out.includes('STATUS 0'));
  });

  it("children forked while the parent's Workers end and start again get a Worker or a clear refusal, and end (at most 3 in 200 hang)", () => {
    // Each child starts a Worker at once: it answers, or, when a parent's Worker was
    // still starting at the fork, new Worker() throws ERR_FORKED_CHILD_NO_THREADS (exit
    // 4 here). Nothing may abort or fail otherwise. A rarer hang is still there, about 1
    // child in 900 (a parent's Worker thread holding a process-wide lock at the fork,
    // docs/fork.md, Limits): the bound says so.
    const out = lines('worker-churn', ['200'], 120_000).filter((l) => l !== 'HUNG');
    const counts = JSON.parse(out[0].replace(/^CHURN /, ''));
    assert.equal(counts.failed, 0, out[0]);
    assert.ok(counts.hung <= 3, out[0]);
    assert.equal(counts.answered + counts.refused + counts.hung, 200, out[0]);
  });
});

describe('signals sent the moment fork() returns', () => {
  const forks = Number(process.env.BUSY_SIGNAL_FORKS ?? 100);
  it(`reach the child's own listener in ${forks}/${forks} forks, never the parent's`, () => {
    const out = lines('signals', [String(forks)], 120_000);
    assert.deepEqual(out, [`SIGNALS child ${forks} parent 0 other none`]);
  });
});

describe('other inherited channels', () => {
  it('socket writes queued at the fork are sent once, by the parent', () => {
    const out = lines('socket-writes');
    assert.ok(out.includes('QUEUED_AT_FORK true'), 'the case really had queued writes');
    assert.ok(out.includes(`PEER_RECEIVED ${8 * 2 ** 20} OF ${8 * 2 ** 20}`), out.join('\n'));
    assert.ok(out.includes('STATUS 0'));
  });

  it("the IPC channel to the parent's parent is never read by the child", async () => {
    const messages = 100;
    const proc = nodeFork(fixture('busy'), ['ipc-channel'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    let stdout = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    const got = await new Promise<string>((resolve) => {
      proc.on('message', (m) => {
        if (m === 'forked') {
          for (let i = 0; i < messages; i++) proc.send(i);
          proc.send('end');
        } else {
          resolve(String(m));
        }
      });
      proc.on('exit', () => resolve('exited'));
    });
    await new Promise((resolve) => (proc.exitCode !== null ? resolve(null) : proc.once('exit', resolve)));
    clearTimeout(timer);
    assert.equal(got, `GOT ${messages}`);
    assert.match(stdout, /STATUS 0/);
  });

  it('a child that used the thread pool ends cleanly under --inspect', () => {
    for (let i = 0; i < 5; i++) {
      const run = spawnSync(process.execPath, ['--inspect=127.0.0.1:0', fixture('busy'), 'inspect-exit'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(run.signal, null, run.stderr);
      assert.match(run.stdout, /STATUS 0/, run.stderr);
    }
  });

  it("the parent's inspector port refuses connections once the parent closes it, while a child lives", () => {
    const run = spawnSync(process.execPath, ['--inspect=127.0.0.1:0', fixture('busy'), 'inspector-closed'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.signal, null, run.stderr);
    assert.match(run.stdout, /^CONNECT_AFTER_CLOSE ECONNREFUSED$/m, run.stdout + run.stderr);
    assert.match(run.stdout, /^STATUS 0$/m, run.stderr);
  });

  it("fork() inside an 'exit' listener throws ERR_FORK_EXITING", () => {
    const run = runFixture('busy', ['fork-in-exit']);
    assert.equal(run.signal, null);
    assert.equal(run.stdout, 'FORK_IN_EXIT ERR_FORK_EXITING\n', run.stderr);
  });
});

describe('watchers', () => {
  it("a child's own fs.watchFile of a file the parent watches fires in the child, and the parent's listener does not", () => {
    const out = lines('watch-file-both');
    assert.ok(out.includes('CHILD_WATCHFILE_FIRED'), out.join('\n'));
    assert.ok(!out.includes('PARENT_LISTENER_IN child'), out.join('\n'));
    assert.ok(out.includes('STATUS 0'), out.join('\n'));
  });
});

describe('V8 background work of the parent', () => {
  it('an async WebAssembly compile in flight at the fork settles in both; the child compiles its own and ends', () => {
    const out = lines('wasm-compiling');
    for (const line of ['PARENT_COMPILED true', 'CHILD_COMPILED true', 'CHILD_OWN_COMPILED true', 'STATUS 0'])
      assert.equal(count(out, line), 1, `${line}\n${out.join('\n')}`);
    assert.ok(!out.includes('HUNG'));
  });
});

describe('resource limits in the child', () => {
  const { asNobody, missing } = nprocLimitable();
  it(
    'a child that cannot start a thread (RLIMIT_NPROC) still runs V8 background work and ends',
    { skip: skipUnless(missing) },
    () => {
      const [command, ...args] = [...asNobody, process.execPath, fixture('busy'), 'thread-limit'];
      // A child that had started a V8 thread before its limit was set tests nothing: run again (5 runs at most).
      for (let tries = 1; ; tries++) {
        const run = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
        assert.equal(run.signal, null, run.stderr);
        const out = run.stdout.split('\n').filter(Boolean);
        const report = out.join('\n') + run.stderr;
        assert.ok(out.includes('LIMIT_SET yes'), report);
        assert.ok(!out.includes('HUNG'), report);
        assert.ok(out.includes('CHILD_COMPILED'), report);
        assert.ok(out.includes('STATUS 0'), report);
        if (!out.includes('CHILD_THREADS_AT_LIMIT 1') && tries < 5) continue;
        // One thread: the limit held, and the compile ran on the child's main thread.
        assert.ok(out.includes('CHILD_THREADS_AFTER 1'), report);
        break;
      }
    },
  );
});

describe('a busy parent that forks again and again', () => {
  // 40 in npm test; BUSY_STRESS_FORKS=200 node --test dist-dev/test/busy-child.test.js for the full run.
  const forks = Number(process.env.BUSY_STRESS_FORKS ?? 40);
  it(`${forks} children of an HTTP server under load with pool work, a process and a Worker alive`, (t) => {
    const run = runFixture('stress', [String(forks)], 60_000 + forks * 3_000);
    assert.equal(run.signal, null, run.stderr);
    const r = JSON.parse(run.stdout);
    assert.deepEqual(
      { forks: r.forks, completed: r.childrenCompleted, failed: r.childrenFailed, hung: r.hung },
      { forks, completed: forks, failed: 0, hung: 0 },
    );
    assert.ok(r.requests > 0, 'the load generator made requests');
    assert.equal(r.served, r.requests, 'the parent served every request, and only those');
    assert.equal(r.responses, r.requests);
    assert.equal(r.appendedBytes, r.expectedBytes, 'no append written twice or lost');
    assert.ok(r.workerAnswered, "the parent's Worker still answers");
    t.diagnostic(`stress: ${run.stdout.trim()}`);
  });
});

describe('a missing /proc', () => {
  const probe = spawnSync('unshare', ['-rm', 'true'], { encoding: 'utf8', timeout: 10_000 });
  const skip =
    probe.status === 0 ? false : 'needs unshare with user namespaces (util-linux; kernel.unprivileged_userns_clone=1)';
  it('fork() fails with an error that names /proc', { skip }, () => {
    const index = require.resolve('../src/index');
    const code = `try { require(${JSON.stringify(index)}).fork(); console.log('forked'); } catch (e) { console.log(e.code + ' ' + e.message); }`;
    const run = spawnSync(
      'unshare',
      ['-rm', 'sh', '-c', `mount -t tmpfs none /proc && exec "${process.execPath}" -e "$0"`, code],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.match(
      run.stdout,
      /^ENOENT ENOENT: no such file or directory, open \/proc\/self\/maps or \/proc\/self\/smaps \(is \/proc mounted\?\)/,
      run.stderr,
    );
  });
});

describe('an ES-module child', () => {
  it('with an unsettled top-level await ends with status 13, as Node does', () => {
    const program = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'tla.mjs');
    const run = spawnSync(process.execPath, [program, require.resolve('../src/index')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.signal, null, run.stderr);
    assert.equal(run.stdout, 'STATUS 13\n', run.stderr);
  });
});

// fork() inside Node: each point of the child's viability, bounded in time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ipc from '../src/index';
import { missingStrace, traceCommand } from '../src/compare/compare';
import { processOf } from '../src/compare/strace';
import { nativeInternals } from '../src/native';
import { fixture, inChild, runFixture, runFixturePiped, skipUnless } from './helpers';

/** The child's wait status that the fixture's parent printed on stderr. */
function childStatus(stderr: string): ipc.WaitStatus {
  const line = stderr.split('\n').find((l) => l.startsWith('STATUS '));
  assert.ok(line, `no STATUS line in stderr:\n${stderr}`);
  return JSON.parse(line.slice('STATUS '.length));
}

describe('the forked child runs JavaScript', () => {
  it("returns the child pid in the parent and 0 in the child; process.pid is the child's own", () => {
    const parentPid = process.pid;
    const child = inChild((report) => {
      report(JSON.stringify({ pid: process.pid, getpid: ipc.getpid(), ppid: process.ppid }));
    });
    assert.equal(child.timedOut, false);
    assert.equal(child.status.exitCode, 0);
    const seen = JSON.parse(child.report);
    assert.equal(seen.pid, child.status.pid);
    assert.equal(seen.getpid, child.status.pid);
    assert.equal(seen.ppid, parentPid);
    assert.notEqual(seen.pid, parentPid);
  });

  it('garbage collection completes under heavy churn: 512 MB allocated and dropped', () => {
    const child = inChild((report) => {
      let kept: number[][] = [];
      let allocated = 0;
      while (allocated < 512 * 2 ** 20) {
        kept.push(new Array(2 ** 16).fill(allocated)); // 512 KiB of doubles
        allocated += 2 ** 16 * 8;
        if (kept.length > 32) kept = [];
      }
      // When V8 runs its next full collection is its own choice (it may leave
      // hundreds of MB of garbage); a full collection asked for now must finish
      // in the child, on its one thread, and leave only what is still kept.
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      report(JSON.stringify({ allocated, used: getHeapStatistics().used_heap_size, kept: kept.length }));
    }, 60_000);
    assert.equal(child.timedOut, false, 'the child finished');
    assert.equal(child.status.exitCode, 0, child.report);
    const { allocated, used } = JSON.parse(child.report);
    assert.ok(allocated >= 512 * 2 ** 20);
    assert.ok(used < 128 * 2 ** 20, `heap in use after a full collection: ${used} bytes`);
  });

  it('timers, immediates, promises, async fs (the thread pool) and console.log work', () => {
    const run = runFixture('child', ['async']);
    assert.equal(run.stdout, 'timer\npromise 42\nfs.promises true\nfs callback true\nimmediate\n');
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });

  it('a child of a child works too', () => {
    const run = runFixture('child', ['grandchild']);
    assert.equal(run.signal, null);
    assert.equal(run.stdout, 'grandchild true\nchild reaped grandchild 0\n');
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });
});

describe('leaving the child', () => {
  it('process.exit(n) gives status n, runs exit listeners, and stops there', () => {
    const run = runFixture('child', ['exit']);
    assert.equal(run.stdout, 'exit event 7\n');
    assert.equal(childStatus(run.stderr).exitCode, 7);
    assert.equal(run.status, 0);
  });

  it('running off the end gives status 0 after beforeExit and exit, as Node does', () => {
    const run = runFixture('child', ['natural']);
    assert.equal(
      run.stdout,
      [
        'timer then fs: true',
        'promise, pid true',
        'beforeExit 0',
        'more work from beforeExit',
        'beforeExit 0',
        'exit event 0',
        '',
      ].join('\n'),
    );
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });

  it('running off the end honours process.exitCode', () => {
    const run = runFixture('child', ['exitCode']);
    assert.equal(run.stdout, 'ran\n');
    assert.equal(childStatus(run.stderr).exitCode, 5);
  });

  it('an uncaught exception gives status 1 with the error on stderr', () => {
    const run = runFixture('child', ['throw']);
    assert.match(run.stderr, /Error: thrown in the child/);
    const status = childStatus(run.stderr);
    assert.equal(status.exitCode, 1);
    assert.equal(status.signaled, false);
  });

  for (const [mode, code] of [
    ['big', 0],
    ['bigexit', 3],
    ['big-opened', 0],
    ['bigexit-opened', 3],
  ] as const) {
    const how = `${mode.startsWith('bigexit') ? 'process.exit' : 'natural end'}, stdout ${
      mode.endsWith('-opened') ? 'created by the parent' : 'created in the child'
    }`;
    it(`1 MiB printed into a slow pipe arrives whole (${how})`, () => {
      const run = runFixturePiped('child', mode, '(sleep 1; wc -c)');
      assert.equal(run.stdout.trim(), String(2 ** 20));
      assert.equal(childStatus(run.stderr).exitCode, code);
    });
  }
});

describe('what a forked child cannot do fails clearly', () => {
  it('WebAssembly compiles in the child, synchronously and on background threads', () => {
    const run = runFixture('child', ['wasm']);
    assert.deepEqual(run.stdout.split('\n').sort(), [
      '',
      'async compile true',
      'instantiate module true',
      'sync compile true',
    ]);
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });

  it('a Worker started before the fork neither hangs the child nor breaks the parent', () => {
    const run = runFixture('child', ['worker']);
    assert.equal(run.signal, null, 'finished in time');
    assert.match(run.stdout, /child without the worker thread\n/);
    assert.match(run.stdout, /parent's worker answered 42\n/);
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });

  it('fork() in a Worker thread is refused with ERR_FORK_NOT_MAIN_THREAD', async () => {
    const { Worker } = await import('node:worker_threads');
    const index = require.resolve('../src/index');
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       try { require(${JSON.stringify(index)}).fork(); parentPort.postMessage('forked'); }
       catch (e) { parentPort.postMessage(e.code); }`,
      { eval: true },
    );
    const answer = await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    assert.equal(answer, 'ERR_FORK_NOT_MAIN_THREAD');
  });

  it('fork() refuses while stdout still holds queued output (the child would write it again)', () => {
    const run = runFixturePiped('child', 'pending', '(sleep 1; wc -c)');
    assert.match(run.stderr, /RESULT ERR_FORK_PENDING_OUTPUT/);
    assert.equal(run.stdout.trim(), String(2 ** 20), 'the output is written once, whole');
  });
});

describe('the parent is unchanged by the fork', () => {
  it('its event loop runs on, and its stdout keeps its own file status flags', () => {
    const run = runFixturePiped('child', 'parent-unchanged', 'cat');
    assert.equal(run.stdout, 'child output\n');
    assert.match(run.stderr, /TIMER true/);
    const [, before, after] = /FLAGS (\d+) (\d+)/.exec(run.stderr)!;
    assert.equal(after, before);
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });

  it('fork() leaves a blocking stdout pipe blocking (it does not create process.stdout)', () => {
    const run = runFixturePiped('child', 'stdout-untouched', 'cat');
    assert.match(run.stderr, /NONBLOCK false/);
    assert.equal(childStatus(run.stderr).exitCode, 0);
  });

  it("Node's MADV_DONTFORK marks are back on V8's heap after the fork", () => {
    const before = nativeInternals.dontforkRegionCount();
    assert.ok(before > 0, 'V8 marks its heap MADV_DONTFORK');
    const pid = ipc.fork();
    if (pid === 0) ipc._exit(0);
    const after = nativeInternals.dontforkRegionCount();
    assert.equal(ipc.waitpid(pid).exitCode, 0);
    assert.equal(after, before);
  });
});

describe("a child's first wait on a lock", { skip: skipUnless(missingStrace()) }, () => {
  it('does not sleep to measure the CPU clock: the parent measured it before fork()', () => {
    const { calls, stdout } = traceCommand([process.execPath, fixture('cpu-clock')]);
    // "parent PID RATE" and "child PID RATE"; RATE is null where Node has no abseil (Node 20).
    const printed = new Map(
      stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [role, pid, rate] = line.split(' ');
          return [role, { pid: Number(pid), rate }];
        }),
    );
    const parent = printed.get('parent')!;
    const child = printed.get('child')!;
    assert.equal(child.rate, parent.rate, 'the child has the rate the parent measured');
    const owner = processOf(calls, parent.pid);
    const sleeps = (pid: number) => calls.filter((c) => c.name.endsWith('nanosleep') && owner.get(c.tid) === pid);
    assert.deepEqual(sleeps(child.pid), [], 'the child made no sleep');
    if (parent.rate === 'null') return; // nothing measures
    assert.ok(Number(parent.rate) > 0);
    // Where: on the engine's thread, or on the main thread when a lock there was contended
    // before the first fork() loaded the engine (abseil then measures on the waiting thread).
    assert.ok(sleeps(parent.pid).length > 0, 'the parent measured');
  });
});

describe('registerAtFork', () => {
  it('runs before hooks last-registered first, after hooks in order, in the right process', () => {
    const calls: string[] = [];
    const off1 = ipc.registerAtFork({
      before: () => calls.push('before 1'),
      afterInParent: () => calls.push('parent 1'),
      afterInChild: () => calls.push('child 1'),
    });
    const off2 = ipc.registerAtFork({
      before: () => calls.push('before 2'),
      afterInParent: () => calls.push('parent 2'),
      afterInChild: () => calls.push('child 2'),
    });
    const child = inChild((report) => report(calls.join(',')));
    off1();
    off2();
    assert.equal(child.report, 'before 2,before 1,child 1,child 2');
    assert.deepEqual(calls, ['before 2', 'before 1', 'parent 1', 'parent 2']);
    const none = inChild((report) => report(String(calls.length)));
    assert.equal(none.report, '4', 'unregistered hooks no longer run');
  });
});

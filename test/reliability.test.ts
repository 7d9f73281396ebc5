// Faults on purpose: a peer that dies, signals every millisecond, a child that
// throws, garbage arguments, thousands of forks. Each test is bounded in time.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as path from 'node:path';
import * as ipc from '../src/index';
import { readFull, untracedWrite, writeAll } from '../src/internal/io-loops';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { childrenOf, processState, wchan } from '../src/internal/proc';
import { CLI, fixture, inChild, runFixture } from './helpers';

const { pipe, fork, read, write, close, waitpid, _exit } = ipc;

function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

function childCount(): number {
  return childrenOf(process.pid).length;
}

describe('peer death', () => {
  it('child killed mid-exchange: read gives 0, write gives EPIPE, waitpid reports SIGKILL', () => {
    const [parentRead, childWrite] = pipe();
    const [childRead, parentWrite] = pipe();
    const pid = fork(() => {
      close(parentRead);
      close(parentWrite);
      const buf = Buffer.alloc(64);
      for (;;) {
        const n = read(childRead, buf);
        if (n === 0) return;
        write(childWrite, buf.subarray(0, n));
      }
    });
    close(childRead);
    close(childWrite);
    write(parentWrite, 'ping');
    const buf = Buffer.alloc(64);
    assert.equal(read(parentRead, buf), 4);
    process.kill(pid, 'SIGKILL');
    const status = waitpid(pid);
    assert.equal(status.signaled, true);
    assert.equal(status.signal, 'SIGKILL');
    assert.equal(read(parentRead, buf), 0, 'end of file once the only writer is gone');
    assert.throws(() => write(parentWrite, 'ping'), { code: 'EPIPE', syscall: 'write' });
    close(parentRead);
    close(parentWrite);
  });

  it('the demo reports a killed child in one line and exits non-zero', async () => {
    const demo = spawn(process.execPath, [CLI], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stderr.on('data', (d) => (stderr += d));
    const killed = new Promise<void>((resolve) => {
      demo.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('Parent message 2\n') && !stdout.includes('killed')) {
          stdout += '(killed)';
          process.kill(childrenOf(demo.pid!)[0], 'SIGKILL');
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => demo.on('close', resolve));
    await killed;
    assert.equal(code, 1);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0],
      /^bidirectional-ipc: EPIPE: broken pipe, write \(the child, pid \d+, was killed by SIGKILL\)$/,
    );
  });

  it('parent killed mid-exchange: the child sees end of file and exits by itself within 2 s', async () => {
    const demo = spawn(process.execPath, [CLI], { stdio: ['ignore', 'pipe', 'ignore'] });
    const reaped = new Promise((resolve) => demo.once('close', resolve));
    const childPid = await new Promise<number>((resolve) => {
      let seen = '';
      demo.stdout.on('data', (d) => {
        seen += d;
        if (seen.includes('Child received: Parent message 1\n')) {
          const child = childrenOf(demo.pid!)[0];
          demo.kill('SIGKILL');
          resolve(child);
        }
      });
    });
    demo.stdout.resume();
    const deadline = Date.now() + 2000;
    const gone = () => {
      const stat = `/proc/${childPid}/stat`;
      if (!existsSync(stat)) return true;
      try {
        return processState(childPid) === 'Z'; // exited, not yet reaped by init
      } catch {
        return true;
      }
    };
    while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(gone(), `child ${childPid} still running 2 s after its parent died`);
    // The killed demo is this process's child: reaped here, it is not left as a
    // zombie for the child counts of the tests below.
    await reaped;
  });
});

describe('output to a full non-blocking pipe', () => {
  it("a tool's writer sleeps in poll(2) until the pipe has room, instead of spinning", () => {
    const [r, w] = ipc.pipe(ipc.O_NONBLOCK);
    const total = 256 * 1024;
    const writer = ipc.fork(() => {
      ipc.close(r);
      writeAll(w, Buffer.alloc(total, 1), untracedWrite);
      ipc._exit(0);
    });
    ipc.close(w);
    // Nobody reads until the pipe is full and the writer has been seen asleep (or 5 s have passed).
    let state = '';
    let where = '';
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !(state === 'S' && /poll/.test(where))) {
      ipc.sleep(10);
      if (ipc.bytesQueued(r) < ipc.fcntl(r, ipc.F_GETPIPE_SZ)) continue;
      where = wchan(writer);
      state = processState(writer);
    }
    ipc.fcntl(r, ipc.F_SETFL, 0);
    const got = readFull(r, Buffer.alloc(total + 1));
    ipc.close(r);
    assert.equal(ipc.waitpid(writer).exitCode, 0);
    assert.equal(got, total, 'every byte arrived');
    assert.equal(state, 'S', `the writer waits asleep, not running (last seen: ${state} in ${where})`);
    assert.match(where, /poll/);
  });
});

describe('signals', () => {
  // Interrupts this thread with SIGALRM every millisecond, through a handler
  // without SA_RESTART: every blocking call here fails with EINTR inside the
  // addon, which must retry it (Node's own handlers would mask that).
  const interrupter = (
    process.env.BIDIRECTIONAL_IPC_TEST_SIGNALS
      ? require(process.env.BIDIRECTIONAL_IPC_TEST_SIGNALS)
      : require(path.join(PACKAGE_ROOT, 'test', 'build', 'Release', 'test_signals.node'))
  ) as { start(us: number): void; stop(): number };

  it('10,000 messages and their echoes under a signal every 1 ms: no error, no byte lost or duplicated', (t) => {
    const [parentRead, childWrite] = pipe();
    const [childRead, parentWrite] = pipe();
    const count = 10_000;
    const size = 37;
    interrupter.start(1000);
    const pid = fork(() => {
      interrupter.start(1000);
      close(parentRead);
      close(parentWrite);
      const buf = Buffer.alloc(size);
      for (let i = 0; i < count; i++) {
        if (readFull(childRead, buf) !== size) throw new Error('short message');
        writeAll(childWrite, buf);
      }
      interrupter.stop();
    });
    close(childRead);
    close(childWrite);
    const sent = createHash('sha256');
    const received = createHash('sha256');
    const message = Buffer.alloc(size);
    const echo = Buffer.alloc(size);
    let lost = 0;
    for (let i = 0; i < count; i++) {
      message.write(`message ${String(i).padStart(8, '0')} `.padEnd(size, '.'));
      sent.update(message);
      writeAll(parentWrite, message);
      if (readFull(parentRead, echo) !== size) lost++;
      received.update(echo);
    }
    const status = waitpid(pid);
    const signals = interrupter.stop();
    close(parentRead);
    close(parentWrite);
    assert.equal(lost, 0);
    assert.equal(received.digest('hex'), sent.digest('hex'));
    assert.equal(status.exitCode, 0);
    assert.ok(signals >= 10, `only ${signals} signals arrived during the exchange`);
    t.diagnostic(`${count} round trips of ${size} bytes, ${signals} signals in the parent, 0 bytes lost`);
  });

  it('a blocking waitpid and sleep under a signal every 1 ms', (t) => {
    interrupter.start(1000);
    const pid = fork(() => ipc.sleep(300));
    const before = process.hrtime.bigint();
    ipc.sleep(100);
    const slept = Number(process.hrtime.bigint() - before) / 1e6;
    const status = waitpid(pid);
    const signals = interrupter.stop();
    assert.equal(status.exitCode, 0);
    assert.ok(slept >= 100, `sleep(100) returned after ${slept} ms`);
    assert.ok(signals > 100, `only ${signals} signals arrived`);
    t.diagnostic(`${signals} signals during sleep(100) and a 300 ms waitpid`);
  });
});

describe('the child stays in its lane', () => {
  it('under node --test, children never run the harness: each test reported once', () => {
    // Without the variable that tells a nested runner it reports to a parent runner.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', fixture('lane')], {
      encoding: 'utf8',
      timeout: 60_000,
      env,
    });
    const output = run.stdout + run.stderr;
    assert.equal(run.status, 0, output);
    const reported = output.split('\n').filter((l) => /^\s*(not )?ok \d+ - /.test(l));
    assert.deepEqual(
      reported.map((l) => l.replace(/^\s*ok \d+ - /, '')),
      [
        'a child that throws ends with status 1',
        'a child that returns ends with status 0, or process.exitCode',
        'a child that calls process.exit(n) ends with n',
      ],
    );
    assert.match(output, /# tests 3\n/);
    assert.match(output, /# pass 3\n/);
    assert.match(output, /Error: thrown in the child under test/);
  });

  it('fork(childMain) rejects a non-function before forking', () => {
    assert.throws(() => fork('x' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('bad input', () => {
  it('30,000 random calls across every function: only TypeError, RangeError or errno errors', (t) => {
    let total = 0;
    for (const seed of [1, 2, 3]) {
      const run = runFixture('fuzz', [String(seed), '10000'], 120_000);
      assert.equal(run.signal, null, `seed ${seed}: the process died by ${run.signal}`);
      assert.equal(run.status, 0, run.stderr);
      const outcome = JSON.parse(run.stdout);
      assert.deepEqual(outcome.other, []);
      assert.equal(outcome.returned + outcome.typeErrors + outcome.rangeErrors + outcome.errnoErrors, outcome.calls);
      assert.ok(outcome.typeErrors > 0 && outcome.rangeErrors > 0 && outcome.errnoErrors > 0);
      total += outcome.calls;
      t.diagnostic(`seed ${seed}: ${JSON.stringify(outcome)}`);
    }
    assert.equal(total, 30_000);
  });
});

describe('leaks and zombies', () => {
  it('1,000 rounds of pipe, fork, exchange, close, wait leave no descriptor, child or memory behind', (t) => {
    const fdsBefore = openFdCount();
    const childrenBefore = childCount();
    const rssBefore = process.memoryUsage().rss;
    const buf = Buffer.alloc(16);
    for (let round = 0; round < 1000; round++) {
      const [parentRead, childWrite] = pipe();
      const [childRead, parentWrite] = pipe();
      const pid = fork();
      if (pid === 0) {
        close(parentRead);
        close(parentWrite);
        const n = read(childRead, buf);
        write(childWrite, buf.subarray(0, n));
        _exit(0);
      }
      close(childRead);
      close(childWrite);
      write(parentWrite, `round ${round}`);
      assert.equal(buf.toString('utf8', 0, read(parentRead, buf)), `round ${round}`);
      close(parentRead);
      close(parentWrite);
      assert.equal(waitpid(pid).exitCode, 0);
    }
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    assert.equal(openFdCount(), fdsBefore);
    assert.equal(childCount(), childrenBefore);
    assert.ok(rssGrowth < 64 * 2 ** 20, `RSS grew by ${rssGrowth} bytes`);
    t.diagnostic(
      `1000 rounds: descriptors ${fdsBefore} -> ${openFdCount()}, children ${childrenBefore} -> ${childCount()}, RSS +${(rssGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
  });

  it('a reaped child leaves no zombie; an unreaped one is a zombie until waitpid', () => {
    const child = inChild(() => {});
    assert.equal(child.status.exitCode, 0);
    assert.equal(childCount(), 0);
    const pid = fork(() => {});
    const deadline = Date.now() + 5000;
    const state = () => processState(pid);
    while (state() !== 'Z' && Date.now() < deadline) ipc.sleep(5);
    assert.equal(state(), 'Z');
    waitpid(pid);
    assert.equal(existsSync(`/proc/${pid}`), false);
  });
});

describe('fork under pressure', () => {
  it('250 forks while GC churns and a timer and an fs read are in flight: every child completes', (t) => {
    const run = runFixture('pressure', ['250'], 300_000);
    assert.equal(run.signal, null);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(
      { forks: result.forks, completed: result.completed, hung: result.hung, failed: result.failed },
      { forks: 250, completed: 250, hung: 0, failed: 0 },
    );
    assert.ok(result.parentReads > 0, "the parent's own fs reads completed");
    t.diagnostic(`pressure: ${JSON.stringify(result)}`);
  });
});

// The boundary between the two addons: importing the package and using the
// system calls loads only the core (native/addon.cc); the fork engine
// (native/engine.cc), its Worker bookkeeping and its CPU-clock thread come
// with the first fork(). Each case runs in a Node process of its own, so that
// nothing this test runner loaded counts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const INDEX = path.join(__dirname, '..', 'src', 'index.js');

/**
 * How to start a Node: this one, or BIDIRECTIONAL_IPC_TEST_NODE's words,
 * such as the arm64 Node under qemu-user that .ci/run tests the arm64
 * prebuilt core with (no binfmt_misc there to start it by its path).
 */
const NODE_COMMAND = process.env.BIDIRECTIONAL_IPC_TEST_NODE?.split(' ') ?? [process.execPath];

/** Runs `body` (CommonJS, with `ipc` the package) in a fresh Node; returns what it printed as JSON. */
function inFreshNode(body: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const script = `
    const fs = require('node:fs');
    const { Worker } = require('node:worker_threads');
    const threads = () => fs.readdirSync('/proc/self/task').length;
    const ourMappings = () => [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .filter((line) => line.includes('bidirectional_ipc_')).map((line) => require('node:path').basename(line.split(/\\s+/).pop())))].sort();
    const prototypeShape = () => Reflect.ownKeys(Worker.prototype).map((key) => {
      const d = Object.getOwnPropertyDescriptor(Worker.prototype, key);
      return [String(key), d.value, d.get, d.set, d.writable, d.enumerable, d.configurable];
    });
    const sameShape = (a, b) => a.length === b.length && a.every((entry, i) => entry.every((part, j) => part === b[i][j]));
    ${body}`;
  const [command, ...prefix] = NODE_COMMAND;
  const run = spawnSync(command, [...prefix, '-e', script], { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(run.status, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

// .ci/run builds the fork engine as if for libuv 1.53 (-DIPC_FAKE_UV_MINOR=53,
// native/engine.cc) and points BIDIRECTIONAL_IPC_FAKED_UV_BUILD at it.
const fakedBuild = process.env.BIDIRECTIONAL_IPC_FAKED_UV_BUILD;
const skipFaked =
  fakedBuild || process.env.CI === 'true'
    ? false
    : 'needs BIDIRECTIONAL_IPC_FAKED_UV_BUILD: an engine built with -DIPC_FAKE_UV_MINOR=53 (.ci/run builds it)';
const fakedEnv = { ...process.env, BIDIRECTIONAL_IPC_BUILD: fakedBuild };

it("import registers only what docs/fork.md names: one 'beforeExit' listener, the worker_threads channel", () => {
  const result = inFreshNode(`
    const dc = require('node:diagnostics_channel');
    const listeners = () => Object.fromEntries(process.eventNames().map((name) => [String(name), process.listenerCount(name)]));
    const before = listeners();
    const subscribedBefore = dc.hasSubscribers('worker_threads');
    const ipc = require(${JSON.stringify(INDEX)});
    const [r, w] = ipc.pipe();
    ipc.close(r);
    ipc.close(w);
    const after = listeners();
    const added = Object.fromEntries(Object.keys(after).filter((name) => after[name] !== (before[name] ?? 0))
      .map((name) => [name, after[name] - (before[name] ?? 0)]));
    console.log(JSON.stringify({ added, subscribedBefore, subscribedAfter: dc.hasSubscribers('worker_threads') }));`);
  assert.deepEqual(result, { added: { beforeExit: 1 }, subscribedBefore: false, subscribedAfter: true });
});

/** Loads the package in a fresh Node and uses pipe/write/read: what that changed. */
function coreAlone(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return inFreshNode(
    `
      const shapeBefore = prototypeShape();
      const threadsBefore = threads();
      const ipc = require(${JSON.stringify(INDEX)});
      const threadsAtLoad = threads();
      const [r, w] = ipc.pipe();
      ipc.write(w, 'ping');
      const buf = Buffer.alloc(8);
      const n = ipc.read(r, buf);
      ipc.close(r);
      ipc.close(w);
      console.log(JSON.stringify({
        read: buf.toString('utf8', 0, n),
        threadsBefore,
        threadsAtLoad,
        threadsAfter: threads(),
        mapped: ourMappings(),
        prototypeUnchanged: sameShape(shapeBefore, prototypeShape()),
      }));`,
    env,
  );
}

function assertCoreAlone(result: Record<string, unknown>): void {
  assert.equal(result.read, 'ping');
  assert.deepEqual(result.mapped, ['bidirectional_ipc_core.node']);
  assert.equal(result.threadsAtLoad, result.threadsBefore, 'a thread was started by loading the package');
  assert.equal(result.threadsAfter, result.threadsBefore, 'a thread was started by pipe/write/read');
  assert.equal(result.prototypeUnchanged, true, "Worker.prototype's properties changed");
}

describe('the core addon alone', () => {
  it('require + pipe/write/read: no fork engine mapped, no thread started, Worker.prototype unchanged', () => {
    assertCoreAlone(coreAlone(process.env));
  });

  it('the same with a fork engine built for a libuv outside the checked range', { skip: skipFaked }, () => {
    assert.ok(fakedBuild, 'BIDIRECTIONAL_IPC_FAKED_UV_BUILD is not set');
    assertCoreAlone(coreAlone(fakedEnv));
  });

  it('the first fork() loads the fork engine, and the child knows a Worker the parent started before it', () => {
    // The Worker started before the engine was loaded is found on the heap
    // (src/fork.ts, liveWorkers): in the child its methods refuse, as for
    // every Worker of the parent.
    const result = inFreshNode(`
      const ipc = require(${JSON.stringify(INDEX)});
      const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
      worker.once('online', () => {
        const mappedBefore = ourMappings();
        const [r, w] = ipc.pipe();
        const pid = ipc.fork(() => {
          let code = 'no error';
          try { worker.postMessage('hello'); } catch (error) { code = error.code; }
          ipc.write(w, code);
        });
        ipc.close(w);
        const buf = Buffer.alloc(64);
        const n = ipc.read(r, buf);
        const status = ipc.waitpid(pid);
        worker.terminate();
        console.log(JSON.stringify({
          mappedBefore,
          mappedAfter: ourMappings(),
          childPostMessage: buf.toString('utf8', 0, n),
          exitCode: status.exitCode,
        }));
      });`);
    assert.deepEqual(result.mappedBefore, ['bidirectional_ipc_core.node']);
    assert.deepEqual(result.mappedAfter, ['bidirectional_ipc_core.node', 'bidirectional_ipc_fork.node']);
    assert.equal(result.childPostMessage, 'ERR_FORKED_CHILD_NO_THREADS');
    assert.equal(result.exitCode, 0);
  });
});

it(
  'a fork engine built for a libuv outside the checked range: the calls work, fork() throws ERR_FORK_UNSUPPORTED_NODE',
  { skip: skipFaked },
  () => {
    assert.ok(fakedBuild, 'BIDIRECTIONAL_IPC_FAKED_UV_BUILD is not set');
    const result = inFreshNode(
      `
      const ipc = require(${JSON.stringify(INDEX)});
      const [r, w] = ipc.pipe();
      ipc.write(w, 'ping');
      const buf = Buffer.alloc(8);
      const n = ipc.read(r, buf);
      let refusal = null;
      try { if (ipc.fork() === 0) ipc._exit(0); } catch (error) { refusal = { code: error.code, message: error.message }; }
      console.log(JSON.stringify({ read: buf.toString('utf8', 0, n), refusal }));`,
      fakedEnv,
    );
    assert.equal(result.read, 'ping');
    const refusal = result.refusal as { code: string; message: string };
    assert.equal(refusal?.code, 'ERR_FORK_UNSUPPORTED_NODE');
    assert.ok(refusal.message.includes(`Node ${process.versions.node} with libuv 1.53.`), refusal.message);
    assert.match(refusal.message, /checked for libuv 1\.46 to 1\.52 only/);
  },
);

// Checked before the fork engine is loaded (src/fork.ts): a reversed call
// once ignored childMain, and the child returned into the caller.
it('fork(options, childMain), arguments reversed, throws ERR_INVALID_ARG_TYPE and forks nothing', () => {
  const result = inFreshNode(`
    const ipc = require(${JSON.stringify(INDEX)});
    let error = null;
    try { ipc.fork({ keep: [] }, () => ipc._exit(0)); } catch (e) { error = { code: e.code, message: e.message }; }
    console.log(JSON.stringify({ error, mapped: ourMappings() }));`);
  assert.deepEqual(result.error, {
    code: 'ERR_INVALID_ARG_TYPE',
    message: 'The "childMain" argument must be of type function. Received an instance of Object',
  });
  assert.deepEqual(result.mapped, ['bidirectional_ipc_core.node']);
});

// A fork() the package refuses acts on nothing first: no registerAtFork hook
// has run, no child exists, the parent's signal mask and output are as they
// were. Each case provokes one refusal in a Node process of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { nprocLimitable, readsFilesOnIoUring, skipUnless } from './helpers';

const INDEX = require.resolve('../src/index');

/**
 * A program that counts every hook run and defines `attempt()`: one fork(),
 * then a line with what it threw (or FORKED), the hook counts, whether the
 * signal mask (/proc/self/status SigBlk) is unchanged, and whether a child
 * is left to reap.
 */
const PRELUDE = `
const pkg = require(${JSON.stringify(INDEX)});
const fs = require('fs');
const runs = { before: 0, afterInParent: 0, afterInChild: 0 };
pkg.registerAtFork({
  before: () => runs.before++,
  afterInParent: () => runs.afterInParent++,
  afterInChild: () => runs.afterInChild++,
});
function blockedSignals() {
  try { return /SigBlk:\\s*(\\S+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]; } catch { return 'no /proc'; }
}
function attempt(...args) {
  const mask = blockedSignals();
  let outcome = 'FORKED';
  try {
    const pid = pkg.fork(...args);
    pkg.waitpid(pid);
  } catch (error) {
    outcome = error.code;
  }
  let childLeft = true;
  try { pkg.waitpid(-1, pkg.WNOHANG); } catch (error) { childLeft = error.code !== 'ECHILD'; }
  const report = { outcome, ...runs, maskUnchanged: blockedSignals() === mask, childLeft };
  fs.writeSync(1, 'ATTEMPT ' + JSON.stringify(report) + '\\n');
}
`;

interface Attempt {
  outcome: string;
  before: number;
  afterInParent: number;
  afterInChild: number;
  maskUnchanged: boolean;
  childLeft: boolean;
}

/** Runs PRELUDE + `body` (through `wrap`, an argv prefix, if given) and returns its ATTEMPT line. */
function attemptIn(body: string, options: { env?: NodeJS.ProcessEnv; wrap?: string[] } = {}): Attempt {
  const program = PRELUDE + body;
  const [command, ...args] = [...(options.wrap ?? []), process.execPath, '-e', program];
  const run = spawnSync(command, args, {
    encoding: 'utf8',
    env: options.env ?? process.env,
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(run.signal, null, `finished in time; stderr:\n${run.stderr}`);
  const line = run.stdout.split('\n').find((text) => text.startsWith('ATTEMPT '));
  assert.ok(line !== undefined, run.stdout + run.stderr);
  return JSON.parse(line.slice('ATTEMPT '.length)) as Attempt;
}

/** What a refusal must leave: nothing run, nothing forked, nothing changed. */
function refusedUntouched(code: string): Attempt {
  return { outcome: code, before: 0, afterInParent: 0, afterInChild: 0, maskUnchanged: true, childLeft: false };
}

describe('a refused fork() runs no hook and leaves the parent as it was', () => {
  const uringEnv = { ...process.env, UV_USE_IO_URING: '1' };
  const onRing = readsFilesOnIoUring(uringEnv);
  it(
    'ERR_FORK_IO_URING: libuv reads files on an io_uring (UV_USE_IO_URING=1 on Node 20)',
    { skip: onRing ? false : "this Node's libuv makes no io_uring for files" },
    () => {
      const body = `fs.readFile('/proc/self/status', () => attempt(() => {}));`;
      assert.deepEqual(attemptIn(body, { env: uringEnv }), refusedUntouched('ERR_FORK_IO_URING'));
    },
  );

  it('ERR_FORK_PENDING_OUTPUT: stdout cork()ed with a line in it, which stays held, once', () => {
    const body = `
      process.stdout.cork();
      process.stdout.write('HELD\\n');
      attempt(() => {});
      fs.writeSync(1, 'STILL_CORKED ' + (process.stdout.writableCorked === 1 && process.stdout.writableLength === 5) + '\\n');
      process.stdout.uncork();
    `;
    const run = spawnSync(process.execPath, ['-e', PRELUDE + body], { encoding: 'utf8', timeout: 30_000 });
    const out = run.stdout.split('\n');
    const line = out.find((text) => text.startsWith('ATTEMPT ')) ?? 'ATTEMPT null';
    assert.deepEqual(JSON.parse(line.slice(8)), refusedUntouched('ERR_FORK_PENDING_OUTPUT'), run.stderr);
    assert.ok(out.includes('STILL_CORKED true'), run.stdout);
    assert.equal(out.filter((text) => text === 'HELD').length, 1, 'written once, when uncorked');
  });

  it("ERR_FORK_EXITING: in an 'exit' listener", () => {
    const body = `process.on('exit', () => attempt(() => {}));`;
    assert.deepEqual(attemptIn(body), refusedUntouched('ERR_FORK_EXITING'));
  });

  it('ERR_FORK_NOT_MAIN_THREAD: in a Worker (its hooks run in none)', () => {
    // The Worker runs the same program: PRELUDE, then attempt() on its own thread.
    const body = `new (require('worker_threads').Worker)(${JSON.stringify(PRELUDE)} + 'attempt(() => {});', { eval: true });`;
    assert.deepEqual(attemptIn(body), refusedUntouched('ERR_FORK_NOT_MAIN_THREAD'));
  });

  it('ERR_FORK_RANDOM_INT_PENDING: async randomInt() calls wait for a refill of its cache begun before the first fork()', () => {
    const body = `
      const { randomInt } = require('crypto');
      for (let i = 0; i < 2000; i++) randomInt(0, 2 ** 48 - 1);
      for (let i = 0; i < 1100; i++) randomInt(0, 2 ** 48 - 1, () => {});
      attempt(() => {});
    `;
    assert.deepEqual(attemptIn(body), refusedUntouched('ERR_FORK_RANDOM_INT_PENDING'));
  });

  it('ERR_INVALID_ARG_TYPE: options and childMain swapped', () => {
    assert.deepEqual(attemptIn(`attempt({}, () => {});`), refusedUntouched('ERR_INVALID_ARG_TYPE'));
  });

  const probe = spawnSync('unshare', ['-rm', 'true'], { encoding: 'utf8', timeout: 10_000 });
  it(
    'ENOENT: /proc is not mounted',
    { skip: skipUnless(probe.status === 0 ? [] : ['unshare with user namespaces (util-linux)']) },
    () => {
      const wrap = ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh'];
      const result = attemptIn('attempt(() => {});', { wrap });
      // No /proc: the mask cannot be read, before or after.
      assert.deepEqual(result, refusedUntouched('ENOENT'));
    },
  );
});

describe('output a before hook leaves queued', () => {
  it("ERR_FORK_PENDING_OUTPUT after the hooks: each 'before' is undone by 'afterInParent', the line written once", () => {
    const body = `
      pkg.registerAtFork({
        before: () => { process.stdout.cork(); process.stdout.write('FROM_HOOK\\n'); },
        afterInParent: () => process.stdout.uncork(),
      });
      attempt(() => {});
    `;
    const run = spawnSync(process.execPath, ['-e', PRELUDE + body], { encoding: 'utf8', timeout: 30_000 });
    const out = run.stdout.split('\n');
    const line = out.find((text) => text.startsWith('ATTEMPT ')) ?? 'ATTEMPT null';
    assert.deepEqual(
      JSON.parse(line.slice(8)),
      { ...refusedUntouched('ERR_FORK_PENDING_OUTPUT'), before: 1, afterInParent: 1 },
      run.stderr,
    );
    assert.equal(out.filter((text) => text === 'FROM_HOOK').length, 1, run.stdout);
  });
});

describe('a fork(2) that fails after the hooks ran', () => {
  const { asNobody, missing } = nprocLimitable();
  it(
    "EAGAIN (RLIMIT_NPROC): each 'before' hook is followed by 'afterInParent', as around a fork that worked",
    {
      skip: skipUnless(missing),
    },
    () => {
      // The engine loads first (its thread starts and ends), then the limit is set on this process.
      const body = `
      pkg.prepareFork();
      setTimeout(() => {
        const limit = require('child_process').spawnSync('prlimit', ['--pid', String(process.pid), '--nproc=1:1']);
        if (limit.status !== 0) throw new Error('prlimit: ' + limit.stderr);
        attempt(() => {});
      }, 200);
    `;
      assert.deepEqual(attemptIn(body, { wrap: asNobody }), {
        outcome: 'EAGAIN',
        before: 1,
        afterInParent: 1,
        afterInChild: 0,
        maskUnchanged: true,
        childLeft: false,
      });
    },
  );
});

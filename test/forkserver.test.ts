// The fork server: children forked from a quiet server process on request,
// their stdio straight to the caller's pipes, their ends reaped and
// reported, and the server's own end (close, death, its creator's death).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Readable } from 'node:stream';
import { close, pipe, read, startForkServer, type ForkServer } from '../src/index';
import { childrenOf, processState, readStat } from '../src/internal/proc';
import { fixture, readsFilesOnIoUring, runFixture, within } from './helpers';

const JOBS = fixture('forkserver-jobs');
const DEADLINE_MS = 10_000;

async function text(stream: Readable | null): Promise<string> {
  let out = '';
  for await (const chunk of stream!) out += chunk;
  return out;
}

/** Whether `pid` has ended: gone from /proc, or a zombie nobody has reaped yet. */
function ended(pid: number): boolean {
  try {
    return processState(pid) === 'Z';
  } catch {
    return true;
  }
}

/** Resolves once every pid has ended; rejects after `ms` naming the ones left. */
async function allEnded(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some((pid) => !ended(pid))) {
    if (Date.now() > deadline) throw new Error(`still running after ${ms} ms: ${pids.filter((pid) => !ended(pid))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The first line `stream` gives, without its newline; rejects after DEADLINE_MS. */
function firstLine(stream: Readable): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line within ${DEADLINE_MS} ms; got ${text}`)), DEADLINE_MS);
    const onData = (chunk: Buffer) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(text.slice(0, newline));
    };
    stream.on('data', onData);
  });
}

/** SIGKILL for a process a failed test may leave behind (ESRCH: it is gone). */
function signalIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe('startForkServer and server.fork', () => {
  let server: ForkServer;
  before(async () => {
    (globalThis as { callerMark?: string }).callerMark = 'the caller';
    server = await startForkServer({ preload: [JOBS] });
  });
  after(() => server.close());

  it("runs the export in a child of the server, with the preload's data and none of the caller's state", async () => {
    const child = await server.fork({ module: JOBS, export: 'describeChild', args: ['first'] });
    const [out, status] = await Promise.all([text(child.stdout), child.exited]);
    const seen = JSON.parse(out);
    assert.equal(status.exitCode, 0);
    assert.equal(status.pid, child.pid);
    assert.equal(seen.pid, child.pid);
    assert.equal(seen.ppid, server.pid, "the server is the child's parent");
    assert.equal(seen.tag, 'first');
    assert.equal(seen.catalog, 1000, "init()'s data is there");
    assert.equal(seen.callerMark, null, "the caller's globals are not");
  });

  it("the child's stdio is the caller's pipes themselves, no relay", async () => {
    const child = await server.fork({ module: JOBS, export: 'stdioLinks', args: [5_000] });
    // Its line says the job has started, so the child has its stdio in place.
    const printed = JSON.parse(String(await new Promise((resolve) => child.stdout!.once('data', resolve))));
    const inKernel = [0, 1, 2].map((fd) => readlinkSync(`/proc/${child.pid}/fd/${fd}`));
    const ours = [child.stdin, child.stdout, child.stderr].map((stream) => {
      const fd = (stream as unknown as { _handle: { fd: number } })._handle.fd;
      return readlinkSync(`/proc/self/fd/${fd}`);
    });
    assert.deepEqual(inKernel, ours);
    assert.deepEqual(printed, ours);
    for (const link of ours) assert.match(link, /^pipe:\[\d+\]$/);
    process.kill(child.pid, 'SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL', 'killed by pid from the caller, reaped by the server');
  });

  it("stdin is a Writable, and the job's exit code is reported", async () => {
    const child = await server.fork({ module: JOBS, export: 'upper' });
    child.stdin!.end('through the fork server');
    assert.equal(await text(child.stdout), 'THROUGH THE FORK SERVER');
    const exitCode = await server.fork({ module: JOBS, export: 'exitWith', args: [7], stdio: 'ignore' });
    assert.equal(exitCode.stdout, null);
    assert.equal((await exitCode.exited).exitCode, 7);
  });

  it("the child has one V8 context, no gc global and a plain node's V8 flags, as `node job.js` would", async () => {
    // A second context in the server (one made to reach gc) would make every
    // child build a context of its own to reseed Math.random() in each; a
    // flag left set (--expose-gc) would change V8's cache tag, and Node's
    // builtin modules would then be compiled without their code cache.
    const plain = spawnSync(process.execPath, ['-p', "require('v8').cachedDataVersionTag()"], { encoding: 'utf8' });
    const child = await server.fork({ module: JOBS, export: 'heapExtras' });
    const [out, status] = await Promise.all([text(child.stdout), child.exited]);
    assert.equal(status.exitCode, 0);
    assert.deepEqual(JSON.parse(out), { contexts: 1, gc: 'undefined', execArgv: [], cacheTag: Number(plain.stdout) });
  });

  it('stdio as descriptor numbers, and env', async () => {
    const [readFd, writeFd] = pipe();
    const child = await server.fork({
      module: JOBS,
      export: 'describeChild',
      args: ['numbers'],
      stdio: ['ignore', writeFd, 'inherit'],
      env: { FORK_SERVER_TEST: 'set by the caller' },
    });
    close(writeFd);
    assert.equal((await child.exited).exitCode, 0);
    const buffer = Buffer.alloc(4096);
    const seen = JSON.parse(buffer.toString('utf8', 0, read(readFd, buffer)));
    close(readFd);
    assert.equal(seen.tag, 'numbers');
    assert.equal(seen.env, 'set by the caller');
  });

  it('a job that throws: exited rejects with its message and the exit status', async () => {
    const child = await server.fork({ module: JOBS, export: 'fail', args: ['the job failed'] });
    const [stderr, error] = await Promise.all([
      text(child.stderr),
      child.exited.then(
        () => null,
        (e: unknown) => e,
      ),
    ]);
    assert.ok(error instanceof Error);
    assert.equal((error as { code?: string }).code, 'ERR_FORK_SERVER_JOB_THREW');
    assert.match(error.message, /RangeError: the job failed/);
    assert.equal((error as unknown as { status: { exitCode: number } }).status.exitCode, 1);
    assert.match(stderr, /RangeError: the job failed/);
  });

  it('refuses, Node-shaped, a module or export that does not exist, and args that JSON cannot carry', async () => {
    await assert.rejects(server.fork({ module: fixture('no-such-module') }), { code: 'MODULE_NOT_FOUND' });
    await assert.rejects(server.fork({ module: JOBS, export: 'missing' }), { code: 'ERR_FORK_SERVER_NO_EXPORT' });
    for (const inherited of ['toString', 'constructor', 'hasOwnProperty']) {
      await assert.rejects(server.fork({ module: JOBS, export: inherited }), { code: 'ERR_FORK_SERVER_NO_EXPORT' });
    }
    await assert.rejects(server.fork({ module: JOBS, export: 'notAFunction' }), {
      code: 'ERR_FORK_SERVER_NO_EXPORT',
      message: /of type number/,
    });
    await assert.rejects(server.fork({ module: JOBS, export: 'fail', args: [1n] }), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(server.fork({ module: JOBS, stdio: ['pipe', 'pipe'] as never }), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
    // Refused requests leave the server working.
    const child = await server.fork({ module: JOBS, export: 'exitWith', args: [0] });
    assert.equal((await child.exited).exitCode, 0);
  });
});

describe('the fork server starting', () => {
  it('reports a preload that is missing or whose init throws', async () => {
    await assert.rejects(startForkServer({ preload: [fixture('no-such-module')] }), { code: 'MODULE_NOT_FOUND' });
    await assert.rejects(startForkServer({ preload: [fixture('forkserver-die-on-load')] }), {
      code: 'ERR_FORK_SERVER_DIED',
    });
  });

  it('refuses a preload that leaves work pending: it would never be quiet', async () => {
    await assert.rejects(startForkServer({ preload: [fixture('forkserver-busy-preload')], quietTimeoutMs: 200 }), {
      code: 'ERR_FORK_SERVER_NOT_QUIET',
      message: /Timeout/,
    });
  });
});

describe('the fork server starting, refused or given up', () => {
  // .ci/run builds the fork engine as if for libuv 1.53 (core.test.ts says more).
  const fakedBuild = process.env.BIDIRECTIONAL_IPC_FAKED_UV_BUILD;
  const skipFaked =
    fakedBuild || process.env.CI === 'true' ? false : 'needs BIDIRECTIONAL_IPC_FAKED_UV_BUILD (.ci/run builds it)';
  const UNSETTLED = fixture('forkserver-init-unsettled');
  /** This process's children that are fork servers. */
  const servers = (): number[] =>
    childrenOf(process.pid).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-main');
      } catch {
        return false; // ended meanwhile
      }
    });

  it('an init() whose promise nothing can settle: ERR_FORK_SERVER_INIT_STUCK, naming the preload', async () => {
    await assert.rejects(within(startForkServer({ preload: [UNSETTLED] }), DEADLINE_MS, 'a stuck init'), {
      code: 'ERR_FORK_SERVER_INIT_STUCK',
      message: /forkserver-init-unsettled/,
    });
    await allEnded(servers(), 2_000);
  });

  it('options.signal ends a start whose init() keeps working: AbortError, the server killed', async () => {
    const env = { ...process.env, FORKSERVER_INIT_TICKING: '1' };
    const reason = new Error('given up');
    const controller = new AbortController();
    const starting = startForkServer({ preload: [UNSETTLED], env, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 300);
    await assert.rejects(within(starting, DEADLINE_MS, 'an aborted start'), {
      name: 'AbortError',
      code: 'ABORT_ERR',
      cause: reason,
    });
    await allEnded(servers(), 2_000);
    await assert.rejects(startForkServer({ signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.deepEqual(servers(), [], 'an aborted signal starts nothing');
    await assert.rejects(startForkServer({ signal: 'soon' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it(
    'a fork engine that refuses this Node: the start rejects with its error, not ERR_FORK_SERVER_DIED',
    { skip: skipFaked },
    async () => {
      assert.ok(fakedBuild, 'BIDIRECTIONAL_IPC_FAKED_UV_BUILD is not set');
      await assert.rejects(
        within(
          startForkServer({ env: { ...process.env, BIDIRECTIONAL_IPC_BUILD: fakedBuild } }),
          DEADLINE_MS,
          'a refused engine',
        ),
        { code: 'ERR_FORK_UNSUPPORTED_NODE' },
      );
    },
  );
});

describe('the fork server ending', () => {
  it('close() waits for the children, and with a signal ends them', async () => {
    const server = await startForkServer({ preload: [JOBS] });
    const child = await server.fork({ module: JOBS, export: 'sleepMs', args: [60_000] });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    await server.close({ signal: 'SIGTERM' });
    assert.equal((await child.exited).signal, 'SIGTERM');
    assert.ok(ended(server.pid));
    await assert.rejects(server.fork({ module: JOBS, export: 'exitWith', args: [0] }), {
      code: 'ERR_FORK_SERVER_CLOSED',
    });
  });

  it('a server that dies rejects what waits on it, and every later fork', async () => {
    const server = await startForkServer({ preload: [JOBS] });
    const child = await server.fork({ module: JOBS, export: 'sleepMs', args: [60_000] });
    const dying = server.fork({ module: fixture('forkserver-die-on-load'), export: 'never' });
    await assert.rejects(dying, { code: 'ERR_FORK_SERVER_DIED', message: /SIGKILL/ });
    await assert.rejects(child.exited, { code: 'ERR_FORK_SERVER_DIED' });
    await assert.rejects(server.fork({ module: JOBS, export: 'exitWith', args: [0] }), {
      code: 'ERR_FORK_SERVER_DIED',
    });
    await allEnded([child.pid], 2_000); // it ends with its server
  });

  it('a server killed with SIGKILL leaves no child behind within 2 s', async () => {
    const server = await startForkServer({ preload: [JOBS] });
    const child = await server.fork({ module: JOBS, export: 'sleepMs', args: [60_000] });
    try {
      await firstLine(child.stdout!);
      process.kill(server.pid, 'SIGKILL');
      await assert.rejects(child.exited, { code: 'ERR_FORK_SERVER_DIED' });
      await allEnded([child.pid], 2_000);
    } finally {
      signalIfAlive(child.pid);
    }
  });

  for (const stuck of [false, true]) {
    const when = stuck ? ' while the server is stuck in a blocking call' : '';
    it(`a creator killed with SIGKILL${when} leaves no server and no child behind within 2 s`, async () => {
      const creator = spawn(process.execPath, [fixture('forkserver-creator'), ...(stuck ? ['stuck'] : [])], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let pids: number[] = [];
      try {
        const { server, child } = JSON.parse(await firstLine(creator.stdout!)) as { server: number; child: number };
        pids = [server, child];
        assert.ok(!ended(server) && !ended(child));
        assert.equal(readStat(child).ppid, server, "the child is the server's");
        if (stuck) assert.equal(await firstLine(creator.stderr!), 'stuck');
        creator.kill('SIGKILL');
        await allEnded(pids, 2_000);
      } finally {
        for (const pid of [creator.pid!, ...pids]) signalIfAlive(pid);
        creator.stderr!.destroy();
      }
    });
  }
});

describe('isolation from a busy caller', () => {
  // The caller reads files on io_uring (UV_USE_IO_URING=1), which fork() refuses on Node 20:
  // the server does not take that variable from the caller.
  const uringEnv = { ...process.env, UV_USE_IO_URING: '1' };
  it("200 children from a caller under HTTP load on a keep-alive agent, Worker churn, fs.watch, file I/O on io_uring, an inspector session and timers: every child runs its job and ends, the caller's work is unaffected", () => {
    const run = runFixture('forkserver-busy', ['200'], 150_000, uringEnv);
    assert.equal(run.signal, null, `the fixture finished in time; stderr:\n${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.children, 200);
    assert.equal(result.completed, 200, run.stderr);
    assert.equal(result.hung, 0);
    assert.equal(result.failed, 0, run.stderr);
    assert.equal(result.wrongOutput, 0);
    assert.ok(result.requests > 0);
    assert.equal(result.responses, result.requests, 'every request answered');
    assert.equal(result.badResponses, 0);
    assert.ok(result.workersStarted > 0);
    assert.equal(result.workersEnded, result.workersStarted);
    assert.ok(result.watchEvents > 0 && result.ticks > 0 && result.inspectorReplies > 0);
    assert.equal(result.appendedBytes, result.expectedBytes, 'every append landed once');
    if (readsFilesOnIoUring(uringEnv, true)) assert.ok(result.callerRings > 0, 'the caller read files on io_uring');
  });
});

describe('the fork server benchmark', () => {
  it('bench/forkserver.ts --quick prints the four start latencies and the memory ratio', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', 'bench', 'forkserver.js'), '--quick', '--json'],
      {
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const rows = JSON.parse(run.stdout).rows as { case: string; variant: string; median: number }[];
    const variants = (phase: string) => rows.filter((r) => r.case.includes(phase)).map((r) => r.variant);
    const four = ['fork server', 'child_process.fork', 'new Worker', "Python's multiprocessing forkserver"];
    assert.deepEqual(variants('first line'), four);
    assert.deepEqual(variants('result'), four);
    assert.equal(variants('private memory').length, 2);
    for (const row of rows) assert.ok(row.median > 0, `${row.case} / ${row.variant}`);
  });
});

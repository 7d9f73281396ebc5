// The two real programs in examples/: the prefork HTTP server (serves from
// every worker, restarts a worker that dies, stops cleanly on SIGTERM with no
// zombie) and the warm-fork worker pool (same answer as the two baselines).
// Speed is measured by `npm run bench:examples`, never asserted here.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  childProcessJob,
  forkJob,
  loadCatalog,
  runJob,
  serverJob,
  startCatalogServer,
  workerThreadJob,
} from '../examples/warm-pool';

const EXAMPLES = path.join(__dirname, '..', 'examples');
const DEADLINE_MS = 20_000;

/** Collects a process's stdout lines and resolves when one matches. */
class Lines {
  readonly all: string[] = [];
  #waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  constructor(child: ChildProcess) {
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        this.all.push(line);
        this.#waiters = this.#waiters.filter((w) => (w.match.test(line) ? (w.resolve(line), false) : true));
      }
    });
  }
  next(match: RegExp, after = 0): Promise<string> {
    const seen = this.all.slice(after).find((line) => match.test(line));
    if (seen) return Promise.resolve(seen);
    let timer: NodeJS.Timeout;
    return new Promise<string>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no line matching ${match} within ${DEADLINE_MS} ms; got:\n${this.all.join('\n')}`)),
        DEADLINE_MS,
      );
      this.#waiters.push({ match, resolve });
    }).finally(() => clearTimeout(timer));
  }
}

function get(port: number): Promise<{ pid: number; url: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/hello', agent: false, timeout: 5_000 }, (response) => {
      let body = '';
      response.on('data', (d) => (body += d)).on('end', () => resolve(JSON.parse(body)));
    });
    request.on('error', reject).on('timeout', () => request.destroy(new Error('request timed out')));
  });
}

/** Whether `pid` still exists (a zombie counts: it has not been reaped). */
function exists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

function childrenOf(pid: number): number[] {
  const tasks = path.join('/proc', String(pid), 'task', String(pid), 'children');
  return readFileSync(tasks, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/**
 * The prefork server's life, in either mode: `args` picks it, `workersParent`
 * names the process whose children the workers are (the example itself, or
 * its fork server), read from the example's output.
 */
async function preforkServerLife(args: string[], workersParent: (example: number, lines: Lines) => Promise<number>) {
  const server = spawn(process.execPath, [path.join(EXAMPLES, 'prefork-server.js'), '--workers', '3', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killer = setTimeout(() => server.kill('SIGKILL'), 4 * DEADLINE_MS);
  try {
    const lines = new Lines(server);
    const parent = await workersParent(server.pid!, lines);
    const [, portText, ...pidTexts] = (await lines.next(/^ready /)).split(' ');
    const port = Number(portText);
    const workers = pidTexts.map(Number);
    assert.equal(workers.length, 3);
    assert.deepEqual(childrenOf(parent).sort(), [...workers].sort(), `the workers are children of ${parent}`);

    const served = new Set<number>();
    for (let i = 0; i < 60 && served.size < 2; i++) served.add((await get(port)).pid);
    for (const pid of served) assert.ok(workers.includes(pid), `served by worker ${pid}`);
    assert.ok(served.size >= 2, 'more than one worker accepts on the shared socket');
    assert.ok(!served.has(server.pid!) && !served.has(parent), 'the parents never serve');

    const victim = workers[0];
    const mark = lines.all.length;
    process.kill(victim, 'SIGKILL');
    await lines.next(new RegExp(`^worker ${victim} ended signal SIGKILL$`), mark);
    const replacement = Number((await lines.next(/^worker \d+ ready$/, mark)).split(' ')[1]);
    assert.ok(!workers.includes(replacement));
    assert.equal(exists(victim), false, 'the dead worker was reaped');
    const now = [...workers.slice(1), replacement];
    assert.deepEqual(childrenOf(parent).sort(), now.sort());
    assert.ok(now.includes((await get(port)).pid), 'still serving');

    const exited = new Promise<[number | null, string | null]>((resolve) =>
      server.on('exit', (code, signal) => resolve([code, signal])),
    );
    server.kill('SIGTERM');
    await lines.next(/^stopped$/);
    assert.deepEqual(await exited, [0, null]);
    for (const pid of [...now, parent]) assert.equal(exists(pid), false, `${pid} is gone, not a zombie`);
    assert.equal(lines.all.filter((l) => / ended exit 0$/.test(l)).length, 3, lines.all.join('\n'));
  } finally {
    clearTimeout(killer);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    server.stdout!.destroy(); // a worker left behind would hold it open, and this file with it
  }
}

describe('examples/prefork-server: a prefork HTTP server', () => {
  it('on the fork server: the server holds the socket, its children serve, restart, and end with it', () =>
    preforkServerLife([], async (example, lines) => {
      const forkServer = Number((await lines.next(/^fork server \d+ listening$/)).split(' ')[2]);
      assert.deepEqual(childrenOf(example), [forkServer], "the fork server is the example's only child");
      return forkServer;
    }));

  it('--direct, on fork(): serves from its workers, restarts one that dies, stops on SIGTERM', () =>
    preforkServerLife(['--direct'], async (example) => example));
});

describe('examples/warm-pool: a warm-fork worker pool', () => {
  const records = 20_000;
  const items = loadCatalog(records);
  const job = { tag: 'red', minScore: 500 };
  const expected = runJob(items, job);

  it("a forked worker computes the job on the parent's data and is reaped", async () => {
    assert.ok(expected.count > 0);
    const result = await forkJob(items, job);
    assert.equal(result.count, expected.count);
    assert.equal(result.scoreSum, expected.scoreSum);
    assert.ok(result.privateKiB > 0);
  });

  it('the child_process and worker_threads baselines load the same data and agree', async () => {
    const [viaProcess, viaThread] = await Promise.all([childProcessJob(records, job), workerThreadJob(records, job)]);
    for (const result of [viaProcess, viaThread]) {
      assert.equal(result.count, expected.count);
      assert.equal(result.scoreSum, expected.scoreSum);
    }
  });
});

describe('examples/warm-pool on the fork server', () => {
  it("a job forked from a fork server that preloaded the catalogue gives the direct fork's answer", async () => {
    const records = 20_000;
    const job = { tag: 'blue', minScore: 300 };
    const expected = runJob(loadCatalog(records), job);
    const server = await startCatalogServer(records);
    try {
      const results = await Promise.all([serverJob(server, job), serverJob(server, job)]);
      for (const result of results) {
        assert.equal(result.count, expected.count);
        assert.equal(result.scoreSum, expected.scoreSum);
        assert.ok(result.privateKiB > 0);
      }
    } finally {
      await server.close();
    }
  });

  it('runs as a program: the catalogue in the server, each job a child of it', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(EXAMPLES, 'warm-pool.js'), '--records', '20000', '--jobs', '3'],
      {
        encoding: 'utf8',
        timeout: DEADLINE_MS,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0], /^loaded 20000 records in \d+ ms; fork server \d+ private memory \d+ MiB$/);
    assert.equal(lines.filter((line) => /^job \d: .* -> \d+ items, sum \d+;/.test(line)).length, 3);
  });
});

// A warm-fork worker pool: a parent that has loaded a large data set forks a
// worker per job, and the worker starts with the data already in memory
// (shared copy-on-write), instead of booting Node and loading it again.
//
//   node dist-dev/examples/warm-pool.js [--records N] [--jobs J] [--direct]
//
// By default the data is loaded once in a fork server and each job is a
// child forked from it (serverJob below); --direct keeps the original pool,
// each job forked from this process itself (forkJob).
// Each job runs in a child of fork(childMain): the child computes, writes its
// result as JSON to a pipe and exits; the parent reads the pipe with a
// PipeReader and reaps the child with waitExit, both in its event loop. The
// same job can run the two usual ways, for comparison (examples/bench.ts):
// child_process.fork and worker_threads, each of which must load the data
// itself.
import { fork as forkProcess } from 'node:child_process';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { _exit, fork, OwnedFd, PipeReader, startForkServer, waitExit, type ForkServer } from '../src/index';
import { privateKiB } from './memory';

/** One record of the data set: a few fields, as a catalogue or index would hold. */
export interface Item {
  id: number;
  name: string;
  tags: string[];
  score: number;
}

const TAGS = ['red', 'green', 'blue', 'small', 'large', 'new', 'used', 'sale'];

/** Builds `records` items deterministically; 1,000,000 make about 250 MB of memory. */
export function loadCatalog(records: number): Item[] {
  const items: Item[] = new Array(records);
  let seed = 2463534242;
  // xorshift32: the same data in every process that loads it.
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let id = 0; id < records; id++) {
    items[id] = {
      id,
      name: `item-${id}-${next().toString(36)}`,
      tags: [TAGS[next() % TAGS.length], TAGS[next() % TAGS.length]],
      score: next() % 1000,
    };
  }
  return items;
}

/** A job: count and sum the items with `tag` and a score of at least `minScore`. */
export interface Job {
  tag: string;
  minScore: number;
}

export interface JobResult {
  count: number;
  scoreSum: number;
  /** The worker's private memory at the end of the job, in KiB (see memory.ts). */
  privateKiB: number;
}

export function runJob(items: Item[], job: Job): Omit<JobResult, 'privateKiB'> {
  let count = 0;
  let scoreSum = 0;
  for (const item of items) {
    if (item.score >= job.minScore && item.tags.includes(job.tag)) {
      count++;
      scoreSum += item.score;
    }
  }
  return { count, scoreSum };
}

/** Runs `job` in a forked child of this (warm) process. */
export async function forkJob(items: Item[], job: Job): Promise<JobResult> {
  const [readEnd, writeEnd] = OwnedFd.pipe();
  const reader = new PipeReader(readEnd);
  const pid = fork(() => {
    const bytes = Buffer.from(JSON.stringify({ ...runJob(items, job), privateKiB: privateKiB() }));
    // Blocking writes: the parent reads the other end in its event loop.
    for (let done = 0; done < bytes.length;) done += writeEnd.write(bytes, done);
    writeEnd.close();
    // Straight out: the parent's 'exit' listeners (a test runner's, say) are
    // not the job's to run, and nothing is left to flush.
    _exit(0);
  });
  writeEnd.close();
  const chunks: Buffer[] = [];
  for (let chunk; (chunk = await reader.read()) !== null;) chunks.push(chunk);
  const status = await waitExit(pid);
  if (status.exitCode !== 0) {
    throw new Error(`the job's child ended with ${status.signal ?? `status ${status.exitCode}`}`);
  }
  return JSON.parse(Buffer.concat(chunks).toString());
}

// On the fork server (docs/fork-server.md): this module is the server's
// preload, its init() loads the catalogue once in the server, and each job
// runs in a child forked from that quiet server, which reads the catalogue
// copy-on-write. The caller may be as busy as it likes: the child is a copy
// of the server, not of the caller.

let preloaded: Item[] = [];

/** The fork server's preload: the catalogue, WARM_POOL_RECORDS records (default 1,000,000). */
export async function init(): Promise<void> {
  preloaded = loadCatalog(Number(process.env.WARM_POOL_RECORDS ?? 1_000_000));
}

/** In a child of the fork server: the job on the preloaded catalogue, as JSON on stdout. */
export function serverJobMain(job: Job): void {
  process.stdout.write(JSON.stringify({ ...runJob(preloaded, job), privateKiB: privateKiB() }));
}

/** Starts a fork server that holds a catalogue of `records` records. */
export function startCatalogServer(records: number): Promise<ForkServer> {
  return startForkServer({
    preload: [__filename],
    env: { ...process.env, WARM_POOL_RECORDS: String(records) },
    quietTimeoutMs: 30_000,
  });
}

/** Runs `job` in a child of `server` (see startCatalogServer). */
export async function serverJob(server: ForkServer, job: Job): Promise<JobResult> {
  const child = await server.fork({
    module: __filename,
    export: 'serverJobMain',
    args: [job],
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  for await (const chunk of child.stdout!) text += chunk;
  const status = await child.exited;
  if (status.exitCode !== 0) {
    throw new Error(`the job's child ended with ${status.signal ?? `status ${status.exitCode}`}`);
  }
  return JSON.parse(text);
}

/** Baseline: a new Node process per job (child_process.fork), which loads the data itself. */
export function childProcessJob(records: number, job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const child = forkProcess(__filename, ['--job-worker', JSON.stringify({ records, job })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: JobResult | undefined;
    child.once('message', (message) => (result = message as JobResult));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      result ? resolve(result) : reject(new Error(`the job's process ended with ${signal ?? `status ${code}`}`)),
    );
  });
}

/**
 * Baseline: a new worker thread per job, which loads the data itself (a
 * Worker has a heap of its own). Its memory is the process's growth while it
 * ran, since a thread has no smaps of its own.
 */
export function workerThreadJob(records: number, job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { records, job, baseKiB: privateKiB() } });
    let result: JobResult | undefined;
    worker.once('message', (message) => (result = message as JobResult));
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the worker exited with ${code}`))));
  });
}

function parseCount(argv: string[], name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} must be an integer >= 1`);
  return value;
}

if (!isMainThread && workerData?.job) {
  const { records, job, baseKiB } = workerData as { records: number; job: Job; baseKiB: number };
  const result = runJob(loadCatalog(records), job);
  parentPort!.postMessage({ ...result, privateKiB: privateKiB() - baseKiB });
} else if (require.main === module && process.argv[2] === '--job-worker') {
  const { records, job } = JSON.parse(process.argv[3]) as { records: number; job: Job };
  const result = runJob(loadCatalog(records), job);
  process.send!({ ...result, privateKiB: privateKiB() }, () => process.disconnect());
} else if (require.main === module) {
  const argv = process.argv.slice(2);
  const records = parseCount(argv, 'records', 1_000_000);
  const jobs = parseCount(argv, 'jobs', 5);
  // --direct: the original pool, each job forked from this process itself.
  const direct = argv.includes('--direct');
  const loadStart = performance.now();
  const items = direct ? loadCatalog(records) : [];
  const serverStarting = direct ? null : startCatalogServer(records);
  (async () => {
    const server = await serverStarting;
    const holder = direct ? 'parent' : `fork server ${server!.pid}`;
    const holderKiB = direct ? privateKiB() : privateKiB(server!.pid);
    process.stdout.write(
      `loaded ${records} records in ${(performance.now() - loadStart).toFixed(0)} ms; ` +
        `${holder} private memory ${(holderKiB / 1024).toFixed(0)} MiB\n`,
    );
    for (let i = 0; i < jobs; i++) {
      const job = { tag: TAGS[i % TAGS.length], minScore: 100 * i };
      const start = performance.now();
      const result = direct ? await forkJob(items, job) : await serverJob(server!, job);
      process.stdout.write(
        `job ${i}: ${JSON.stringify(job)} -> ${result.count} items, sum ${result.scoreSum}; ` +
          `${(performance.now() - start).toFixed(1)} ms, worker private ${(result.privateKiB / 1024).toFixed(1)} MiB\n`,
      );
    }
    await server?.close();
  })();
}

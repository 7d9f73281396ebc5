// The fork server's benchmark, a separate case of `npm run bench` (run.ts
// calls it; alone: `node dist-dev/bench/forkserver.js [--quick] [--json]`).
//
// Start latency: time from the request to the job's first line and to its
// result, for the fork server, child_process.fork, a new Worker, and
// Python's multiprocessing forkserver context, each with the same preload
// (the warm pool's catalogue, a small one). Memory: each child's private
// memory (smaps_rollup) with a 250 MB catalogue, the fork server's children
// against child_process.fork children that load the catalogue themselves.
import { fork as forkProcess, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { startForkServer, type ForkServer } from '../src/index';
import { privateKiB } from '../examples/memory';
import { median, summary } from './statistics';

const JOB = path.join(__dirname, 'forkserver-job.js');
const PYTHON = path.join(PACKAGE_ROOT, 'bench', 'baselines', 'forkserver.py');
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const quick = values.quick === true;
const REPS = quick ? 3 : 20;
const LATENCY_RECORDS = quick ? 2_000 : 20_000;
const MEMORY_RECORDS = quick ? 20_000 : 1_000_000; // 1,000,000: about 250 MB
const MEMORY_CHILDREN = quick ? 2 : 4;
/** Requests per block of each variant (see main). */
const BLOCK = 5;

interface Timing {
  first: number;
  result: number;
}

function log(text: string): void {
  process.stderr.write(`bench forkserver: ${text}\n`);
}

/** Resolves with the times (ms since `start`) of the first two lines of `stream`. */
function twoLines(stream: Readable, start: number): Promise<Timing> {
  return new Promise((resolve, reject) => {
    let text = '';
    let first = 0;
    const onData = (chunk: Buffer) => {
      text += chunk;
      const lines = text.split('\n').length - 1;
      if (lines >= 1 && first === 0) first = performance.now() - start;
      if (lines >= 2) {
        stream.off('data', onData);
        resolve({ first, result: performance.now() - start });
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`the job ended after: ${text}`)));
  });
}

/** Resolves when `child` emits 'exit'; made before anything is awaited, so that no 'exit' is missed. */
function exitOf(child: ChildProcess | Worker): Promise<unknown> {
  return new Promise((resolve) => child.once('exit', resolve));
}

async function viaForkServer(server: ForkServer): Promise<Timing> {
  const start = performance.now();
  const child = await server.fork({ module: JOB, export: 'job', args: [false], stdio: ['ignore', 'pipe', 'inherit'] });
  const timing = await twoLines(child.stdout!, start);
  await child.exited;
  return timing;
}

async function viaChildProcess(records: number): Promise<Timing> {
  const start = performance.now();
  const child = forkProcess(JOB, ['--child'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, FORKSERVER_BENCH_RECORDS: String(records) },
  });
  const [timing] = await Promise.all([twoLines(child.stdout!, start), exitOf(child)]);
  return timing;
}

async function viaWorker(records: number): Promise<Timing> {
  const start = performance.now();
  process.env.FORKSERVER_BENCH_RECORDS = String(records);
  const worker = new Worker(JOB, { workerData: { forkServerBench: true } });
  // Listened for at once: a Worker's last messages and its 'exit' can come in one turn.
  const exited = exitOf(worker);
  const timing = await new Promise<Timing>((resolve, reject) => {
    let first = 0;
    worker.on('message', () => {
      if (first === 0) first = performance.now() - start;
      else resolve({ first, result: performance.now() - start });
    });
    worker.once('error', reject);
  });
  await exited;
  return timing;
}

function viaPython(records: number, reps: number): { first: number[]; result: number[] } | null {
  const run = spawnSync('python3', [PYTHON, String(records), String(reps)], {
    encoding: 'utf8',
    timeout: 300_000,
    cwd: path.dirname(PYTHON),
    env: { ...process.env, FORKSERVER_BENCH_RECORDS: String(records), PYTHONPATH: path.dirname(PYTHON) },
  });
  if (run.status !== 0) {
    log(`python3 forkserver failed: ${run.stderr || run.error?.message}`);
    return null;
  }
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

/** Private memory of each child that holds the catalogue: started, job done, measured, then let go. */
async function memory(): Promise<{ forkServer: number[]; childProcess: number[] }> {
  const forkServer: number[] = [];
  const childProcess: number[] = [];
  const server = await startForkServer({
    preload: [JOB],
    env: { ...process.env, FORKSERVER_BENCH_RECORDS: String(MEMORY_RECORDS) },
    quietTimeoutMs: 30_000,
  });
  for (let i = 0; i < MEMORY_CHILDREN; i++) {
    const child = await server.fork({ module: JOB, export: 'job', args: [true], stdio: ['pipe', 'pipe', 'inherit'] });
    await twoLines(child.stdout!, performance.now());
    forkServer.push(privateKiB(child.pid) / 1024);
    child.stdin!.end();
    await child.exited;
  }
  await server.close();
  for (let i = 0; i < MEMORY_CHILDREN; i++) {
    const child = forkProcess(JOB, ['--child', 'hold'], {
      stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
      env: { ...process.env, FORKSERVER_BENCH_RECORDS: String(MEMORY_RECORDS) },
    });
    const exited = exitOf(child);
    await twoLines(child.stdout!, performance.now());
    childProcess.push(privateKiB(child.pid!) / 1024);
    child.stdin!.end();
    await exited;
  }
  return { forkServer, childProcess };
}

/** A row of the table: a figure (median and spread) and what it is against the fork server. */
type Row = { case: string; variant: string; unit: string; ratio: string } & ReturnType<typeof summary>;

async function main(): Promise<void> {
  const rows: Row[] = [];
  const samples: Record<string, Timing[]> = { 'fork server': [], 'child_process.fork': [], 'new Worker': [] };
  log(`latency, ${LATENCY_RECORDS} records preloaded, ${REPS} repetitions`);
  const server = await startForkServer({
    preload: [JOB],
    env: { ...process.env, FORKSERVER_BENCH_RECORDS: String(LATENCY_RECORDS) },
  });
  await viaForkServer(server); // loads the job's module in the server: the warm state
  // Each variant in blocks of its own, the blocks in turn: interleaved one
  // by one, a fork server request came just after a Worker or a child
  // process had ended and shared the cores with their teardown (Python's
  // loop runs in a process of its own, in blocks anyway); in turn, a change
  // of the machine's load reaches every variant alike.
  let python: { first: number[]; result: number[] } | null = { first: [], result: [] };
  for (let done = 0; done < REPS; done += BLOCK) {
    const reps = Math.min(BLOCK, REPS - done);
    for (let rep = 0; rep < reps; rep++) samples['fork server'].push(await viaForkServer(server));
    const block = python === null ? null : viaPython(LATENCY_RECORDS, reps);
    if (python !== null && block !== null) {
      python.first.push(...block.first);
      python.result.push(...block.result);
    } else python = null;
    for (let rep = 0; rep < reps; rep++) samples['child_process.fork'].push(await viaChildProcess(LATENCY_RECORDS));
    for (let rep = 0; rep < reps; rep++) samples['new Worker'].push(await viaWorker(LATENCY_RECORDS));
  }
  await server.close();
  for (const phase of ['first', 'result'] as const) {
    const series: Record<string, number[]> = Object.fromEntries(
      Object.entries(samples).map(([variant, timings]) => [variant, timings.map((t) => t[phase])]),
    );
    if (python) series["Python's multiprocessing forkserver"] = python[phase];
    const ours = median(series['fork server']);
    for (const [variant, xs] of Object.entries(series)) {
      rows.push({
        case: `request → job's ${phase === 'first' ? 'first line' : 'result'} (${LATENCY_RECORDS} records preloaded)`,
        variant,
        unit: 'ms',
        ...summary(xs),
        ratio: variant === 'fork server' ? 'baseline' : `fork server is ${(median(xs) / ours).toFixed(1)} × faster`,
      });
    }
  }
  log(`memory, ${MEMORY_RECORDS} records, ${MEMORY_CHILDREN} children each`);
  const mem = await memory();
  const ours = median(mem.forkServer);
  rows.push(
    {
      case: `private memory per child, ${MEMORY_RECORDS} records`,
      variant: 'fork server child (preloaded)',
      unit: 'MiB',
      ...summary(mem.forkServer),
      ratio: 'baseline',
    },
    {
      case: `private memory per child, ${MEMORY_RECORDS} records`,
      variant: 'child_process.fork (loads the data itself)',
      unit: 'MiB',
      ...summary(mem.childProcess),
      ratio: `${(median(mem.childProcess) / ours).toFixed(1)} × the fork server's`,
    },
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ quick, repetitions: REPS, rows }, null, 2)}\n`);
    return;
  }
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  process.stdout.write(
    [
      '| case | variant | median | spread (min–max) | ratio |',
      '|---|---|---|---|---|',
      ...rows.map(
        (r) => `| ${r.case} | ${r.variant} | ${fmt(r.median)} ${r.unit} | ${fmt(r.min)}–${fmt(r.max)} | ${r.ratio} |`,
      ),
    ].join('\n') + '\n',
  );
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

// `npm run bench:examples`: the examples measured against their baselines in
// the same run, as medians and ratios. Figures from a shared, busy machine
// vary from run to run; compare the ratios, not the absolute numbers.
//
//   node dist-dev/examples/bench.js [--quick] [--workers N] [--reps R] [--records N] [--jobs J]
//
//  1. Thread pool: fs.readFile of a small file while 16 pipes are being read
//     and idle, with PipeReader vs fs.createReadStream (vs no readers).
//  2. Prefork server (fork) vs cluster: time from start until all N workers
//     listen, requests/s from a load generator of our own on 127.0.0.1
//     (keep-alive, bounded in requests and seconds), each worker's private
//     memory (smaps_rollup).
//  3. Warm-fork pool vs child_process.fork and worker_threads: job latency
//     and the worker's private memory, the parent holding >= 200 MB of data.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFile, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../bench/statistics';
import { PipeReader, pipe } from '../src/index';
import { privateKiB } from './memory';
import { childProcessJob, forkJob, loadCatalog, workerThreadJob, type Job, type JobResult } from './warm-pool';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    workers: { type: 'string' },
    reps: { type: 'string' },
    records: { type: 'string' },
    jobs: { type: 'string' },
    'threadpool-case': { type: 'string' },
  },
});
const quick = values.quick === true;
const WORKERS = Number(values.workers ?? 4);
const REPS = Number(values.reps ?? (quick ? 1 : 3));
const RECORDS = Number(values.records ?? (quick ? 50_000 : 1_000_000));
const JOBS = Number(values.jobs ?? (quick ? 1 : 3));
const LOAD = { connections: 32, seconds: quick ? 1 : 3, maxRequests: 200_000 };
const IDLE_PIPES = 16;
const STARVED_MS = 3_000;

const log = (text: string) => process.stdout.write(`${text}\n`);
const fmt = (n: number, digits = 1) => n.toFixed(digits);

// ---- 1. thread pool -----------------------------------------------------------

/** In a process of its own: IDLE_PIPES idle readers of kind `mode`, then one fs.readFile. */
function threadPoolCase(mode: string): void {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ipc-bench-')), 'small.txt');
  writeFileSync(file, 'small');
  for (let i = 0; mode !== 'none' && i < IDLE_PIPES; i++) {
    const [readFd] = pipe();
    const stream = mode === 'PipeReader' ? new PipeReader(readFd).stream : createReadStream('', { fd: readFd });
    stream.on('data', () => {});
  }
  setTimeout(() => {
    const start = performance.now();
    readFile(file, () => {
      process.stdout.write(`${JSON.stringify({ ms: performance.now() - start })}\n`);
      // Threads blocked in read(2) on the pipes would hold up Node's exit.
      process.kill(process.pid, 'SIGKILL');
    });
  }, 100);
}

function benchThreadPool(): void {
  log(`\n1. fs.readFile of a small file while ${IDLE_PIPES} pipes are read and idle (median of ${REPS})`);
  const results: Record<string, number[]> = { none: [], PipeReader: [], 'fs.createReadStream': [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const mode of Object.keys(results)) {
      const run = spawnSync(process.execPath, [__filename, '--threadpool-case', mode], {
        encoding: 'utf8',
        timeout: STARVED_MS,
        killSignal: 'SIGKILL',
      });
      const line = run.stdout.trim().split('\n').pop();
      results[mode].push(line ? JSON.parse(line).ms : Infinity);
    }
  }
  const base = median(results.none);
  for (const [mode, samples] of Object.entries(results)) {
    const m = median(samples);
    const shown = Number.isFinite(m) ? `${fmt(m)} ms` : `not done after ${STARVED_MS} ms (thread pool starved)`;
    log(`   ${mode.padEnd(20)} ${shown}${Number.isFinite(m) ? `   x${fmt(m / base, 2)} of no readers` : ''}`);
  }
}

// ---- 2. prefork vs cluster ------------------------------------------------------

interface ServerRun {
  readyMs: number;
  requestsPerSecond: number;
  workerPrivateMiB: number[];
}

async function runServer(script: string, ...options: string[]): Promise<ServerRun> {
  const start = performance.now();
  const child = spawn(process.execPath, [path.join(__dirname, script), ...options, '--workers', String(WORKERS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const readyLine = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk;
        const line = text.split('\n').find((l) => l.startsWith('ready '));
        if (line) resolve(line);
      });
      child.once('exit', () => reject(new Error(`${script} ended before it was ready`)));
    });
    const readyMs = performance.now() - start;
    const [, port, ...pids] = readyLine.split(' ');
    const requestsPerSecond = await load(Number(port));
    const workerPrivateMiB = pids.map((pid) => privateKiB(Number(pid)) / 1024);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    return { readyMs, requestsPerSecond, workerPrivateMiB };
  } finally {
    clearTimeout(killer);
  }
}

/** Keep-alive GETs from LOAD.connections loops until the time or the count is used up. */
async function load(port: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: LOAD.connections });
  const deadline = performance.now() + LOAD.seconds * 1000;
  let done = 0;
  const start = performance.now();
  const one = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
          response.resume().on('end', resolve);
        })
        .on('error', reject);
    });
  await Promise.all(
    Array.from({ length: LOAD.connections }, async () => {
      while (performance.now() < deadline && done < LOAD.maxRequests) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((performance.now() - start) / 1000);
}

async function benchServers(): Promise<void> {
  log(`\n2. prefork (fork) vs cluster, ${WORKERS} workers, same handler (median of ${REPS})`);
  const runs: Record<string, ServerRun[]> = { prefork: [], cluster: [] };
  for (let rep = 0; rep < REPS; rep++) {
    runs.prefork.push(await runServer('prefork-server.js', '--direct'));
    runs.cluster.push(await runServer('cluster-server.js'));
  }
  const summary = (name: string) => ({
    ready: median(runs[name].map((r) => r.readyMs)),
    rps: median(runs[name].map((r) => r.requestsPerSecond)),
    mem: median(runs[name].flatMap((r) => r.workerPrivateMiB)),
  });
  const f = summary('prefork');
  const c = summary('cluster');
  log(`   ${''.padEnd(34)} ${'prefork'.padStart(10)} ${'cluster'.padStart(10)} ${'prefork/cluster'.padStart(16)}`);
  log(
    `   ${'time until all workers listen, ms'.padEnd(34)} ${fmt(f.ready).padStart(10)} ${fmt(c.ready).padStart(10)} ${fmt(f.ready / c.ready, 2).padStart(16)}`,
  );
  log(
    `   ${'requests/s'.padEnd(34)} ${fmt(f.rps, 0).padStart(10)} ${fmt(c.rps, 0).padStart(10)} ${fmt(f.rps / c.rps, 2).padStart(16)}`,
  );
  log(
    `   ${'private memory per worker, MiB'.padEnd(34)} ${fmt(f.mem).padStart(10)} ${fmt(c.mem).padStart(10)} ${fmt(f.mem / c.mem, 2).padStart(16)}`,
  );
  log(`   (load: ${LOAD.connections} keep-alive connections, ${LOAD.seconds} s or ${LOAD.maxRequests} requests)`);
}

// ---- 3. warm-fork pool ----------------------------------------------------------

async function benchPool(): Promise<void> {
  const loadStart = performance.now();
  const items = loadCatalog(RECORDS);
  const parentMiB = privateKiB() / 1024;
  log(
    `\n3. one job per worker, parent holding ${RECORDS} records (${fmt(parentMiB, 0)} MiB private, ` +
      `loaded in ${fmt(performance.now() - loadStart, 0)} ms); median of ${JOBS} jobs`,
  );
  const ways: [string, (job: Job) => Promise<JobResult>][] = [
    ['warm fork', (job) => forkJob(items, job)],
    ['child_process.fork', (job) => childProcessJob(RECORDS, job)],
    ['worker_threads', (job) => workerThreadJob(RECORDS, job)],
  ];
  const samples: Record<string, { ms: number; mib: number }[]> = Object.fromEntries(ways.map(([n]) => [n, []]));
  for (let i = 0; i < JOBS; i++) {
    const job = { tag: 'red', minScore: 100 * i };
    for (const [name, run] of ways) {
      const start = performance.now();
      const result = await run(job);
      samples[name].push({ ms: performance.now() - start, mib: result.privateKiB / 1024 });
    }
  }
  const fork = samples['warm fork'];
  log(
    `   ${''.padEnd(20)} ${'latency ms'.padStart(11)} ${'x of fork'.padStart(10)} ${'private MiB'.padStart(12)} ${'x of fork'.padStart(10)}`,
  );
  for (const [name] of ways) {
    const ms = median(samples[name].map((s) => s.ms));
    const mib = median(samples[name].map((s) => s.mib));
    const forkMs = median(fork.map((s) => s.ms));
    const forkMib = median(fork.map((s) => s.mib));
    log(
      `   ${name.padEnd(20)} ${fmt(ms).padStart(11)} ${fmt(ms / forkMs, 2).padStart(10)} ${fmt(mib).padStart(12)} ${fmt(mib / forkMib, 2).padStart(10)}`,
    );
  }
}

async function main(): Promise<void> {
  log(
    `bench:examples on ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')}`,
  );
  benchThreadPool();
  await benchServers();
  await benchPool();
  log(
    `\nload average now ${os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')} (a busy machine slows everything; compare ratios)`,
  );
}

if (values['threadpool-case']) threadPoolCase(values['threadpool-case']);
else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });

// `npm run bench`: each case of the addon against baselines built and run in
// the same run, as medians and ratios. `--quick` runs tiny sizes (the smoke
// test in npm test); `--json` prints the results as data. A full run writes
// bench/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildReference } from '../src/compare/compare';

const ROOT = path.resolve(__dirname, '..', '..');
const NODE_CASES = path.join(__dirname, 'node-cases.js');
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const quick = values.quick === true;
const REPS = quick ? 1 : 5;
const SIZES = quick
  ? { pingpong: 300, bulk: 16 * 2 ** 20, percall: 20_000, forkReps: 3, forkMb: [50], demoRuns: 1 }
  : { pingpong: 20_000, bulk: 2 ** 30, percall: 1_000_000, forkReps: 15, forkMb: [50, 300], demoRuns: 3 };

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function buildC(): string {
  const out = path.join(os.tmpdir(), `bidirectional-ipc-bench-${process.pid}`);
  execFileSync('cc', ['-O2', '-o', out, path.join(ROOT, 'bench', 'baselines', 'ipc_bench.c')]);
  return out;
}

/** Runs a program that prints {"seconds": S}; returns S. */
function timed(command: string[], pinned = false): number {
  const argv = pinned ? ['taskset', '-c', '0', ...command] : command;
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`${argv.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!).seconds;
}

function wall(command: string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(command[0], command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`${command.join(' ')} failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row {
  case: string;
  variant: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  /** Median of the per-repetition ratios to the row's baseline. */
  ratio: number | null;
  baseline: string | null;
  target: string;
  met: boolean | null;
}

const rows: Row[] = [];

/** Runs every variant REPS times, interleaved, and adds rows with ratios taken pair by pair. */
function group(
  name: string,
  unit: string,
  scale: (seconds: number) => number,
  variants: [string, () => number][],
  baseline: string,
  targets: Record<string, [string, (ratio: number, value: number) => boolean]>,
): void {
  const samples: Record<string, number[]> = Object.fromEntries(variants.map(([v]) => [v, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [variant, run] of variants) samples[variant].push(scale(run()));
  }
  for (const [variant] of variants) {
    const xs = samples[variant];
    const ratios = xs.map((x, i) => x / samples[baseline][i]);
    const target = targets[variant];
    const ratio = variant === baseline ? null : median(ratios);
    rows.push({
      case: name,
      variant,
      unit,
      median: median(xs),
      min: Math.min(...xs),
      max: Math.max(...xs),
      ratio,
      baseline: variant === baseline ? null : baseline,
      target: target?.[0] ?? '',
      met: target ? target[1](ratio ?? 1, median(xs)) : null,
    });
  }
}

function main(): void {
  log(quick ? 'quick run (tiny sizes)' : 'full run: this takes a few minutes');
  const c = buildC();
  const rustDir = path.dirname(buildReference());
  const rust = path.join(rustDir, 'bench');
  const node = (kind: string, size: number) => [process.execPath, NODE_CASES, kind, String(size)];
  const py = ['python3', path.join(ROOT, 'bench', 'baselines', 'pingpong.py')];
  const n = SIZES.pingpong;
  const perTrip = (s: number) => (s / n) * 1e6;

  for (const pinned of [true, false]) {
    const where = pinned ? 'pinned to one core' : 'free';
    log(`ping-pong, ${where}`);
    group(`ping-pong (${where})`, 'µs per round trip', perTrip, [
      ['Rust', () => timed([rust, 'pingpong', String(n)], pinned)],
      ['addon', () => timed(node('addon-pingpong', n), pinned)],
      ['C', () => timed([c, 'pingpong', String(n)], pinned)],
      ["Python's os", () => timed([...py, String(n)], pinned)],
      ['fs.readSync/writeSync', () => timed(node('fs-pingpong', n), pinned)],
      ['child_process.fork + send', () => timed(node('ipc-pingpong', quick ? 100 : 2000), pinned) * (n / (quick ? 100 : 2000))],
    ], 'Rust', {
      addon: ['≤ 1.10 × Rust', (r) => r <= 1.1],
    });
  }

  log('bulk');
  const bytes = SIZES.bulk;
  const gibPerS = (s: number) => bytes / 2 ** 30 / s;
  group(`bulk: ${bytes / 2 ** 20} MiB parent → child, 64 KiB writes`, 'GiB/s', gibPerS, [
    ['Rust', () => timed([rust, 'bulk', String(bytes)])],
    ['addon', () => timed(node('addon-bulk', bytes))],
    ['C', () => timed([c, 'bulk', String(bytes)])],
    ['fs.writeSync/readSync', () => timed(node('fs-bulk', bytes))],
    ['child_process.spawn stdin', () => timed(node('spawn-bulk', bytes))],
  ], 'Rust', { addon: ['≥ 0.90 × Rust', (r) => r >= 0.9] });

  log('per call');
  const calls = SIZES.percall;
  const nsPerPair = (s: number) => (s / calls) * 1e9;
  group(`per call: 1-byte write + read, ${calls} times`, 'ns per write+read', nsPerPair, [
    ['Rust', () => timed([rust, 'percall', String(calls)])],
    ['addon', () => timed(node('addon-percall', calls))],
    ['fs.writeSync/readSync', () => timed(node('fs-percall', calls))],
  ], 'Rust', { addon: ['≤ 1.5 × Rust', (r) => r <= 1.5] });

  for (const mb of SIZES.forkMb) {
    log(`fork at ${mb} MB`);
    const results = Array.from({ length: REPS }, () => {
      const run = spawnSync(process.execPath, [NODE_CASES, 'fork', String(mb), String(SIZES.forkReps)], { encoding: 'utf8', timeout: 600_000 });
      if (run.status !== 0) throw new Error(`fork case failed: ${run.stderr}`);
      return JSON.parse(run.stdout);
    });
    const series = (key: string) => results.map((r) => median(r[key]) * 1e3);
    const floor = series('floorWholeHeap');
    const rss = median(results.map((r) => r.rssMb)).toFixed(0);
    const add = (variant: string, xs: number[], target: string, ok: ((ratio: number) => boolean) | null, baseline: string | null = 'floor: bare fork, whole heap') => {
      const ratios = xs.map((x, i) => x / floor[i]);
      rows.push({
        case: `fork + child runs JS + _exit + waitpid, ${rss} MB RSS`, variant, unit: 'ms', median: median(xs),
        min: Math.min(...xs), max: Math.max(...xs), ratio: baseline ? median(ratios) : null, baseline,
        target, met: ok ? ok(median(ratios)) : null,
      });
    };
    add('floor: bare fork, whole heap', floor, '', null, null);
    add('addon fork()', series('addon'), '≤ 1.25 × floor', (r) => r <= 1.25);
    add("bare fork, V8's MADV_DONTFORK kept (child cannot run JS)", series('floorBare'), '', null);
    const cp = series('childProcessFork');
    const addonMs = median(series('addon'));
    rows.push({
      case: `fork + child runs JS + _exit + waitpid, ${rss} MB RSS`, variant: 'child_process.fork until first message', unit: 'ms',
      median: median(cp), min: Math.min(...cp), max: Math.max(...cp), ratio: median(cp) / median(floor),
      baseline: 'floor: bare fork, whole heap', target: `addon ≥ 20 × faster (${(median(cp) / addonMs).toFixed(0)} ×)`,
      met: median(cp) / addonMs >= 20,
    });
    const kb = results.map((r) => r.childPrivateKb / 1024);
    rows.push({
      case: `child memory after fork, ${rss} MB RSS`, variant: 'private memory the child adds', unit: 'MB',
      median: median(kb), min: Math.min(...kb), max: Math.max(...kb), ratio: null, baseline: null,
      target: '≤ 5 MB', met: median(kb) <= 5,
    });
  }

  log('demo');
  const rustDemo = path.join(rustDir, 'bidirectional_ipc');
  const demoRows: [string, () => number][] = [
    ['Rust original', () => wall([rustDemo])],
    ['TypeScript demo (npm start)', () => wall([process.execPath, path.join(ROOT, 'dist', 'src', 'cli.js')])],
  ];
  const samples = demoRows.map(() => [] as number[]);
  for (let i = 0; i < SIZES.demoRuns; i++) demoRows.forEach(([, run], k) => samples[k].push(run() * 1e3));
  const [rustMs, tsMs] = samples.map(median);
  demoRows.forEach(([variant], k) => {
    const xs = samples[k];
    rows.push({
      case: 'demo: the whole tutorial program, wall time', variant, unit: 'ms', median: median(xs),
      min: Math.min(...xs), max: Math.max(...xs), ratio: k === 0 ? null : tsMs / rustMs, baseline: k === 0 ? null : 'Rust original',
      target: k === 0 ? '' : `≤ Rust + 80 ms (+${(tsMs - rustMs).toFixed(0)} ms)`, met: k === 0 ? null : tsMs - rustMs <= 80,
    });
  });
  fs.rmSync(c, { force: true });

  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine, quick, repetitions: REPS, rows }, null, 2)}\n`);
    return;
  }
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const table = [
    '| case | variant | median | spread (min–max) | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${r.case} | ${r.variant} | ${fmt(r.median)} ${r.unit} | ${fmt(r.min)}–${fmt(r.max)} | ` +
      `${r.ratio === null ? 'baseline' : `${r.ratio.toFixed(2)} × ${r.baseline}`} | ${r.target} | ${r.met === null ? '' : r.met ? 'yes' : '**no**'} |`),
  ].join('\n');
  process.stdout.write(`${table}\n\nMachine: ${machine}. ${REPS} repetitions per figure, medians; ratios are medians of per-repetition pairs.\n`);
  if (!quick) {
    fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'),
      `# Benchmark results\n\nProduced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\nMachine: ${machine}.\n` +
      `${REPS} repetitions per figure after the build; each figure is the median, with its spread; ratios are the medians of ratios taken pair by pair in the same repetition, so that machine noise cancels. ` +
      `Where a target is missed, README.md (section Benchmarks) says why and what would close the gap.\n\n${table}\n`);
    log('wrote bench/RESULTS.md');
  }
}

main();

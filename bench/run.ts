// `npm run bench`: each case of the addon against baselines built and run in
// the same run, as medians and ratios. `--quick` runs tiny sizes (the smoke
// test in npm test); `--json` prints the results as data. A full run writes
// bench/RESULTS.md, with the profile of bench/profile.ts beside the figures.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildReference, MissingToolError } from '../src/compare/reference';
import { CLI, PACKAGE_ROOT } from '../src/internal/paths';
import { median, summary } from './statistics';

const NODE_CASES = path.join(__dirname, 'node-cases.js');
const PROFILE = path.join(__dirname, 'profile.js');
const FORK_SERVER = path.join(__dirname, 'forkserver.js');
const BASELINES = path.join(PACKAGE_ROOT, 'bench', 'baselines');
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const quick = values.quick === true;
const REPS = quick ? 1 : 5;
const SIZES = quick
  ? {
      pingpong: 300,
      messageBytes: [16, 65536],
      messageTrips: 100,
      bulk: 16 * 2 ** 20,
      percall: 20_000,
      forkReps: 3,
      forkMb: [50],
      manyMb: 50,
      manyChildren: 4,
      demoRuns: 1,
    }
  : {
      pingpong: 20_000,
      messageBytes: [16, 256, 4096, 65536],
      messageTrips: 5000,
      bulk: 2 ** 30,
      percall: 1_000_000,
      forkReps: 15,
      forkMb: [50, 300],
      manyMb: 300,
      manyChildren: 64,
      demoRuns: 5,
    };

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function buildC(): string {
  const out = path.join(os.tmpdir(), `bidirectional-ipc-bench-${process.pid}`);
  execFileSync('cc', ['-O2', '-o', out, path.join(BASELINES, 'ipc_bench.c')]);
  return out;
}

/** Runs a program that prints JSON on its last line; returns it parsed. */
function runJson(command: string[], pinned = false): any {
  const argv = pinned ? ['taskset', '-c', '0', ...command] : command;
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`${argv.join(' ')} failed: ${run.stderr || run.error?.message}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

/** Runs a program that prints {"seconds": S}; returns S. */
function timed(command: string[], pinned = false): number {
  return runJson(command, pinned).seconds;
}

function wall(command: string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(command[0], command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`${command.join(' ')} failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Whether `tool` runs here (`tool --version` succeeds). */
function available(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

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
  /** For a missed target: by how much, e.g. "+12 % over". */
  missedBy: string | null;
}

const rows: Row[] = [];
const skipped: string[] = [];

/**
 * A target on a row's ratio to its baseline: at most (or at least) `limit`,
 * which may depend on the other variants' ratios in the same run.
 */
interface Target {
  text: (limit: number) => string;
  limit: (ratioOf: (variant: string) => number) => number;
  atLeast?: boolean;
}

const ratioAtMost = (limit: number, of: string): Target => ({
  text: () => `≤ ${limit.toFixed(2)} × ${of}`,
  limit: () => limit,
});

function judge(
  target: Target | undefined,
  ratio: number | null,
  ratioOf: (v: string) => number,
): Pick<Row, 'target' | 'met' | 'missedBy'> {
  if (!target || ratio === null) return { target: '', met: null, missedBy: null };
  const limit = target.limit(ratioOf);
  const met = target.atLeast ? ratio >= limit : ratio <= limit;
  const by = Math.abs(ratio / limit - 1) * 100;
  return {
    target: target.text(limit),
    met,
    missedBy: met ? null : `${by.toFixed(0)} % ${target.atLeast ? 'under' : 'over'}`,
  };
}

/** Runs every variant REPS times, interleaved, and adds rows with ratios taken pair by pair. */
function group(
  name: string,
  unit: string,
  scale: (seconds: number) => number,
  variants: [string, () => number][],
  baseline: string,
  targets: Record<string, Target>,
): void {
  const samples: Record<string, number[]> = Object.fromEntries(variants.map(([v]) => [v, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [variant, run] of variants) samples[variant].push(scale(run()));
  }
  addRows(name, unit, samples, baseline, targets);
}

/** Rows for samples taken pair by pair; ratios are to `baseline` in the same repetition. */
function addRows(
  name: string,
  unit: string,
  samples: Record<string, number[]>,
  baseline: string,
  targets: Record<string, Target>,
): void {
  const ratioOf = (variant: string) => median(samples[variant].map((x, i) => x / samples[baseline][i]));
  for (const [variant, xs] of Object.entries(samples)) {
    const ratio = variant === baseline ? null : ratioOf(variant);
    rows.push({
      case: name,
      variant,
      unit,
      ...summary(xs),
      ratio,
      baseline: variant === baseline ? null : baseline,
      ...judge(targets[variant], ratio, ratioOf),
    });
  }
}

function main(): void {
  log(quick ? 'quick run (tiny sizes)' : 'full run: this takes about ten minutes');
  const loadAtStart = os.loadavg()[0];
  let rustDir: string;
  try {
    rustDir = path.dirname(buildReference());
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
    const why = error.message.split('\n').find((line) => line.trim() && !line.startsWith('building')) ?? error.message;
    process.stderr.write(
      `bench: the Rust baseline cannot be built (${why.trim()}); install cargo (Debian: apt-get install cargo librust-libc-dev) and run again\n`,
    );
    process.exitCode = 1;
    return;
  }
  const c = buildC();
  const rust = path.join(rustDir, 'bench');
  const node = (kind: string, ...args: (string | number)[]) => [
    process.execPath,
    NODE_CASES,
    kind,
    ...args.map(String),
  ];
  const py = (script: string, ...args: (string | number)[]) => [
    'python3',
    path.join(BASELINES, script),
    ...args.map(String),
  ];
  const hasRuby = available('ruby');
  if (!hasRuby) skipped.push("Ruby's Process.fork: `ruby` is not installed (Debian: apt-get install ruby)");
  const n = SIZES.pingpong;
  const perTrip = (s: number) => (s / n) * 1e6;
  // The package at or below Python's os module, the interpreted peer, in the same run.
  const belowPython: Target = {
    text: (l) => `≤ Python's os (${l.toFixed(2)} ×); stretch ≤ 1.10 ×`,
    limit: (ratioOf) => ratioOf("Python's os"),
  };

  for (const pinned of [true, false]) {
    const where = pinned ? 'pinned to one core' : 'free';
    log(`ping-pong, ${where}`);
    group(
      `ping-pong (${where})`,
      'µs per round trip',
      perTrip,
      [
        ['Rust', () => timed([rust, 'pingpong', String(n)], pinned)],
        ['addon', () => timed(node('addon-pingpong', n), pinned)],
        ['C', () => timed([c, 'pingpong', String(n)], pinned)],
        ["Python's os", () => timed(py('pingpong.py', n), pinned)],
        ['fs.readSync/writeSync', () => timed(node('fs-pingpong', n), pinned)],
        [
          'child_process.fork + send',
          () => timed(node('ipc-pingpong', quick ? 100 : 2000), pinned) * (n / (quick ? 100 : 2000)),
        ],
      ],
      'Rust',
      { addon: belowPython },
    );
  }

  // The Rust original's bench sends 16 bytes only; C (0.96-0.98 × Rust at 16 B) stands in for it.
  for (const bytes of SIZES.messageBytes) {
    log(`ping-pong, ${bytes}-byte messages`);
    const trips = SIZES.messageTrips;
    group(
      `ping-pong by message size (free): ${bytes} B`,
      'µs per round trip',
      (s) => (s / trips) * 1e6,
      [
        ['C', () => timed([c, 'pingpong', String(trips), String(bytes)])],
        ['addon', () => timed(node('addon-pingpong', trips, bytes))],
        ["Python's os", () => timed(py('pingpong.py', trips, bytes))],
      ],
      'C',
      { addon: { text: (l) => `≤ Python's os (${l.toFixed(2)} ×)`, limit: (ratioOf) => ratioOf("Python's os") } },
    );
  }

  log('bulk');
  const bytes = SIZES.bulk;
  const gibPerS = (s: number) => bytes / 2 ** 30 / s;
  group(
    `bulk: ${bytes / 2 ** 20} MiB parent → child, 64 KiB writes`,
    'GiB/s',
    gibPerS,
    [
      ['Rust', () => timed([rust, 'bulk', String(bytes)])],
      ['addon', () => timed(node('addon-bulk', bytes))],
      ['C', () => timed([c, 'bulk', String(bytes)])],
      ['fs.writeSync/readSync', () => timed(node('fs-bulk', bytes))],
      ['child_process.spawn stdin', () => timed(node('spawn-bulk', bytes))],
    ],
    'Rust',
    { addon: { text: () => '≥ 0.90 × Rust', limit: () => 0.9, atLeast: true } },
  );

  log('per call');
  const calls = SIZES.percall;
  const nsPerPair = (s: number) => (s / calls) * 1e9;
  group(
    `per call: 1-byte write + read, ${calls} times`,
    'ns per write+read',
    nsPerPair,
    [
      ['Rust', () => timed([rust, 'percall', String(calls)])],
      ['addon', () => timed(node('addon-percall', calls))],
      ['fs.writeSync/readSync', () => timed(node('fs-percall', calls))],
    ],
    'Rust',
    { addon: ratioAtMost(1.5, 'Rust') },
  );

  for (const mb of SIZES.forkMb) {
    log(`fork at ${mb} MB`);
    // Each repetition: the Node parent first; Python and Ruby grow to the RSS it reached.
    const reps = Array.from({ length: REPS }, () => {
      const nodeRun = runJson(node('fork', mb, SIZES.forkReps));
      const rssMb = Math.round(nodeRun.rssMb);
      return {
        node: nodeRun,
        python: runJson(py('fork.py', rssMb, SIZES.forkReps)),
        ruby: hasRuby
          ? runJson(['ruby', path.join(BASELINES, 'fork.rb'), String(rssMb), String(SIZES.forkReps)])
          : null,
      };
    });
    const ms = (xs: number[]) => median(xs) * 1e3;
    const rssOf = (pick: (r: (typeof reps)[0]) => { rssMb: number } | null) =>
      median(reps.map((r) => pick(r)!.rssMb)).toFixed(0);
    const rss = rssOf((r) => r.node);
    const pythonLabel = `Python's os.fork (parent ${rssOf((r) => r.python)} MB RSS)`;
    const samples: Record<string, number[]> = {
      [pythonLabel]: reps.map((r) => ms(r.python.seconds)),
      'addon fork()': reps.map((r) => ms(r.node.addon)),
      'floor: bare fork, whole heap': reps.map((r) => ms(r.node.floorWholeHeap)),
    };
    if (hasRuby)
      samples[`Ruby's Process.fork (parent ${rssOf((r) => r.ruby)} MB RSS)`] = reps.map((r) => ms(r.ruby!.seconds));
    samples["bare fork, V8's MADV_DONTFORK kept (child cannot run JS)"] = reps.map((r) => ms(r.node.floorBare));
    const caseName = `fork + child runs a line + _exit + waitpid, Node parent ${rss} MB RSS`;
    const floorRatio = median(samples['addon fork()'].map((x, i) => x / samples['floor: bare fork, whole heap'][i]));
    addRows(caseName, 'ms', samples, pythonLabel, { 'addon fork()': ratioAtMost(1, 'Python') });
    // The second target, against the floor, on the same row.
    const addonRow = rows.find((r) => r.case === caseName && r.variant === 'addon fork()')!;
    const floorMet = floorRatio <= 1.25;
    addonRow.target += `; ≤ 1.25 × floor (${floorRatio.toFixed(2)} ×)`;
    addonRow.met = addonRow.met! && floorMet;
    if (!floorMet) {
      addonRow.missedBy = [
        addonRow.missedBy && `${addonRow.missedBy} Python`,
        `${((floorRatio / 1.25 - 1) * 100).toFixed(0)} % over the floor's`,
      ]
        .filter(Boolean)
        .join(', ');
    } else if (addonRow.missedBy) {
      addonRow.missedBy += ' Python';
    }
    const cp = reps.map((r) => ms(r.node.childProcessFork));
    const addonMs = median(samples['addon fork()']);
    const faster = median(cp) / addonMs;
    rows.push({
      case: caseName,
      variant: 'child_process.fork until first message',
      unit: 'ms',
      ...summary(cp),
      ratio: null,
      baseline: null,
      target: `addon ≥ 20 × faster (${faster.toFixed(0)} ×)`,
      met: faster >= 20,
      missedBy: faster >= 20 ? null : `${((1 - faster / 20) * 100).toFixed(0)} % under`,
    });
    const kb = reps.map((r) => r.node.childPrivateKb / 1024);
    rows.push({
      case: `child memory after fork, ${rss} MB RSS`,
      variant: 'private memory the child adds',
      unit: 'MB',
      ...summary(kb),
      ratio: null,
      baseline: null,
      target: '≤ 5 MB',
      met: median(kb) <= 5,
      missedBy: median(kb) <= 5 ? null : `${(median(kb) - 5).toFixed(1)} MB over`,
    });
  }

  log(`${SIZES.manyChildren} children from a ${SIZES.manyMb} MB parent`);
  {
    const many: Record<string, number[]> = { "Python's os.fork": [], 'addon fork()': [] };
    const rubyMany: number[] = [];
    const rss: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const nodeRun = runJson(node('fork-many', SIZES.manyMb, SIZES.manyChildren));
      rss.push(nodeRun.rssMb);
      many['addon fork()'].push(median(nodeRun.seconds) * 1e3);
      many["Python's os.fork"].push(
        median(runJson(py('fork.py', Math.round(nodeRun.rssMb), 3, SIZES.manyChildren)).seconds) * 1e3,
      );
      if (hasRuby) {
        rubyMany.push(
          median(
            runJson([
              'ruby',
              path.join(BASELINES, 'fork.rb'),
              String(Math.round(nodeRun.rssMb)),
              '3',
              String(SIZES.manyChildren),
            ]).seconds,
          ) * 1e3,
        );
      }
    }
    if (hasRuby) many["Ruby's Process.fork"] = rubyMany;
    addRows(
      `${SIZES.manyChildren} children forked in a row, then reaped; parent ${median(rss).toFixed(0)} MB RSS`,
      'ms',
      many,
      "Python's os.fork",
      {
        'addon fork()': ratioAtMost(1, "Python's os.fork"),
      },
    );
  }

  log('demo');
  const rustDemo = path.join(rustDir, 'bidirectional_ipc');
  const demo: Record<string, number[]> = {
    'Rust original': [],
    'TypeScript demo (npm start)': [],
    'node -e 0 (Node start and exit)': [],
  };
  for (let i = 0; i < SIZES.demoRuns; i++) {
    demo['Rust original'].push(wall([rustDemo]) * 1e3);
    demo['TypeScript demo (npm start)'].push(wall([process.execPath, CLI]) * 1e3);
    demo['node -e 0 (Node start and exit)'].push(wall([process.execPath, '-e', '0']) * 1e3);
  }
  const demoBudget = median(demo['Rust original']) + median(demo['node -e 0 (Node start and exit)']) + 30;
  const tsMs = median(demo['TypeScript demo (npm start)']);
  for (const [variant, xs] of Object.entries(demo)) {
    const isTs = variant.startsWith('TypeScript');
    rows.push({
      case: 'demo: the whole tutorial program, wall time',
      variant,
      unit: 'ms',
      ...summary(xs),
      ratio: variant === 'Rust original' ? null : median(xs) / median(demo['Rust original']),
      baseline: variant === 'Rust original' ? null : 'Rust original',
      target: isTs ? `≤ Rust + node -e 0 + 30 ms (${demoBudget.toFixed(0)} ms)` : '',
      met: isTs ? tsMs <= demoBudget : null,
      missedBy: isTs && tsMs > demoBudget ? `${(tsMs - demoBudget).toFixed(0)} ms over` : null,
    });
  }
  fs.rmSync(c, { force: true });

  // The fork server's case (bench/forkserver.ts): its own table, after the others.
  log('fork server (bench/forkserver.ts)');
  const forkServerRun = spawnSync(
    process.execPath,
    [FORK_SERVER, ...(quick ? ['--quick'] : []), ...(values.json ? ['--json'] : [])],
    { encoding: 'utf8', timeout: 900_000, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (forkServerRun.status !== 0) throw new Error('bench/forkserver.ts failed');
  const forkServer = forkServerRun.stdout.trim();

  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
  const load = [loadAtStart, os.loadavg()[0]];
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ machine, quick, repetitions: REPS, load, skipped, rows, forkServer: JSON.parse(forkServer).rows }, null, 2)}\n`,
    );
    return;
  }
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const table = [
    '| case | variant | median | spread (min–max) | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${r.variant} | ${fmt(r.median)} ${r.unit} | ${fmt(r.min)}–${fmt(r.max)} | ` +
        `${r.ratio !== null ? `${r.ratio.toFixed(2)} × ${r.baseline}` : r.target ? '—' : 'baseline'} | ${r.target} | ` +
        `${r.met === null ? '' : r.met ? 'yes' : `**no** (${r.missedBy})`} |`,
    ),
  ].join('\n');
  const shared = Math.max(...load) > os.cpus().length;
  const loadNote =
    `Load average (1 min) at the start and the end of the run: ${load.map((l) => l.toFixed(1)).join(' and ')}` +
    (shared
      ? `, above the ${os.cpus().length} cores: the machine was shared with other work during the run, so the absolute figures are noisy; the ratios, taken pair by pair in the same repetition, much less so.`
      : '.');
  const skippedNote = skipped.length ? `\n\nSkipped: ${skipped.join('; ')}.` : '';
  process.stdout.write(
    `${table}\n\nMachine: ${machine}. ${REPS} repetitions per figure, medians; ratios are medians of per-repetition pairs. ${loadNote}${skippedNote}\n\n` +
      `Fork server (bench/forkserver.ts):\n\n${forkServer}\n`,
  );
  if (!quick) {
    log('profile (bench/profile.ts)');
    const profile = (...args: string[]) => {
      const run = spawnSync(process.execPath, [PROFILE, ...args], { encoding: 'utf8', timeout: 600_000 });
      if (run.status !== 0) throw new Error(`profile ${args.join(' ')} failed: ${run.stderr}`);
      return run.stdout.trim();
    };
    const percallProfile = profile('percall');
    const forkProfile = profile('fork', ...SIZES.forkMb.map(String));
    fs.writeFileSync(
      path.join(PACKAGE_ROOT, 'bench', 'RESULTS.md'),
      `# Benchmark results\n\nProduced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\nMachine: ${machine}. ${loadNote}\n` +
        `${REPS} repetitions per figure after the build; each figure is the median, with its spread; ratios are the medians of ratios taken pair by pair in the same repetition, so that machine noise cancels. ` +
        `A missed target says by how much; docs/benchmarks.md says what the profile below shows about it.${skippedNote}\n\n${table}\n\n` +
        '## Where the time goes\n\n' +
        'Produced in the same run by `node dist-dev/bench/profile.js percall` and `node dist-dev/bench/profile.js fork 50 300` (bench/profile.ts).\n\n' +
        '### One call\n\n' +
        'Each piece of a 1-byte `write` + `read` timed alone (bench/native/percall_parts.cc): the Node-API crossing, ' +
        "the argument checks, a syscall. The syscalls' share grows with the memory the process touches between two of them " +
        '(see docs/benchmarks.md).\n\n' +
        `${percallProfile}\n\n` +
        '### One fork\n\n' +
        "The steps of native/fork.cc's Fork timed one by one (bench/native/fork_phases.cc includes fork.cc and runs them in " +
        "the same order with a CLOCK_MONOTONIC stamp after each); the child's stamps are written to a shared page. " +
        'Faults are minor faults from wait4(2) (the child) and getrusage(2) (the parent): copy-on-write copies are among them. ' +
        "The last rows time the package's own fork() with a mark in the child's code.\n\n" +
        `${forkProfile}\n\n` +
        '## The fork server\n\n' +
        'Produced in the same run by `node dist-dev/bench/forkserver.js` (bench/forkserver.ts).\n\n' +
        `${forkServer}\n`,
    );
    log('wrote bench/RESULTS.md');
  }
}

main();

// `node dist-dev/bench/profile.js percall | fork [MB...]`: where the time goes.
// percall: one read/write call taken apart (bench/native/percall_parts.cc).
// fork: the package's fork phase by phase, in a parent grown to MB megabytes
// of RSS (default 50 and 300). Uses bench/native/fork_phases.cc, which runs the steps of
// native/fork.cc's Fork with a timestamp after each, and the package's own
// fork() with marks in JavaScript. Prints a Markdown table (medians, ms) for
// bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { _exit, fork, pipe, read, write } from '../src/index';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { native } from '../src/native';
import { inflate } from './inflate';
import { median } from './statistics';

const REPEAT = 15;
const phases = require(path.join(PACKAGE_ROOT, 'bench', 'build', 'Release', 'bench_fork_phases.node')) as {
  phasedFork(keepFds?: number[]): number | Record<string, number>;
  mark(slot: number): void;
  reap(pid: number): Record<string, number> & { childJs: number[] };
  smapsSeconds(): { seconds: number; regions: number };
};

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** What fork(2) copies besides the pages: mappings (one VMA each) and page tables (VmPTE, kB). */
function addressSpace(): { mappings: number; pageTablesKb: number } {
  const mappings = fs.readFileSync('/proc/self/maps', 'utf8').trimEnd().split('\n').length;
  const pte = /^VmPTE:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return { mappings, pageTablesKb: Number(pte?.[1] ?? NaN) };
}

/** The same for Python's baseline parent grown to `mb` (bench/baselines/fork.py). */
function pythonAddressSpace(mb: number): { mappings: number; pageTablesKb: number } {
  const run = spawnSync('python3', [path.join(PACKAGE_ROOT, 'bench', 'baselines', 'fork.py'), String(mb), '1'], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`fork.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { mappings: number; pageTablesKb: number };
}

function profile(mb: number): [string, number][] {
  const held = inflate(mb);
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const rows: Record<string, number[]> = {};
  const add = (name: string, value: number) => (rows[name] ??= []).push(value);
  for (let i = 0; i < REPEAT; i++) {
    const p = phases.phasedFork();
    if (typeof p === 'number') {
      // The child: its first JavaScript after the native call, a line, the exit.
      phases.mark(0);
      const sum = [1, 2, 3].reduce((a, b) => a + b, 0);
      phases.mark(3);
      process.exit(sum === 6 ? 0 : 1); // the exit handler that SetUpChild installed: _exit
    }
    const back = now();
    const r = phases.reap(p.pid);
    if (r.status !== 0) throw new Error(`phased child failed: ${r.status}`);
    add('parent: fflush', p.flushed - p.entered);
    add('parent: park platform workers', p.parked - p.flushed);
    add('parent: DONTFORK list (maps read, smaps on change)', p.listed - p.parked);
    add('parent: madvise(MADV_DOFORK)', p.advised - p.listed);
    add('parent: fork(2)', p.forked - p.advised);
    add('parent: madvise(MADV_DONTFORK)', p.restored - p.forked);
    add('parent: unpark workers + return to JS', back - p.restored);
    add('child: madvise(MADV_DONTFORK)', r.childAdvised - r.childForked);
    add('child: SetUpChild (uv_loop_fork, stdio, exit handler)', r.childSetUp - r.childAdvised);
    add('child: back into JavaScript', r.childJs[0] - r.childSetUp);
    add('child: one line of JS', r.childJs[3] - r.childJs[0]);
    add('child: process.exit → _exit → parent reaps', r.reaped - r.childJs[3]);
    add('total: entry → reaped', r.reaped - p.entered);
    add('faults: child (minflt, copy-on-write among them)', r.childFaults);
    add('faults: parent during the fork call', p.parentFaultsInFork);
    add('count: madvise calls per direction (DONTFORK spans)', p.spans);
  }
  // The package's fork() itself, marks in the child's code.
  for (let i = 0; i < REPEAT; i++) {
    const start = now();
    const pid = fork(() => {
      phases.mark(0);
      _exit(0);
    });
    const back = now();
    const r = phases.reap(pid);
    add('fork(): call → parent returns', back - start);
    add('fork(): call → childMain runs', r.childJs[0] - start);
    add('fork(): call → reaped', r.reaped - start);
    add('fork(): child faults', r.childFaults);
  }
  const smaps = Array.from({ length: 5 }, () => phases.smapsSeconds().seconds);
  add('uncached smaps read (a cache miss)', median(smaps));
  add('count: V8 regions marked MADV_DONTFORK', phases.smapsSeconds().regions);
  // V8 maps each 256 KiB heap page on its own at a random address, so each
  // needs page tables of its own: fork(2) copies them all, and the child's
  // exit frees them, whatever the package does around the call.
  const node = addressSpace();
  const python = pythonAddressSpace(Math.round(rssMb));
  add('count: mappings, Node parent', node.mappings);
  add("count: mappings, Python's parent at the same RSS", python.mappings);
  add('count: page tables (VmPTE) in kB, Node parent', node.pageTablesKb);
  add("count: page tables (VmPTE) in kB, Python's parent", python.pageTablesKb);
  void held;
  return [[`RSS MB`, rssMb], ...Object.entries(rows).map(([k, xs]): [string, number] => [k, median(xs)])];
}

const parts = require(path.join(PACKAGE_ROOT, 'bench', 'build', 'Release', 'bench_percall_parts.node')) as {
  rawNoop(): void;
  addonApiNoop(): void;
  argsOnly(fd: number, buf: Uint8Array, offset: number, length: number): number;
  rawGetpid(): number;
};

/** ns per call of each piece of a 1-byte write + read, medians of interleaved rounds. */
function percall(): void {
  const CALLS = 1_000_000;
  const ROUNDS = 7;
  const [r, w] = pipe();
  const one = Buffer.alloc(1, 0x78);
  let sink = 0;
  const cases: [string, () => void][] = [
    [
      'empty loop',
      () => {
        for (let i = 0; i < CALLS; i++) sink += i;
      },
    ],
    [
      'raw Node-API function, no arguments read',
      () => {
        for (let i = 0; i < CALLS; i++) parts.rawNoop();
      },
    ],
    [
      'node-addon-api function, no arguments read',
      () => {
        for (let i = 0; i < CALLS; i++) parts.addonApiNoop();
      },
    ],
    [
      "node-addon-api function with Read's 4 argument checks",
      () => {
        for (let i = 0; i < CALLS; i++) sink += parts.argsOnly(w, one, 0, 1);
      },
    ],
    [
      'raw Node-API getpid(2): crossing + the cheapest syscall',
      () => {
        for (let i = 0; i < CALLS; i++) sink += parts.rawGetpid();
      },
    ],
    [
      'native.write + native.read (no JS checks), per pair',
      () => {
        for (let i = 0; i < CALLS; i++) {
          native.write(w, one, 0, 1);
          native.read(r, one, 0, 1);
        }
      },
    ],
    [
      'write + read (the package: JS checks + native), per pair',
      () => {
        for (let i = 0; i < CALLS; i++) {
          write(w, one);
          read(r, one);
        }
      },
    ],
  ];
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach(([, run], k) => {
      const start = now();
      run();
      samples[k].push(((now() - start) / CALLS) * 1e9);
    });
  }
  process.stdout.write('| piece of one call | ns (median of 7 × 1,000,000) |\n|---|---|\n');
  cases.forEach(([name], k) => process.stdout.write(`| ${name} | ${median(samples[k]).toFixed(0)} |\n`));
  if (sink === -1) process.stdout.write('');
}

function main(): void {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'percall') return percall();
  if (mode !== 'fork') throw new Error('usage: profile.js percall | fork [MB...]');
  const sizes = rest.map(Number);
  for (const mb of sizes.length ? sizes : [50, 300]) {
    const rows = profile(mb);
    process.stdout.write(`\n| phase at ${rows[0][1].toFixed(0)} MB RSS | median |\n|---|---|\n`);
    for (const [name, value] of rows.slice(1)) {
      const shown = /faults|count/.test(name) ? value.toFixed(0) : `${(value * 1e3).toFixed(3)} ms`;
      process.stdout.write(`| ${name} | ${shown} |\n`);
    }
  }
}

main();

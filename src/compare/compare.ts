// `bidirectional-ipc compare`: builds the Rust original, runs it and the
// TypeScript demo, and sets their output, times and system calls side by side.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../internal/paths';
import { terminalWidth, wrap, wrapLine, type Progress } from '../internal/text';
import { buildReference, MissingToolError } from './reference';
import { parseStrace, tutorialCalls, type TracedCall, type TutorialCall, type TutorialTrace } from './strace';

export { MissingToolError };

function has(command: string, args: string[]): boolean {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  return !run.error && run.status === 0;
}

/** What tracing a program needs and this machine lacks (strace, ptrace), each with how to get it. */
export function missingStrace(): string[] {
  if (!has('strace', ['-V'])) return ['strace is not installed: `apt-get install strace`'];
  const probe = spawnSync('strace', ['-f', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  if (probe.status === 0) return [];
  return [
    'strace cannot trace here (ptrace not permitted: in a container, run it with ' +
      `--cap-add=SYS_PTRACE, or set kernel.yama.ptrace_scope=0): ${probe.stderr.trim()}`,
  ];
}

/** What `compare` needs and this machine lacks (cargo, strace, ptrace), each with how to get it. */
export function missingTools(): string[] {
  const problems: string[] = [];
  if (!has('cargo', ['--version'])) {
    problems.push('cargo is not installed: install Rust (`apt-get install cargo`, or rustup)');
  }
  return [...problems, ...missingStrace()];
}

/** Throws a MissingToolError naming every tool that is missing. */
function checkTools(): void {
  const problems = missingTools();
  if (problems.length > 0) throw new MissingToolError(problems.join('\n'));
}

export interface ProgramRun {
  command: string[];
  stdout: string;
  exitStatus: number | null;
  wallSeconds: number;
  calls: TutorialTrace;
}

/** Runs `command` under `strace -f`, every thread and child followed: the calls, and what it printed. */
export function traceCommand(command: string[]): { calls: TracedCall[]; stdout: string } {
  const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-')), 'trace');
  const traced = spawnSync('strace', ['-f', '-qq', '-s', '256', '-o', traceFile, '--', ...command], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (traced.status !== 0) {
    throw new MissingToolError(`strace failed on ${command.join(' ')}: ${traced.stderr.trim()}`);
  }
  const calls = parseStrace(fs.readFileSync(traceFile, 'utf8'));
  fs.rmSync(path.dirname(traceFile), { recursive: true, force: true });
  return { calls, stdout: traced.stdout };
}

function runProgram(command: string[]): ProgramRun {
  const start = process.hrtime.bigint();
  const plain = spawnSync(command[0], command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { calls } = traceCommand(command);
  return {
    command,
    stdout: plain.stdout,
    exitStatus: plain.status,
    wallSeconds,
    calls: tutorialCalls(calls, calls[0]?.tid ?? 0),
  };
}

export interface Verdict {
  identical: boolean;
  /** 1-based position of the first difference, null when identical. */
  firstDifference: number | null;
}

function compareLists(a: string[], b: string[]): Verdict {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return { identical: false, firstDifference: i + 1 };
  }
  return { identical: true, firstDifference: null };
}

export interface Comparison {
  rust: ProgramRun;
  typescript: ProgramRun;
  stdout: Verdict;
  parent: Verdict;
  child: Verdict;
  /** The clock calls each side slept with, e.g. ['clock_nanosleep']. */
  sleepCalls: { rust: string[]; typescript: string[] };
}

const texts = (calls: TutorialCall[]) => calls.map((c) => c.text);
const sleeps = (t: TutorialTrace) => [
  ...new Set([...t.parent, ...t.child].filter((c) => c.text.startsWith('sleep(')).map((c) => c.syscall)),
];

/** Builds the Rust original, runs both programs, and compares them; `say` hears each stage. */
export function compare(say: Progress = () => {}): Comparison {
  checkTools();
  say('building the Rust original (cargo build --release)');
  const program = buildReference();
  say('running the Rust original, then tracing it with strace -f');
  const rust = runProgram([program]);
  say('running the TypeScript demo, then tracing it with strace -f');
  const typescript = runProgram([process.execPath, CLI, 'demo']);
  return {
    rust,
    typescript,
    stdout: compareLists(rust.stdout.split('\n'), typescript.stdout.split('\n')),
    parent: compareLists(texts(rust.calls.parent), texts(typescript.calls.parent)),
    child: compareLists(texts(rust.calls.child), texts(typescript.calls.child)),
    sleepCalls: { rust: sleeps(rust.calls), typescript: sleeps(typescript.calls) },
  };
}

// ---- Report --------------------------------------------------------------------

function verdictText(v: Verdict, unit: string, count: number): string {
  return v.identical
    ? `identical (${count} ${unit})`
    : `DIFFERENT from ${unit.replace(/s$/, '')} ${v.firstDifference} on`;
}

export interface ReportOptions {
  /** Columns to fit (default: the terminal's); under 100, one side above the other. */
  width?: number;
  /** Only the lines where the two sides differ. */
  diffOnly?: boolean;
}

/** Below this width the two sides are stacked, not side by side. */
export const SIDE_BY_SIDE_WIDTH = 100;

/** Two lists line by line: side by side when there is room, else one side above the other. */
function columns(
  left: string[],
  right: string[],
  header: [string, string],
  options: Required<ReportOptions>,
): string[] {
  const n = Math.max(left.length, right.length);
  const digits = String(n).length;
  const shown = [...Array(n).keys()].filter((i) => !options.diffOnly || left[i] !== right[i]);
  if (options.diffOnly && shown.length === 0) return ['  no line differs'];
  const lines: string[] = [];
  const margin = ' '.repeat(digits + 4);
  if (options.width < SIDE_BY_SIDE_WIDTH) {
    const [a, b] = header;
    lines.push(
      ...wrapLine(`${margin}(= the same on both sides; where they differ, ${a[0]} ${a}, ${b[0]} ${b})`, {
        width: options.width,
      }),
    );
    // "  NN M text": the line's number (none on the second side's line), its mark, its text.
    const cell = (i: number | null, mark: string, text: string) =>
      wrapLine(`  ${i === null ? ' '.repeat(digits) : String(i + 1).padStart(digits)} ${mark} ${text}`, {
        width: options.width,
        indent: ' '.repeat(digits + 7),
        keepQuoted: true,
      });
    for (const i of shown) {
      if (left[i] === right[i]) lines.push(...cell(i, '=', left[i]));
      else lines.push(...cell(i, a[0], left[i] ?? '(none)'), ...cell(null, b[0], right[i] ?? '(none)'));
    }
    return lines;
  }
  const width = Math.floor((options.width - margin.length - 3) / 2);
  lines.push(`${margin}${header[0].padEnd(width)}   ${header[1]}`);
  for (const i of shown) {
    const fit = (text: string | undefined) => wrapLine(text ?? '', { width, indent: '  ', keepQuoted: true });
    const [l, r] = [fit(left[i]), fit(right[i])];
    const mark = left[i] === right[i] ? ' ' : '≠';
    for (let row = 0; row < Math.max(l.length, r.length); row++) {
      const head = row === 0 ? `  ${String(i + 1).padStart(digits)}` : ' '.repeat(digits + 2);
      lines.push(`${head}  ${(l[row] ?? '').padEnd(width)} ${row === 0 ? mark : ' '} ${r[row] ?? ''}`.trimEnd());
    }
  }
  return lines;
}

const CATEGORIES: [string, RegExp][] = [
  ['memory', /^(mmap|munmap|mprotect|madvise|brk|mremap|mlock|membarrier)$/],
  ['threads and locks', /^(futex|clone3?|set_robust_list|rseq|sched_\w+|gettid|set_tid_address)$/],
  [
    'files and descriptors',
    /^(open(at)?|read|pread64|write|close|newfstatat|fstat|statx|readlink(at)?|lseek|ioctl|fcntl|dup[23]?|getdents64|access|faccessat2?|getcwd|uname)$/,
  ],
  ['event loop', /^(epoll_\w+|eventfd2|pipe2?|poll|io_uring_\w+)$/],
  ['signals', /^(rt_sig\w+|sigaltstack|kill|tgkill)$/],
  [
    'process',
    /^(execve|prlimit64|getpid|getppid|getrandom|arch_prctl|exit(_group)?|wait4|restart_syscall|capget|getuid|geteuid|getgid|getegid)$/,
  ],
];

function categorise(counts: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, count] of counts) {
    const category = CATEGORIES.find(([, re]) => re.test(name))?.[0] ?? 'other';
    out.set(category, (out.get(category) ?? 0) + count);
  }
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

function topCalls(counts: Map<string, number>, n: number): string {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** The side-by-side report, as text. */
export function formatReport(c: Comparison, report: ReportOptions = {}): string {
  const options = { width: report.width ?? terminalWidth(), diffOnly: report.diffOnly === true };
  const out: string[] = [];
  const lines = c.rust.stdout.split('\n').length - 1;
  out.push('Compare: the Rust original (reference/) and the TypeScript demo (src/tutorial/)', '');
  out.push(`stdout       ${verdictText(c.stdout, 'lines', lines)}, ${Buffer.byteLength(c.rust.stdout)} bytes`);
  out.push(`exit status  Rust ${c.rust.exitStatus}, TypeScript ${c.typescript.exitStatus}`);
  out.push(
    `wall time    Rust ${c.rust.wallSeconds.toFixed(3)} s, TypeScript ${c.typescript.wallSeconds.toFixed(3)} s ` +
      `(+${((c.typescript.wallSeconds - c.rust.wallSeconds) * 1000).toFixed(0)} ms)`,
  );
  if (!c.stdout.identical) {
    out.push(
      '',
      ...columns(
        c.rust.stdout.split('\n'),
        c.typescript.stdout.split('\n'),
        ['Rust stdout', 'TypeScript stdout'],
        options,
      ),
    );
  }
  for (const side of ['parent', 'child'] as const) {
    const verdict = c[side];
    out.push('', `The tutorial's calls in the ${side}: ${verdictText(verdict, 'calls', c.rust.calls[side].length)}`);
    out.push(...columns(texts(c.rust.calls[side]), texts(c.typescript.calls[side]), ['Rust', 'TypeScript'], options));
  }
  out.push('', "Everything else (all threads), what each runtime does around the tutorial's", 'calls:');
  const groups = {
    'Rust parent': categorise(c.rust.calls.runtime.parent),
    'Rust child': categorise(c.rust.calls.runtime.child),
    'TS parent': categorise(c.typescript.calls.runtime.parent),
    'TS child': categorise(c.typescript.calls.runtime.child),
  };
  const names = [...CATEGORIES.map(([n]) => n), 'other'];
  out.push(
    `  ${''.padEnd(22)}${Object.keys(groups)
      .map((k) => k.padStart(12))
      .join('')}`,
  );
  for (const name of names) {
    out.push(
      `  ${name.padEnd(22)}${Object.values(groups)
        .map((g) => String(g.get(name) ?? 0).padStart(12))
        .join('')}`,
    );
  }
  out.push(
    `  ${'total'.padEnd(22)}${Object.values(groups)
      .map((g) => String(sum(g)).padStart(12))
      .join('')}`,
  );
  // A call and its count stay on one line: held together by a no-break space while wrapping.
  const frequent = (label: string, counts: Map<string, number>) =>
    wrapLine(`  most frequent, ${label.padEnd(10)} ${topCalls(counts, 8).replace(/(\w) (\d)/g, '$1\u00a0$2')}`, {
      width: options.width,
      indent: ' '.repeat(28),
    }).map((line) => line.replace(/\u00a0/g, ' '));
  out.push(...frequent('TS parent:', c.typescript.calls.runtime.parent));
  out.push(...frequent('TS child:', c.typescript.calls.runtime.child));
  out.push(...frequent('Rust:', c.rust.calls.runtime.parent));
  out.push(
    '',
    `Notes: sleeps are shown as sleep(N ms) whichever clock call makes them ` +
      `(Rust: ${c.sleepCalls.rust.join(', ') || 'none'}; TypeScript: ${c.sleepCalls.typescript.join(', ') || 'none'}). ` +
      'Descriptors are named by the role the tutorial gives them, pids as parent/child.',
  );
  return wrap(out.join('\n'), { width: options.width }) + '\n';
}

/** The comparison as plain data (Maps become objects). */
export function toJSON(c: Comparison): unknown {
  return JSON.parse(JSON.stringify(c, (_key, value) => (value instanceof Map ? Object.fromEntries(value) : value)));
}

// Every command's text fits an 80-column terminal (COLUMNS=80 when piped):
// the help, the demo's and the lessons' traces, steps, every lesson that
// LESSONS holds, compare. (--diagram writes Mermaid source for a renderer,
// not for a terminal: it is not held to a width.)
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { formatReport, missingTools, type Comparison, type ProgramRun } from '../src/compare/compare';
import { visibleLength, wrap } from '../src/internal/text';
import { LESSONS } from '../src/learn/lessons/index';
import { CLI, skipUnless } from './helpers';

const env = { ...process.env, COLUMNS: '80' };

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

function cli(args: string[], timeout = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: 'utf8', env, timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ stdout, stderr, status: error ? ((error.code as number) ?? -1) : 0 }),
    );
  });
}

/** The lines of `text` wider than `width` columns, with their numbers. */
function tooWide(text: string, width = 80): string[] {
  return text
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => visibleLength(line) > width)
    .map(({ line, i }) => `line ${i + 1} (${visibleLength(line)}): ${line}`);
}

function assertFits(run: Run, what: string): void {
  assert.deepEqual(tooWide(run.stdout), [], `${what}: stdout lines over 80 columns`);
  assert.deepEqual(tooWide(run.stderr), [], `${what}: stderr lines over 80 columns`);
}

describe('80 columns', () => {
  it('the wrapper keeps words and quoted strings whole and every line within the width', () => {
    const text = `  write(3 parent_write, "Parent received: Child echoing: Parent message 0", 49) = 49`;
    const lines = wrap(text, { width: 60, indent: '    ', keepQuoted: true }).split('\n');
    assert.ok(lines.length > 1);
    for (const line of lines) assert.ok(line.length <= 60 || !line.trim().includes(' '), line);
    assert.ok(lines.some((l) => l.includes('"Parent received: Child echoing: Parent message 0",')));
    assert.equal(lines.join(' ').replace(/ +/g, ' ').trim(), text.trim());
    const cut = wrap('x'.repeat(100), { width: 30 }).split('\n');
    assert.deepEqual(
      cut.map((l) => l.length),
      [30, 30, 30, 10],
    );
  });

  it('help, view --help and lesson --list', async () => {
    for (const args of [['--help'], ['view', '--help'], ['lesson', '--list']]) {
      const run = await cli(args);
      assert.equal(run.status, 0, run.stderr);
      assertFits(run, args.join(' '));
    }
    const list = await cli(['lesson', '--list']);
    for (const lesson of LESSONS) assert.match(list.stdout, new RegExp(`^${lesson.name} `, 'm'));
  });

  it('the demo with --trace, and steps with --trace', async () => {
    const demo = await cli(['--trace']);
    assert.equal(demo.status, 0, demo.stderr);
    assert.ok(demo.stderr.split('\n').length > 50, 'the trace was printed');
    assertFits(demo, 'demo --trace');
    const steps = await cli(['steps', '--no-pause', '--trace']);
    assert.equal(steps.status, 0, steps.stderr);
    assert.match(steps.stdout, /Step 7/);
    assertFits(steps, 'steps --trace');
  });

  it('every lesson in LESSONS, with --trace', async () => {
    // Two at a time: the machine may be busy, and each lesson forks.
    const queue = [...LESSONS];
    const worker = async () => {
      for (let lesson; (lesson = queue.shift());) {
        const run = await cli(['lesson', lesson.name, '--trace'], 120_000);
        assert.equal(run.status, 0, `${lesson.name}: ${run.stderr.slice(-2000)}`);
        assert.ok(run.stdout.length > 0, `${lesson.name} printed its text`);
        assertFits(run, `lesson ${lesson.name} --trace`);
      }
    };
    await Promise.all([worker(), worker()]);
  });

  it('compare --diff-only: only the differing lines, stacked under 100 columns, side by side from 100', () => {
    const calls = (last: string) => [
      { text: 'pipe() = [parent_read, child_write]', syscall: 'pipe2' },
      { text: `write(stdout, "Parent received: Child echoing: Parent message 0\\n", 49) = ${last}`, syscall: 'write' },
    ];
    const run = (last: string): ProgramRun => ({
      command: ['x'],
      stdout: 'a\n',
      exitStatus: 0,
      wallSeconds: 1,
      calls: {
        parent: calls(last),
        child: [],
        runtime: { parent: new Map([['mmap', 3]]), child: new Map() },
        parentPid: 1,
        childPid: null,
      },
    });
    const same = { identical: true, firstDifference: null };
    const comparison: Comparison = {
      rust: run('49'),
      typescript: run('-1 EPIPE (broken pipe)'),
      stdout: same,
      parent: { identical: false, firstDifference: 2 },
      child: same,
      sleepCalls: { rust: [], typescript: [] },
    };
    const stacked = formatReport(comparison, { width: 80, diffOnly: true });
    assert.deepEqual(tooWide(stacked), []);
    assert.doesNotMatch(stacked, /pipe\(\) = /, 'the line both share is left out');
    assert.match(stacked, /^ {2}2 R write\(stdout, .*\n(?: {8}.*\n)* {4}T write\(stdout, /m);
    assert.match(stacked, /= -1 EPIPE \(broken pipe\)/, 'a result is not broken in two');
    const sideBySide = formatReport(comparison, { width: 120, diffOnly: true });
    assert.deepEqual(tooWide(sideBySide, 120), []);
    assert.match(sideBySide, /^ {2}2 {2}write\(stdout, +≠ write\(stdout,$/m);
    assert.doesNotMatch(sideBySide, /pipe\(\) = /);
    const everything = formatReport(comparison, { width: 80 });
    assert.match(everything, /^ {2}1 = pipe\(\) = \[parent_read, child_write\]$/m);
  });

  it('compare: stacked under 100 columns, within 80', { skip: skipUnless(missingTools()) }, () => {
    const run = spawnSync(process.execPath, [CLI, 'compare'], { encoding: 'utf8', env, timeout: 240_000 });
    assert.equal(run.status, 0, run.stderr || run.stdout);
    assertFits({ stdout: run.stdout, stderr: run.stderr, status: run.status }, 'compare');
    // One side above the other: the Rust call, and the TypeScript one only where it differs.
    assert.match(run.stdout, /^ {3}6 = write\(parent_write, "Parent message 0", 16\) = 16$/m);
    assert.match(run.stdout, /The tutorial's calls in the parent: identical \(49 calls\)/);
  });

  it('compare --diff-only prints no rows when both sides agree', { skip: skipUnless(missingTools()) }, () => {
    const run = spawnSync(process.execPath, [CLI, 'compare', '--diff-only'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '120' },
      timeout: 240_000,
    });
    assert.equal(run.status, 0, run.stderr || run.stdout);
    assert.deepEqual(tooWide(run.stdout, 120), []);
    assert.doesNotMatch(run.stdout, /write\(parent_write/, 'no identical row is printed');
    assert.match(run.stdout, /The tutorial's calls in the child: identical \(36 calls\)/);
  });
});

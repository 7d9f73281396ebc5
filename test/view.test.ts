/// <reference lib="dom" />
// `bidirectional-ipc view`: the recording a real run leaves, and the page that
// replays it, loaded in headless Chromium (Debian's `chromium`, driven by
// puppeteer-core; nothing here downloads a browser). Screenshots of each state
// checked go to $VIEW_ARTIFACTS (default: a directory under the system's tmp).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { missingStrace } from '../src/compare/compare';
import { loadRecording } from '../src/view/recording';
import type { RawEvent, Recording } from '../src/view/types';
import { close, fcntl, F_SETFL, isSyscallError, O_NONBLOCK, pipe, write } from '../src/index';
import { progress } from '../src/internal/text';
import { CLI, runCli, skipUnless } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const NEEDS_CHROMIUM = skipUnless(
  fs.existsSync(CHROMIUM) ? [] : ['chromium is not installed: `apt-get install chromium`'],
);
/** The flags without which Chromium here tries (and fails) to reach the network on its own. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Small enough to mail: the demo's page stays under this. */
const MAILABLE_BYTES = 1024 * 1024;
const PIPE_CAPACITY = 65536;
const TEST_TIMEOUT_MS = 90_000;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-view-test-'));
const artifacts = process.env.VIEW_ARTIFACTS ?? path.join(os.tmpdir(), 'bidirectional-ipc-view-artifacts');

/** A pipe end a process holds, as its calls say: which pipe (A, B... in the order pipe() made them) and which end. */
interface HeldEnd {
  pipe: string;
  end: 'read' | 'write';
}

/** What the calls made up to a step say of each process's descriptors of the program's pipes. */
interface Expected {
  /** pid -> fd -> end: held for certain. */
  held: Map<number, Map<number, HeldEnd>>;
  /** pid -> fds in a call that changes them (a close in progress): held or not. */
  changing: Map<number, Set<number>>;
  /** Processes that exec'd or are ending: what /proc shows of them is not checked against the calls. */
  unchecked: Set<number>;
  /** A fork in progress: the parent's table, which a child already there (its fork not returned) holds. */
  forking: Map<number, HeldEnd>[];
}

const TABLE_CALLS = new Set(['pipe', 'close', 'dup', 'dup2', 'fcntl', 'execvp', '_exit']);

/**
 * Per step of a recording, the descriptors each process holds, from its call
 * list alone (pipe, close, dup, dup2, fork, execvp, the processes' ends) and
 * never from the snapshots the page shows.
 */
function tablesFromCalls(events: RawEvent[]): Expected[] {
  const held = new Map<number, Map<number, HeldEnd>>();
  const changing = new Map<number, Set<number>>();
  const unchecked = new Set<number>();
  const atFork = new Map<number, Map<number, HeldEnd>>(); // parent pid -> its table when it forked
  let made = 0;
  const out: Expected[] = [];
  const copy = () => ({
    held: new Map([...held].map(([pid, t]) => [pid, new Map(t)])),
    changing: new Map([...changing].map(([pid, t]) => [pid, new Set(t)])),
    unchecked: new Set(unchecked),
    forking: [...atFork.values()].map((t) => new Map(t)),
  });
  const born = (child: number, parent: number) => {
    if (!held.has(child)) held.set(child, new Map(atFork.get(parent) ?? []));
  };
  for (const e of events) {
    const table = held.get(e.pid) ?? new Map<number, HeldEnd>();
    if (!held.has(e.pid) && e.kind !== 'end') held.set(e.pid, table);
    const fd = e.args?.[0] as number;
    if (e.kind === 'start' && e.call === 'close') changing.set(e.pid, new Set([...(changing.get(e.pid) ?? []), fd]));
    if (e.kind === 'start' && e.call === 'fork') atFork.set(e.pid, new Map(table));
    if (e.kind === 'start' && (e.call === 'execvp' || e.call === '_exit')) unchecked.add(e.pid);
    if (e.kind === 'exit') unchecked.add(e.pid);
    // A signal that may end its target: the kernel, not the target's calls, then closes its descriptors.
    if (e.kind === 'start' && e.call === 'kill' && !['SIGSTOP', 'SIGCONT'].includes(String(e.args?.[1])))
      unchecked.add(Number(e.args?.[0]));
    if (e.kind === 'end' && e.call === 'fork') {
      if (e.result === 0) born(e.pid, e.ppid);
      else if (typeof e.result === 'number') {
        born(e.result, e.pid);
        atFork.delete(e.pid);
      }
    }
    if (e.kind === 'end' && !e.error) {
      if (e.call === 'pipe') {
        const [r, w] = e.result as number[];
        const pipe = String.fromCharCode(65 + made++);
        table.set(r, { pipe, end: 'read' });
        table.set(w, { pipe, end: 'write' });
      } else if ((e.call === 'dup' || e.call === 'dup2') && table.has(fd))
        table.set(e.result as number, table.get(fd)!);
      else if (e.call === 'dup2') table.delete(e.result as number);
      else if (e.call === 'waitpid' || e.call === 'wait') {
        // Reaped: gone. A stopped or continued child is still there.
        const status = e.result as { pid: number; stopped: boolean; continued: boolean };
        if (status.pid > 0 && !status.stopped && !status.continued) held.delete(status.pid);
      }
    }
    // close(2) releases the descriptor whatever it returns (even EINTR on Linux).
    if (e.kind === 'end' && e.call === 'close') {
      table.delete(fd);
      changing.get(e.pid)?.delete(fd);
    }
    out.push(copy());
  }
  return out;
}

/** One process as the page shows it at a step. */
interface ShownProcess {
  pid: number;
  state: string;
  readFrom: number | null;
  readTo: number | null;
  rows: { fd: number; refersTo: string }[];
}

/** Records a run with the CLI, as a user would; returns the page's path and the recording. */
function recordRun(name: string, program: string[]): { html: string; recording: Recording } {
  const html = path.join(work, `${name}.html`);
  const json = path.join(work, `${name}.json`);
  const run = runCli(['view', ...program, '--html', html, '--json', json]);
  assert.equal(run.status, 0, `view ${program.join(' ')} failed: ${run.stderr}`);
  return { html, recording: loadRecording(json) };
}

let demo: { html: string; recording: Recording };
let capacity: { html: string; recording: Recording };
let unclosed: { html: string; recording: Recording };
let pipeline: { html: string; recording: Recording };

before(() => {
  demo = recordRun('demo', []);
  capacity = recordRun('pipe-capacity', ['lesson', 'pipe-capacity']);
  unclosed = recordRun('unclosed-ends', ['lesson', 'unclosed-ends']);
  pipeline = recordRun('pipeline', ['lesson', 'pipeline']);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the recording of the demo', () => {
  test('has both processes, each call started and returned, and the tutorial beside the Rust original', () => {
    const { events, rootPid } = demo.recording;
    const pids = new Set(events.map((e) => e.pid));
    assert.equal(pids.size, 2, 'parent and child');
    const calls = (kind: string, call: string) => events.filter((e) => e.kind === kind && e.call === call);
    // 2 pipes; 10 messages and 10 echoes, each written and read, plus println's writes to stdout
    assert.equal(calls('end', 'pipe').length, 2);
    assert.equal(calls('start', 'write').length, calls('end', 'write').length);
    assert.equal(calls('end', 'read').filter((e) => e.pipe !== undefined).length, 20);
    const waitStart = events.findIndex((e) => e.kind === 'start' && e.call === 'waitpid');
    assert.ok(waitStart > 0 && events[waitStart].pid === rootPid);
    assert.ok(demo.recording.rust !== null && Object.keys(demo.recording.rustLines).length > 5);
  });

  test('puts every read of a pipe after the write of the bytes it got', () => {
    const { events } = demo.recording;
    events.forEach((e, i) => {
      if (e.kind !== 'end' || e.call !== 'read' || e.pipe === undefined) return;
      const text = (e.result as { text: string }).text;
      const written = events
        .slice(0, i)
        .some(
          (w) =>
            w.kind === 'end' &&
            w.call === 'write' &&
            w.pipe === e.pipe &&
            (w.args?.[1] as { text: string }).text === text,
        );
      assert.ok(written, `read of "${text}" at step ${i} comes before its write`);
    });
  });

  test(
    "has the child's end and the parent's SIGCHLD as the kernel reported them, before the waitpid that reports them",
    { skip: skipUnless(missingStrace()) },
    () => {
      const { events, rootPid, signals } = demo.recording;
      assert.match('by' in signals ? signals.by : signals.missing, /^strace .*\(ptrace\)$/);
      const waited = events.findIndex((e) => e.kind === 'end' && e.call === 'waitpid' && e.pid === rootPid);
      const status = events[waited].result as { pid: number; exitCode: number };
      const ended = events.findIndex((e) => e.kind === 'ended' && e.pid === status.pid);
      assert.ok(
        ended >= 0 && ended < waited,
        `the end (step ${ended + 1}) before waitpid returns (step ${waited + 1})`,
      );
      assert.equal(events[ended].notice!.exitCode, status.exitCode, "the kernel's record agrees with waitpid's status");
      const sigchld = events.findIndex(
        (e) =>
          e.kind === 'signal' && e.pid === rootPid && e.notice!.signal === 'SIGCHLD' && e.notice!.from === status.pid,
      );
      assert.ok(sigchld > ended, 'SIGCHLD after the end');
      assert.equal(events[sigchld].notice!.code, 'CLD_EXITED');
      assert.equal(events[sigchld].notice!.status, String(status.exitCode));
      // Nothing from the tools themselves (the shell that starts strace).
      const pids = new Set(events.filter((e) => e.kind === 'start').map((e) => e.pid));
      for (const e of events.filter((x) => x.notice?.from)) assert.ok(pids.has(e.notice!.from!), JSON.stringify(e));
    },
  );

  test(
    'pipe-capacity: each killed child ends by SIGKILL, as waitpid then reports',
    { skip: skipUnless(missingStrace()) },
    () => {
      const { events } = capacity.recording;
      const killed = events.filter(
        (e) => e.kind === 'end' && e.call === 'waitpid' && (e.result as { signal: string | null }).signal === 'SIGKILL',
      );
      assert.equal(killed.length, 2);
      for (const w of killed) {
        const pid = (w.result as { pid: number }).pid;
        const ended = events.find((e) => e.kind === 'ended' && e.pid === pid);
        assert.ok(ended, `the end of ${pid}`);
        assert.equal(ended.notice!.exitCode, null);
        assert.equal(ended.notice!.signal, 'SIGKILL');
        assert.ok(events.indexOf(ended) < events.indexOf(w));
        assert.ok(events.some((e) => e.kind === 'signal' && e.pid === pid && e.notice!.signal === 'SIGSTOP'));
      }
    },
  );

  test("pipe-capacity: a loop's calls fold into one step that returns, and polling loops fold", () => {
    const { events } = capacity.recording;
    const ends = new Set(events.filter((e) => e.kind === 'end').map((e) => `${e.pid}:${e.id}`));
    const folded = events.filter((e) => e.kind === 'start' && e.repeat);
    assert.ok(
      folded.some((e) => e.call === 'write' && e.repeat === 16),
      'the 16 writes that fill a new pipe',
    );
    for (const s of folded) assert.ok(ends.has(`${s.pid}:${s.id}`), `the loop of ${s.call} ×${s.repeat} returns`);
    const polls = events.filter(
      (e) => e.kind === 'end' && e.call === 'waitpid' && (e.result as { pid: number }).pid === 0 && !e.repeat,
    );
    assert.ok(polls.length * 10 < events.length, `${polls.length} unfolded polls in ${events.length} steps`);
  });

  test('renders again from the JSON alone (--from), and is small enough to mail', () => {
    const again = path.join(work, 'again.html');
    const run = runCli(['view', '--from', path.join(work, 'demo.json'), '--html', again]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(again, 'utf8'), fs.readFileSync(demo.html, 'utf8'));
    assert.ok(fs.statSync(demo.html).size < MAILABLE_BYTES, `${fs.statSync(demo.html).size} bytes`);
  });

  test('refuses what it cannot do, with a clear message', () => {
    const page = path.join(work, 'x.html');
    for (const [args, status, message] of [
      [['view'], 2, /--html FILE/],
      [['view', 'lesson', 'no-such-lesson', '--html', page], 2, /no lesson 'no-such-lesson'/],
      [['view', 'demo', '--from', path.join(work, 'demo.json'), '--html', page], 2, /name no program/],
      [['view', '--iterations', '0', '--html', page], 2, /--iterations: a whole number/],
      [['view', '--iterations', '-1', '--html', page], 2, /--iterations: a whole number from 1 to 1000, not '-1'/],
      [['view', '--from', path.join(work, 'missing.json'), '--html', page], 1, /ENOENT|no such file/],
      [['view', '--from', demo.html, '--html', page], 2, /--from: .*demo.html is not JSON/],
    ] as const) {
      const run = runCli([...args]);
      assert.equal(run.status, status, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.ok(!fs.existsSync(page), 'no page written');
    }
  });
});

describe('the page, in headless Chromium', { skip: NEEDS_CHROMIUM, timeout: TEST_TIMEOUT_MS * 3 }, () => {
  let browser: Browser;
  let profile: string;

  before(async () => {
    const puppeteer = (await import('puppeteer-core')).default;
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-chromium-'));
    fs.mkdirSync(artifacts, { recursive: true });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
  });
  after(async () => {
    await browser?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  /** Opens a page; collects console errors, uncaught errors and every request that is not the page itself. */
  async function open(
    file: string,
    viewport = { width: 1280, height: 720 },
    query = '',
  ): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    const url = `file://${file}${query}`;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('request', (r) => {
      if (r.url() !== url) problems.push(`request: ${r.url()}`);
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.setViewport(viewport);
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    return { page, problems };
  }

  const stepWhere = (page: Page, predicate: string) =>
    page.evaluate(
      (p) =>
        (window as unknown as { ipcView: { steps: unknown[] } }).ipcView.steps.findIndex(
          new Function('s', `return ${p}`) as (s: unknown) => boolean,
        ),
      predicate,
    );
  const go = (page: Page, i: number) =>
    page.evaluate((n) => (window as unknown as { ipcView: { go(n: number): void } }).ipcView.go(n), i);
  const shot = async (page: Page, name: string) => {
    const file = path.join(artifacts, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  };
  const pipeState = (page: Page, label: string) =>
    page.$eval(`[data-pipe="${label}"].pipe`, (el) => ({
      queued: Number((el as HTMLElement).dataset.queued),
      capacity: Number((el as HTMLElement).dataset.capacity),
      direction: (el as HTMLElement).dataset.direction,
      text: el.textContent ?? '',
    }));

  test(
    'demo: the first message fills the parent-to-child pipe, the child drains it, the zombie is shown, then no process is left',
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { page, problems } = await open(demo.html);
      const firstWrite = await stepWhere(
        page,
        "s.kind === 'end' && s.call === 'write' && s.role === 'parent' && s.pipe !== null",
      );
      assert.ok(firstWrite > 0, "the parent's first write to a pipe is a step");
      // Reach it with the keyboard alone.
      await page.focus('body');
      for (let i = 0; i < firstWrite; i++) await page.keyboard.press('ArrowRight');
      assert.equal(
        await page.evaluate(() => (window as unknown as { ipcView: { index: number } }).ipcView.index),
        firstWrite,
      );
      const label = await page.evaluate(
        (n) => (window as unknown as { ipcView: { steps: { pipe: string }[] } }).ipcView.steps[n].pipe,
        firstWrite,
      );
      let pipe = await pipeState(page, label);
      t.diagnostic(`after the parent's first write: ${await shot(page, 'demo-1-parent-write')}`);
      // The child may not have closed its copy of parent_write yet: then both hold a write end.
      assert.match(pipe.direction!, /^parent( \+ child)? → child$/);
      assert.equal(pipe.queued, 16);
      assert.match(pipe.text, /16 \/ 65536 bytes queued/);
      assert.match(pipe.text, /"Parent message 0"/);

      const childRead = await stepWhere(
        page,
        `s.kind === 'end' && s.call === 'read' && s.role === 'child' && s.pipe === '${label}'`,
      );
      assert.ok(childRead > firstWrite, "the child's read comes after the parent's write");
      await go(page, childRead);
      pipe = await pipeState(page, label);
      t.diagnostic(`after the child's read: ${await shot(page, 'demo-2-child-read')}`);
      assert.equal(pipe.queued, 0);
      assert.match(pipe.text, /(^|\D)0 \/ 65536 bytes queued/);

      const waitStart = await stepWhere(page, "s.kind === 'start' && s.call === 'waitpid' && s.role === 'parent'");
      await go(page, waitStart);
      const states = await page.$$eval('[data-pid]', (els) =>
        els.map((el) => `${(el as HTMLElement).dataset.role}:${(el as HTMLElement).dataset.state}`),
      );
      t.diagnostic(`the parent about to wait: ${await shot(page, 'demo-3-zombie')}`);
      assert.deepEqual(states.sort(), ['child:Z', 'parent:R']);
      assert.match(await page.$eval('[data-role="child"]', (el) => el.textContent ?? ''), /zombie/);

      await page.keyboard.press('End');
      t.diagnostic(`the end: ${await shot(page, 'demo-4-end')}`);
      assert.equal(await page.$$eval('[data-pid]', (els) => els.length), 0, 'no process is left');
      assert.match(await page.$eval('#procs', (el) => el.textContent ?? ''), /No process is left/);

      // Play a few steps at the slowed speed, then pause.
      await page.keyboard.press('Home');
      await page.select('#speed', '0.25');
      await page.click('#play');
      await page.waitForFunction(() => (window as unknown as { ipcView: { index: number } }).ipcView.index > 3, {
        timeout: 20_000,
      });
      await page.click('#play');
      assert.equal(await page.$eval('#play', (el) => el.getAttribute('aria-pressed')), 'false');
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  /** Every step of a page: each process box, its state, when its table was read, its pipe descriptors. */
  async function everyStep(file: string): Promise<ShownProcess[][]> {
    const { page, problems } = await open(file);
    const steps = await page.evaluate(() => {
      const view = (window as unknown as { ipcView: { count: number; go(n: number): void } }).ipcView;
      const all = [];
      for (let i = 0; i < view.count; i++) {
        view.go(i);
        all.push(
          Array.from(document.querySelectorAll<HTMLElement>('#procs [data-pid]')).map((box) => ({
            pid: Number(box.dataset.pid),
            state: box.dataset.state ?? '',
            readFrom: box.dataset.readFrom === undefined ? null : Number(box.dataset.readFrom),
            readTo: box.dataset.readTo === undefined ? null : Number(box.dataset.readTo),
            rows: Array.from(box.querySelectorAll<HTMLTableRowElement>('tr[data-ofd]')).map((row) => ({
              fd: Number(row.dataset.fd),
              refersTo: row.cells[2].textContent ?? '',
            })),
          })),
        );
      }
      return all;
    });
    assert.deepEqual(problems, []);
    await page.close();
    return steps;
  }

  /**
   * At every step, each process's pipe descriptors are those its calls up to
   * that step left it (a close in progress may show either way), and the look
   * at /proc shown for it was taken after its last call that changed them had
   * returned and before its next one began.
   */
  function checkEveryStep(recording: Recording, shown: ShownProcess[][]): number {
    const { events } = recording;
    assert.equal(shown.length, events.length, 'one page step per recorded event');
    const expected = tablesFromCalls(events);
    let checked = 0;
    shown.forEach((procs, i) => {
      const want = expected[i];
      const where = (pid: number) =>
        `step ${i + 1} (${events[i].kind} ${events[i].call ?? events[i].text ?? ''} in ${events[i].pid}), pid ${pid}`;
      for (const p of procs) {
        if (want.unchecked.has(p.pid) || p.state === 'Z') continue;
        // A child its parent's fork made before the fork returned there: it holds what the parent held.
        const table =
          want.held.get(p.pid) ??
          want.forking.find((t) => [...t].every(([fd]) => p.rows.some((r) => r.fd === fd)) && t.size === p.rows.length);
        assert.ok(table, `${where(p.pid)}: shown before a fork made it, or not as its parent's copy`);
        const maybe = want.changing.get(p.pid) ?? new Set<number>();
        const fds = p.rows.map((r) => r.fd);
        for (const [fd, end] of table) {
          if (maybe.has(fd)) continue;
          const row = p.rows.find((r) => r.fd === fd);
          assert.ok(
            row,
            `${where(p.pid)}: fd ${fd} (pipe ${end.pipe}, ${end.end} end) is held but not shown; shown: ${fds}`,
          );
          assert.match(row.refersTo, new RegExp(`^pipe ${end.pipe}, ${end.end} end`), `${where(p.pid)}: fd ${fd}`);
        }
        for (const fd of fds)
          assert.ok(
            table.has(fd) || maybe.has(fd),
            `${where(p.pid)}: fd ${fd} is shown but its calls had closed it (or never made it)`,
          );
        // The look at /proc shown fits between the process's own calls that change its table.
        assert.ok(p.readFrom !== null && p.readTo !== null, `${where(p.pid)}: a table without the time it was read`);
        for (let j = 0; j < events.length; j++) {
          const e = events[j];
          if (e.pid !== p.pid || !TABLE_CALLS.has(e.call ?? '')) continue;
          if (j <= i && e.kind === 'end')
            assert.ok(
              p.readFrom >= e.time,
              `${where(p.pid)}: read at ${p.readFrom}, before its ${e.call} of step ${j + 1} returned (${e.time})`,
            );
          if (j > i && e.kind === 'start')
            assert.ok(
              p.readTo <= e.time,
              `${where(p.pid)}: read at ${p.readTo}, after its ${e.call} of step ${j + 1} began (${e.time})`,
            );
        }
        checked++;
      }
      for (const [pid, table] of want.held)
        if (!want.unchecked.has(pid) && table.size > 0 && !procs.some((p) => p.pid === pid))
          assert.fail(`${where(pid)}: a live process holding pipes is not shown`);
    });
    return checked;
  }

  test(
    "demo: at every step each process's fd table is what its calls up to that step left, read from /proc between them",
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const checked = checkEveryStep(demo.recording, await everyStep(demo.html));
      t.diagnostic(`${demo.recording.events.length} steps, ${checked} process tables checked`);
      assert.ok(checked > demo.recording.events.length, 'both processes checked at most steps');
    },
  );

  test(
    "lessons: at every step each process's fd table is what its calls left (pipe-capacity, unclosed-ends, pipeline until it execs)",
    { timeout: TEST_TIMEOUT_MS * 2 },
    async (t) => {
      for (const run of [capacity, unclosed, pipeline]) {
        const checked = checkEveryStep(run.recording, await everyStep(run.html));
        t.diagnostic(
          `${run.recording.command}: ${run.recording.events.length} steps, ${checked} process tables checked`,
        );
        assert.ok(checked >= run.recording.events.length / 2);
      }
    },
  );

  test(
    'demo: the SIGCHLD step names the signal, its sender and status, and what the parent does with it',
    { skip: skipUnless(missingStrace()), timeout: TEST_TIMEOUT_MS },
    async () => {
      const { page, problems } = await open(demo.html);
      const step = await stepWhere(page, "s.kind === 'signal'");
      assert.ok(step >= 0);
      await go(page, step);
      const now = await page.$eval('#now', (el) => el.textContent ?? '');
      assert.match(
        now,
        /The kernel delivers SIGCHLD \(child \d+ exited with status 0\) to parent \(pid \d+\); no handler: its default action is to ignore it\./,
      );
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  test(
    'pipe-capacity: a pipe whose read end is closed says SIGPIPE, not a bare EPIPE; flags print by name, NUL as \\0',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { page, problems } = await open(capacity.html);
      const found = await page.evaluate(() => {
        const view = (window as unknown as { ipcView: { count: number; go(n: number): void } }).ipcView;
        for (let i = 0; i < view.count; i++) {
          view.go(i);
          const lonely = Array.from(document.querySelectorAll('.pipe:not(.freed)')).find((p) =>
            /read ends open: 0/.test(p.textContent ?? ''),
          );
          if (lonely) return lonely.textContent;
        }
        return null;
      });
      assert.ok(found, 'a pipe with its write end open and no read end');
      assert.match(found, /a write raises SIGPIPE, which ends the writer unless it ignores, catches or blocks it/);
      assert.doesNotMatch(found, /No read end is open: a write fails with EPIPE\./);
      const texts = await page.evaluate(() => {
        const view = (window as unknown as { ipcView: { count: number; go(n: number): void } }).ipcView;
        const out: string[] = [];
        for (let i = 0; i < view.count; i++) {
          view.go(i);
          out.push(document.getElementById('now')?.textContent ?? '');
        }
        return out.join('\n');
      });
      assert.match(texts, /calls pipe2\(O_NONBLOCK\)/);
      assert.match(texts, /fcntl\(\d+, F_SETPIPE_SZ, \d+\)/);
      assert.match(texts, /kill\(\d+, SIGSTOP\)/);
      assert.match(texts, /write\(\d+, "\\0\\0\\0/, 'the zeros measureCapacity writes');
      assert.doesNotMatch(texts, /pipe\(2048\)|\\u0000/);
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  test(
    'demo: at phone size and in dark mode the pipes are on screen without sideways scrolling',
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { page, problems } = await open(demo.html, { width: 390, height: 844 });
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
      const firstWrite = await stepWhere(
        page,
        "s.kind === 'end' && s.call === 'write' && s.role === 'parent' && s.pipe !== null",
      );
      await go(page, firstWrite);
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: window.innerWidth,
        bg: getComputedStyle(document.body).backgroundColor,
      }));
      t.diagnostic(`phone, dark: ${path.join(artifacts, 'demo-phone-dark.png')}`);
      await page.screenshot({ path: path.join(artifacts, 'demo-phone-dark.png'), fullPage: true });
      assert.ok(widths.page <= widths.view, `page ${widths.page}px wide in a ${widths.view}px viewport`);
      assert.notEqual(widths.bg, 'rgb(253, 253, 251)', 'the dark background');
      const box = await page.$eval('[data-pipe].pipe:not(.freed)', (el) => el.getBoundingClientRect().right);
      assert.ok(box <= widths.view);
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  test(
    "pipe-capacity: the writer's call stays open while its pipe holds 65536 of 65536 bytes",
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { page, problems } = await open(capacity.html);
      const found = await page.evaluate((cap) => {
        const view = (window as unknown as { ipcView: { count: number; go(n: number): void } }).ipcView;
        for (let i = 0; i < view.count; i++) {
          view.go(i);
          const full = Array.from(document.querySelectorAll<HTMLElement>('.pipe[data-queued]')).find(
            (p) => Number(p.dataset.queued) === cap && Number(p.dataset.capacity) === cap,
          );
          const writing = Array.from(document.querySelectorAll<HTMLElement>('.incall[data-call="write"]')).find((c) =>
            /blocked/.test(c.textContent ?? ''),
          );
          if (full && writing && document.querySelector('#timeline-svg .bar.open'))
            return { step: i, pipe: full.dataset.pipe, call: writing.textContent };
        }
        return null;
      }, PIPE_CAPACITY);
      assert.ok(found, 'a step where a write is in progress, blocked, and its pipe is full');
      await go(page, found.step);
      t.diagnostic(`a blocked write, the pipe full: ${await shot(page, 'pipe-capacity-full')}`);
      assert.match(await pipeState(page, found.pipe!).then((p) => p.text), /65536 \/ 65536 bytes queued — full/);
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  test(
    "unclosed-ends: the child blocked in read holds the pipe's only write end itself",
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { page, problems } = await open(unclosed.html);
      const later = await stepWhere(page, "s.kind === 'say' && /500 ms later/.test(s.text)");
      assert.ok(later > 0, 'the lesson says what it saw after 500 ms');
      await go(page, later);
      t.diagnostic(`the child stuck: ${await shot(page, 'unclosed-ends-stuck')}`);
      const pipe = await page.$eval('.pipe:not(.freed)', (el) => el.textContent ?? '');
      assert.match(pipe, /write ends open: 1 \(child 1 fd \d+\)/);
      const child = await page.$eval('[data-role="child 1"]', (el) => ({
        state: (el as HTMLElement).dataset.state,
        text: el.textContent ?? '',
      }));
      assert.equal(child.state, 'S');
      assert.match(child.text, /read\(\d+.*in progress .* blocked, waiting/);
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  test("a lesson's printed lines appear at their step, none before", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page, problems } = await open(unclosed.html);
    const later = await stepWhere(page, "s.kind === 'say' && /500 ms later/.test(s.text)");
    assert.ok(later > 0);
    const said = () => page.$eval('#said', (el) => el.textContent ?? '');
    await go(page, later - 1);
    assert.doesNotMatch(await said(), /500 ms later/, 'not printed yet one step before');
    await go(page, later);
    assert.match(await said(), /500 ms later/);
    await go(page, 0);
    assert.doesNotMatch(await said(), /The fix/, 'nothing of the fix at the first step');
    assert.deepEqual(problems, []);
    await page.close();
  });

  /** What each process wrote to stdout or stderr: the step its write began, and the text (the program's output). */
  const outputOf = (recording: Recording) =>
    recording.events.flatMap((e, i) => {
      const text = (e.args?.[1] as { text?: string } | undefined)?.text?.trim();
      return e.kind === 'start' && e.call === 'write' && (e.args?.[0] === 1 || e.args?.[0] === 2) && text
        ? [{ start: i, text }]
        : [];
    });

  /**
   * What the page shows at the step it is on that has not happened yet: the
   * program's output from a write that begins later, and a return value on a
   * call that has not returned (a timeline bar still open).
   */
  const unhappened = (page: Page, output: { start: number; text: string }[]) =>
    page.evaluate((writes) => {
      const at = (window as unknown as { ipcView: { index: number } }).ipcView.index;
      const shown = `${document.body.innerText}\n${Array.from(document.querySelectorAll('title'), (t) => t.textContent).join('\n')}`;
      return [
        ...writes.filter((w) => w.start > at && shown.includes(w.text)).map((w) => `output of step ${w.start + 1}`),
        ...Array.from(document.querySelectorAll('#timeline-svg .bar.open title'), (t) => t.textContent ?? '')
          .filter((title) => / = /.test(title))
          .map((title) => `an open call's return: ${title}`),
      ];
    }, output);

  test(
    "demo: no step shows output or a return that has not happened yet (the program's writes, open calls)",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { page, problems } = await open(demo.html);
      const output = outputOf(demo.recording);
      assert.ok(output.length >= 20, 'the demo prints each message and echo');
      for (let i = 0; i < demo.recording.events.length; i++) {
        await go(page, i);
        assert.deepEqual(await unhappened(page, output), [], `step ${i + 1}`);
      }
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  /** The question on screen, as the page marks it up. */
  interface Asked {
    index: number;
    shown: boolean;
    kind: string;
    step: number;
    pid: number;
    inode: number;
    pipe: string;
    end: string;
    seen: string;
    answer: string;
    right: string;
    question: string;
    verdict: string;
    choices: string[];
  }

  /**
   * The answer to the page's question about step `i`, from the recording alone:
   * a call's return, the bytes its calls put into and took out of a pipe, the
   * descriptors and states of the look at /proc (or the tracer's report of an
   * end) the page names as its source, the ends the calls left each process.
   */
  function kernelAnswer(recording: Recording, i: number, q: Asked): string {
    const { events } = recording;
    const e = events[i];
    const bytes = (r: unknown) => (typeof r === 'number' ? r : (r as { bytes: number }).bytes);
    /** The look at /proc of step `at`, for process `pid`. */
    const look = (at: number, pid: number) => {
      assert.ok(at <= i, `the answer to step ${i + 1} from a look at step ${at + 1}: after it`);
      const p = events[at].snapshot?.processes.find((x) => x.pid === pid);
      assert.ok(p, `step ${at + 1} looked at ${pid}`);
      return p;
    };
    switch (q.kind) {
      case 'returns':
        return String(bytes(e.result));
      case 'queued': {
        let queued = 0;
        for (const x of events.slice(0, i + 1))
          if (x.kind === 'end' && x.pipe === q.inode && !x.error && (x.call === 'write' || x.call === 'read'))
            queued += (x.call === 'write' ? 1 : -1) * bytes(x.result);
        return String(queued);
      }
      case 'ends': {
        const programPipes = new Set(events[Number(q.seen)].snapshot!.pipes.map((p) => p.inode));
        return String(look(Number(q.seen), q.pid).fds.filter((f) => programPipes.has(f.pipe!)).length);
      }
      case 'holders': {
        // The looks at /proc the page names, and the ends the calls up to the step left: the same count.
        const holds = (fds: { pipe?: number; end?: string }[]) =>
          fds.some((f) => f.pipe === q.inode && f.end === q.end);
        const seen = q.seen.split(',').map((x) => x.split(':').map(Number));
        const fromProc = seen.filter(([pid, at]) => holds(look(at, pid).fds)).length;
        const fromCalls = [...tablesFromCalls(events)[i].held.values()].filter((table) =>
          [...table.values()].some((h) => h.pipe === q.pipe && h.end === q.end),
        ).length;
        assert.equal(fromProc, fromCalls, `step ${i + 1}: /proc and the calls agree`);
        return String(fromProc);
      }
      case 'state': {
        const [kind, at] = q.seen.split(':');
        if (kind === 'ended') {
          assert.ok(events[Number(at)].kind === 'ended' && events[Number(at)].pid === q.pid);
          return 'Z';
        }
        return look(Number(at), q.pid).state;
      }
      case 'blocked':
        return q.seen
          .split(',')
          .map((x) => x.split(':').map(Number))
          .filter(([pid, at]) => ['S', 'D'].includes(look(at, pid).state))
          .map(([pid]) => String(pid))
          .sort()
          .join(',');
      default:
        assert.fail(`a question of an unknown kind: ${q.kind}`);
    }
  }

  test(
    '?quiz: before each step it can, the page asks what `steps --predict` asks, reveals what the kernel saw and judges the answer',
    { timeout: TEST_TIMEOUT_MS * 2 },
    async (t) => {
      const { page, problems } = await open(demo.html, undefined, '?quiz');
      const output = outputOf(demo.recording);
      // The recording beside the screenshots: the questions a run gets depend on its timing.
      fs.copyFileSync(path.join(work, 'demo.json'), path.join(artifacts, 'quiz-demo.json'));
      t.diagnostic(`the recording: ${path.join(artifacts, 'quiz-demo.json')}`);
      const state = () =>
        page.evaluate((): Asked => {
          const quiz = document.getElementById('quiz') as HTMLElement;
          return {
            index: (window as unknown as { ipcView: { index: number } }).ipcView.index,
            // a question waits for its answer (a verdict stays shown after it)
            shown: !quiz.hidden && !(document.getElementById('quiz-reveal') as HTMLButtonElement).disabled,
            kind: quiz.dataset.kind ?? '',
            step: Number(quiz.dataset.step),
            pid: Number(quiz.dataset.pid),
            inode: Number(quiz.dataset.inode),
            pipe: quiz.dataset.pipe ?? '',
            end: quiz.dataset.end ?? '',
            seen: quiz.dataset.seen ?? '',
            answer: quiz.dataset.answer ?? '',
            right: quiz.dataset.right ?? '',
            question: document.getElementById('quiz-question')?.textContent ?? '',
            verdict: document.getElementById('quiz-verdict')?.textContent ?? '',
            choices: Array.from(document.querySelectorAll<HTMLInputElement>('#quiz-choices input'), (c) => c.value),
          };
        });
      /** Answers the question on screen with `value` (a number, or the choices to tick, comma-separated), then reveals. */
      const answer = async (q: Asked, value: string) => {
        if (q.choices.length === 0) await page.type('#quiz-answer', value);
        else for (const v of value.split(',').filter(Boolean)) await page.click(`#quiz-choices input[value="${v}"]`);
        await page.click('#quiz-reveal');
        return state();
      };
      /** An answer the kernel's is not. */
      const wrongFor = (q: Asked, right: string) =>
        q.choices.length === 0
          ? String(Number(right) + 1)
          : q.kind === 'blocked'
            ? right === ''
              ? q.choices[0]
              : ''
            : q.choices.find((c) => c !== right)!;
      const kinds = new Map<string, number>();
      for (;;) {
        const before = (await state()).index;
        await page.click('#forward');
        const asked = await state();
        if (!asked.shown) {
          if (asked.index === before) break; // the last step
          continue;
        }
        const i = asked.step;
        assert.equal(asked.index, i - 1, 'the step waits for the answer');
        assert.deepEqual(await unhappened(page, output), [], `while asking about step ${i + 1}`);
        if (!kinds.has(asked.kind))
          t.diagnostic(`${asked.kind}: ${asked.question} (${await shot(page, `quiz-${asked.kind}`)})`);
        kinds.set(asked.kind, (kinds.get(asked.kind) ?? 0) + 1);
        const data = (demo.recording.events[i].result as { text?: string } | undefined)?.text;
        if (data)
          assert.ok(!asked.question.includes(data), `the question gives away what the read returns: ${asked.question}`);
        const right = kernelAnswer(demo.recording, i, asked);
        const wrong = await answer(asked, wrongFor(asked, right));
        assert.equal(wrong.index, i, 'revealed: the step is shown');
        assert.equal(wrong.answer, right, `step ${i + 1}, ${asked.kind}: the kernel's answer`);
        assert.equal(wrong.right, 'false', `${wrong.verdict}`);
        assert.match(wrong.verdict, /^The kernel: .+\. You said .*: not this time\.$/);
        // Again, answered right this time.
        await go(page, i - 1);
        await page.click('#forward');
        const again = await state();
        assert.equal(again.step, i, 'the same question again');
        const judged = await answer(again, right);
        assert.equal(judged.right, 'true', `step ${i + 1}: ${judged.verdict}`);
        if (kinds.get(asked.kind) === 1) t.diagnostic(`${wrong.verdict} / ${judged.verdict}`);
        assert.match(judged.verdict, /^The kernel: .+\. You said .*: right\.$/);
      }
      t.diagnostic(`questions asked: ${JSON.stringify(Object.fromEntries(kinds))}`);
      assert.deepEqual([...kinds.keys()].sort(), ['blocked', 'ends', 'holders', 'queued', 'returns', 'state']);
      assert.equal(
        await page.evaluate(() => (window as unknown as { ipcView: { index: number } }).ipcView.index),
        demo.recording.events.length - 1,
        'stepped to the end',
      );
      assert.deepEqual(problems, []);
      await page.close();
    },
  );

  test(
    'pipeline: every step of the page renders without an error, and the run ends with no process left',
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { page, problems } = await open(pipeline.html);
      const steps = await page.evaluate(() => {
        const view = (window as unknown as { ipcView: { count: number; go(n: number): void } }).ipcView;
        let empty = 0;
        for (let i = 0; i < view.count; i++) {
          view.go(i);
          if (!document.getElementById('now')?.textContent) empty++;
        }
        return { count: view.count, empty };
      });
      assert.ok(steps.count > 10);
      assert.equal(steps.empty, 0);
      const execs = await stepWhere(page, "s.kind === 'start' && s.call === 'execvp'");
      assert.ok(execs > 0, 'the children exec');
      await go(page, execs);
      t.diagnostic(`a child about to exec: ${await shot(page, 'pipeline-exec')}`);
      await page.keyboard.press('End');
      assert.equal(await page.$$eval('[data-pid]', (els) => els.length), 0);
      assert.deepEqual(problems, []);
      await page.close();
    },
  );
});

describe('view of a run that does not end', () => {
  test("past the watchdog's bound it names what is still there, kills the run and exits 137, writing no page", () => {
    // Its stdout is a full pipe that nobody reads: the lesson's first line never gets out.
    const [r, w] = pipe(O_NONBLOCK);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'view-watchdog-'));
    try {
      try {
        for (;;) write(w, Buffer.alloc(65536));
      } catch (error) {
        if (!isSyscallError(error, 'EAGAIN')) throw error;
      }
      fcntl(w, F_SETFL, 0);
      const html = path.join(dir, 'page.html');
      const cli = spawnSync(process.execPath, [CLI, 'view', 'lesson', 'zombie', '--html', html], {
        stdio: ['ignore', w, 'pipe'],
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, BIDIRECTIONAL_IPC_WATCHDOG_MS: '3000' },
      });
      assert.ok(cli.signal === 'SIGKILL' || cli.status === 137, `ended by ${cli.signal ?? cli.status}`);
      assert.match(cli.stderr, /^watchdog: `bidirectional-ipc view lesson zombie --html \S+` has not ended after 3 s/m);
      assert.match(cli.stderr, new RegExp(`^ {2}pid ${cli.pid} \\(\\S+, parent \\d+\\): state \\w, in `, 'm'));
      assert.equal(fs.existsSync(html), false);
    } finally {
      close(r);
      close(w);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress on stderr', () => {
  test('progress() writes its stages to a terminal only', () => {
    const written: string[] = [];
    const stream = (isTTY: boolean) => ({ isTTY, columns: 80, write: (t: string) => written.push(t) });
    progress('bidirectional-ipc compare', stream(false))('building the Rust original');
    assert.deepEqual(written, []);
    progress('bidirectional-ipc compare', stream(true))('building the Rust original');
    assert.deepEqual(written, ['bidirectional-ipc compare: building the Rust original...\n']);
  });

  test('view says what it is doing on a terminal (script(1) gives it one), nothing into a pipe', () => {
    const file = path.join(work, 'progress.html');
    const command = [process.execPath, CLI, 'view', 'lesson', 'zombie', '--html', file].join(' ');
    const onTerminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(onTerminal.status, 0, onTerminal.stdout);
    const said = onTerminal.stdout.replace(/\r/g, '');
    const stages = [
      'running lesson zombie under the recorder...',
      'reading the recording back...',
      'rendering the page...',
    ].map((s) => said.indexOf(`bidirectional-ipc view: ${s}\n`));
    assert.ok(
      stages.every((at, i) => at >= 0 && (i === 0 || at > stages[i - 1])),
      `the stages, in order: ${said}`,
    );
    const piped = runCli(['view', 'lesson', 'zombie', '--html', file]);
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stderr.replace(/^bidirectional-ipc view: wrote .*\n/m, ''), '', 'only the line naming the page');
  });
});

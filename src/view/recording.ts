// From the JSON lines that the processes of a run appended to the recording
// it replays: events in happens-before order, each read and write tied to its
// pipe, and the sources the calls came from, with the matching lines of the
// Rust original.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../internal/paths';
import type { PipeNames } from '../internal/pipe-names';
import { maskHas } from '../internal/proc';
import { type KernelNotice } from './kernel-notices';
import { DATA_KEPT } from './record';
import { RECORDING_FORMAT, type RawEvent, type Recording, type SourceFile } from './types';

/** The gap put between an event and one it must follow, when their clocks say otherwise. */
const AFTER_MS = 0.001;
/** Passes over the constraints; each settles one more link of a causal chain. */
const ORDER_PASSES = 50;

/** Reads the JSON lines; a torn last line (a process killed mid-write) is dropped. */
export function readEvents(file: string): RawEvent[] {
  const events: RawEvent[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as RawEvent);
    } catch {
      // a process killed while appending leaves part of a line
    }
  }
  return events;
}

/** The pipe that descriptor `fd` of `pid` refers to, as the snapshot of `at` shows it. */
function pipeOf(pid: number, at: RawEvent, fd: unknown): number | undefined {
  const self = at.snapshot?.processes.find((p) => p.pid === pid);
  return self?.fds.find((f) => f.fd === fd)?.pipe;
}

/**
 * Ties each read, write and close to its pipe, then orders the events so that
 * each process's own events keep their order and every read of a pipe returns
 * after the write that put the first byte it got there: the clocks of two
 * processes are one, but each event is stamped when the tracer sees it, a
 * little after the kernel did the work.
 */
export function orderEvents(events: RawEvent[]): RawEvent[] {
  const starts = new Map<string, RawEvent>();
  for (const e of events) {
    if (e.kind === 'start') starts.set(`${e.pid}:${e.id}`, e);
  }
  // An event without a snapshot: the last snapshot its own process took holds,
  // since only the process's own calls change its table (another process's
  // snapshot may have read it before or after one of those calls).
  const tablesAt = new Map<RawEvent, RawEvent>();
  const latest = new Map<number, RawEvent>();
  for (const e of events) {
    if (e.snapshot) latest.set(e.pid, e);
    const own = latest.get(e.pid);
    if (own) tablesAt.set(e, own);
  }
  for (const e of events) {
    if (e.call === undefined || !['read', 'write', 'close', 'dup', 'dup2'].includes(e.call) || !e.args) continue;
    const start = e.kind === 'end' ? (starts.get(`${e.pid}:${e.id}`) ?? e) : e;
    e.pipe = pipeOf(start.pid, tablesAt.get(start) ?? start, e.args[0]);
  }
  const byTime = [...events].sort((a, b) => a.time - b.time);
  const key = new Map<RawEvent, number>(byTime.map((e) => [e, e.time]));

  // Byte offsets in each pipe's stream: writes in the order they returned, reads likewise.
  const moved = (e: RawEvent) => {
    const r = e.result as number | { bytes: number } | undefined;
    return typeof r === 'number' ? r : (r?.bytes ?? 0);
  };
  const mustFollow: [later: RawEvent, earlier: RawEvent][] = [];
  const streams = new Map<
    number,
    { writes: { from: number; to: number; end: RawEvent }[]; written: number; read: number }
  >();
  for (const e of byTime) {
    if (e.kind !== 'end' || e.pipe === undefined || (e.call !== 'read' && e.call !== 'write')) continue;
    const s = streams.get(e.pipe) ?? { writes: [], written: 0, read: 0 };
    streams.set(e.pipe, s);
    const n = moved(e);
    if (n <= 0) continue;
    if (e.call === 'write') {
      s.writes.push({ from: s.written, to: s.written + n, end: e });
      s.written += n;
    } else {
      const first = s.read;
      s.read += n;
      const source = s.writes.find((w) => w.from <= first && first < w.to);
      if (source) mustFollow.push([e, source.end]);
      else {
        // The byte came from a write that had not yet been seen to return.
        const pending = byTime.find(
          (w) => w.kind === 'end' && w.call === 'write' && w.pipe === e.pipe && w.time > e.time,
        );
        if (pending) mustFollow.push([e, pending]);
      }
    }
  }
  const perProcess = new Map<number, RawEvent[]>();
  for (const e of byTime) {
    const list = perProcess.get(e.pid) ?? [];
    list.push(e);
    perProcess.set(e.pid, list);
  }
  // A child's end, as the kernel reported it, comes before the waitpid that reports it and the SIGCHLD it sends.
  const ends = new Map(byTime.filter((e) => e.kind === 'ended').map((e) => [e.pid, e]));
  for (const e of byTime) {
    const child =
      e.kind === 'end' && (e.call === 'waitpid' || e.call === 'wait')
        ? (e.result as { pid?: number; exited?: boolean; signaled?: boolean } | undefined)
        : undefined;
    const ended = child && (child.exited || child.signaled) ? ends.get(child.pid!) : undefined;
    if (ended) mustFollow.push([e, ended]);
    const sender = e.kind === 'signal' && e.notice?.signal === 'SIGCHLD' ? ends.get(e.notice.from!) : undefined;
    if (sender) mustFollow.push([e, sender]);
  }
  // A child's first event comes after the parent's fork start.
  for (const e of byTime) {
    if (e.kind !== 'start' || e.call !== 'fork') continue;
    for (const [pid, list] of perProcess) {
      if (pid !== e.pid && list[0].ppid === e.pid && list[0].time >= e.time) mustFollow.push([list[0], e]);
    }
  }
  for (let pass = 0; pass < ORDER_PASSES; pass++) {
    let changed = false;
    const raise = (e: RawEvent, atLeast: number) => {
      if (key.get(e)! < atLeast) {
        key.set(e, atLeast);
        changed = true;
      }
    };
    for (const [later, earlier] of mustFollow) raise(later, key.get(earlier)! + AFTER_MS);
    for (const list of perProcess.values()) {
      for (let i = 1; i < list.length; i++) raise(list[i], key.get(list[i - 1])! + AFTER_MS);
    }
    if (!changed) break;
  }
  return byTime.sort((a, b) => key.get(a)! - key.get(b)!);
}

/** Fewest repeats of one call (or round of calls) that are shown as one step. */
const MIN_REPEATS = 3;
/** Longest round of calls a polling loop is folded by (waitpid, then sleep). */
const LONGEST_ROUND = 2;

type Pair = { start: RawEvent; end: RawEvent };

/** A read or write that moved bytes: a data loop's call. */
const moves = ({ start, end }: Pair) => !end.error && (start.call === 'read' || start.call === 'write');

/**
 * A call that asks and finds nothing changed: a lesson's bookkeeping, a
 * waitpid(WNOHANG) that reports no child, a sleep between two of those.
 */
const polls = ({ start, end }: Pair) =>
  !end.error &&
  (start.internal === true ||
    start.call === 'sleep' ||
    (start.call === 'waitpid' && (end.result as { pid?: number } | undefined)?.pid === 0));

/** What makes two calls the same call of a loop: the call, its descriptor or arguments. */
function signature({ start, end }: Pair): string {
  if (moves({ start, end })) return `${start.call}:${String(start.args?.[0])}:${start.args?.length}`;
  return `${start.call}:${JSON.stringify(start.args)}:${JSON.stringify(end.result ?? null)}`;
}

/**
 * A loop's calls, shown as one step: in each process, a run of successful
 * reads or writes on one descriptor (a read loop draining a pipe, a writer's
 * records) becomes one start (the first's) and one end (the last's, with the
 * start's id, and the bytes summed); a polling loop (rounds of waitpid
 * WNOHANG and sleep that found nothing, or a lesson's bookkeeping) likewise,
 * with its round kept on the start. Calls that change descriptor tables never
 * fold.
 */
export function foldRepeats(events: RawEvent[]): RawEvent[] {
  const dropped = new Set<RawEvent>();
  const byPid = new Map<number, RawEvent[]>();
  for (const e of events) byPid.set(e.pid, [...(byPid.get(e.pid) ?? []), e]);
  for (const list of byPid.values()) {
    // The process's calls as (start, end) pairs; anything else (a print, a fork's end in the child) breaks a loop.
    const runs: Pair[][] = [[]];
    for (let i = 0; i < list.length; i++) {
      const [a, b] = [list[i], list[i + 1]];
      if (
        a.kind === 'start' &&
        b?.kind === 'end' &&
        b.id === a.id &&
        (moves({ start: a, end: b }) || polls({ start: a, end: b }))
      ) {
        runs.at(-1)!.push({ start: a, end: b });
        i++;
      } else if (runs.at(-1)!.length > 0) runs.push([]);
    }
    for (const pairs of runs) {
      let i = 0;
      while (i < pairs.length) {
        let best = { period: 1, rounds: 1 };
        for (let period = 1; period <= LONGEST_ROUND; period++) {
          if (period > 1 && !pairs.slice(i, i + period).every(polls)) continue;
          let rounds = 1;
          const same = (k: number) => signature(pairs[i + rounds * period + k]) === signature(pairs[i + k]);
          while (i + (rounds + 1) * period <= pairs.length && [...Array(period).keys()].every(same)) rounds++;
          if (rounds >= MIN_REPEATS && rounds * period > best.rounds * best.period) best = { period, rounds };
        }
        const count = best.rounds * best.period;
        if (best.rounds < MIN_REPEATS) {
          i++;
          continue;
        }
        const folded = pairs.slice(i, i + count);
        const first = folded[0].start;
        const last = folded.at(-1)!.end;
        first.repeat = best.rounds;
        last.repeat = best.rounds;
        if (moves(folded[0])) {
          let bytes = 0;
          let text = '';
          for (const { end } of folded) {
            const r = end.result as number | { bytes: number; text?: string };
            bytes += typeof r === 'number' ? r : r.bytes;
            if (first.call === 'read' && typeof r === 'object' && r.text !== undefined && text.length < DATA_KEPT)
              text += r.text;
          }
          last.result = first.call === 'read' ? { bytes, text: text.slice(0, DATA_KEPT) } : bytes;
        } else {
          first.round = folded
            .slice(0, best.period)
            .map(({ start, end }) => ({ call: start.call!, args: start.args, result: end.result }));
          last.round = first.round;
          last.call = first.call;
          last.args = first.args;
          last.result = folded[0].end.result;
        }
        // The folded end stands for the loop: it closes the start it is shown with.
        last.id = first.id;
        let snapshot = last.snapshot;
        for (let k = folded.length - 1; !snapshot && k >= 0; k--)
          snapshot = folded[k].end.snapshot ?? folded[k].start.snapshot;
        if (snapshot) last.snapshot = snapshot;
        for (const { start, end } of folded) {
          if (start !== first) dropped.add(start);
          if (end !== last) dropped.add(end);
        }
        i += count;
      }
    }
  }
  return events.filter((e) => !dropped.has(e));
}

const CALLS = ['pipe', 'fork', 'close', 'write', 'read', 'sleep', 'wait', 'waitpid', 'println'];

/** Line numbers (1-based) of each function's body, by name. */
function functions(text: string, header: RegExp): Map<string, [from: number, to: number]> {
  const lines = text.split('\n');
  const found: [string, number][] = [];
  lines.forEach((line, i) => {
    const m = header.exec(line);
    if (m) found.push([m[1], i + 1]);
  });
  const out = new Map<string, [number, number]>();
  found.forEach(([name, from], i) => out.set(name, [from, i + 1 < found.length ? found[i + 1][1] - 1 : lines.length]));
  return out;
}

/** 'parentProcess' -> 'parent_process' */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * For the tutorial: each line of src/tutorial/main.ts that makes a call,
 * mapped to the line of reference/src/main.rs that makes the same call in the
 * same function (the k-th close of parent_process to the k-th libc::close...).
 */
export function rustLineMap(tsPath: string, ts: string, rust: string): Record<string, number> {
  const tsFns = functions(ts, /^(?:export )?function (\w+)\(/);
  const rustFns = functions(rust, /^fn (\w+)\(/);
  const tsLines = ts.split('\n');
  const rustLines = rust.split('\n');
  const map: Record<string, number> = {};
  for (const [name, [from, to]] of tsFns) {
    const rustFn = rustFns.get(snakeCase(name));
    if (!rustFn) continue;
    const seen = new Map<string, number>();
    for (let line = from; line <= to; line++) {
      const code = tsLines[line - 1].replace(/\/\/.*$/, '');
      const call = CALLS.find((c) => new RegExp(`(^|[^.\\w])${c}\\(`).test(code));
      if (!call) continue;
      const k = seen.get(call) ?? 0;
      seen.set(call, k + 1);
      const pattern = call === 'sleep' ? 'thread::sleep(' : call === 'println' ? 'println!(' : `libc::${call}(`;
      let count = 0;
      for (let r = rustFn[0]; r <= rustFn[1]; r++) {
        if (!rustLines[r - 1].includes(pattern)) continue;
        if (count++ === k) {
          map[`${tsPath}:${line}`] = r;
          break;
        }
      }
    }
  }
  return map;
}

export interface BuildOptions {
  command: string;
  /** Every call its own step: no loop folded (see foldRepeats). */
  unfolded?: boolean;
  title: string;
  rootPid: number;
  startTime: number;
  pipeNames: PipeNames;
  /** Sources always shown (the program's own file), besides those the calls came from. */
  sources: string[];
  /** The Rust original's path, for the tutorial. */
  rust?: string;
  /** What the kernel reported to a tracer attached to the run, and which one; or why none was. */
  notices?: KernelNotice[];
  signals: Recording['signals'];
}

/**
 * The kernel's notices as events of the processes of the run. A call broken
 * off by a signal the process does not catch is left out: the kernel restarts
 * it unseen by the program, and it was broken off only because the tracer
 * asked to see the signal (ptrace(2), signal-delivery-stop).
 */
export function noticeEvents(events: RawEvent[], notices: KernelNotice[]): RawEvent[] {
  const ppids = new Map<number, number>();
  const readings = new Map<number, { time: number; caught?: string }[]>();
  for (const e of events) {
    ppids.set(e.pid, e.ppid);
    for (const p of e.snapshot?.processes ?? []) {
      if (!ppids.has(p.pid)) ppids.set(p.pid, p.ppid);
      readings.set(p.pid, [...(readings.get(p.pid) ?? []), { time: e.snapshot!.time, caught: p.caught }]);
    }
  }
  const caughtAt = (pid: number, time: number, signal: string) => {
    const before = (readings.get(pid) ?? []).filter((r) => r.time <= time);
    return maskHas((before.at(-1) ?? readings.get(pid)?.[0])?.caught, signal);
  };
  const out: RawEvent[] = [];
  for (const n of notices) {
    if (!ppids.has(n.pid)) continue; // not a process of the run
    if (n.kind === 'exit' && n.tid !== n.pid) continue; // one of Node's threads ending, not its process
    if (n.from !== undefined && n.from > 0 && !ppids.has(n.from)) continue; // sent by the tools (the shell that started the tracer)
    if (n.kind === 'interrupted' && !(n.signal && caughtAt(n.pid, n.time, n.signal))) continue;
    const kind = n.kind === 'exit' ? 'ended' : n.kind;
    out.push({ kind, pid: n.pid, ppid: ppids.get(n.pid)!, time: n.time, notice: n });
  }
  return out;
}

/**
 * The pipes the program made: for the inode of each pipe() it called, from
 * when that pipe() returned until a look at /proc first found no descriptor
 * of it. A freed pipe's inode number can come back for one of Node's own
 * pipes, which is not the program's.
 */
function programPipes(events: RawEvent[]): Map<number, [from: number, to: number][]> {
  const looks = events
    .filter((e) => e.snapshot && e.snapshot.processes.length > 0)
    .map((e) => e.snapshot!)
    .sort((a, b) => a.time - b.time);
  const pipes = new Map<number, [number, number][]>();
  for (const e of events) {
    if (e.kind !== 'end' || e.call !== 'pipe' || !Array.isArray(e.result)) continue;
    for (const fd of e.result) {
      const inode = pipeOf(e.pid, e, fd);
      if (inode === undefined || pipes.get(inode)?.some(([from]) => from === e.time)) continue;
      const freed = looks.find((s) => s.time > e.time && !s.processes.some((p) => p.fds.some((f) => f.pipe === inode)));
      pipes.set(inode, [...(pipes.get(inode) ?? []), [e.time, freed?.time ?? Infinity]]);
    }
  }
  return pipes;
}

/** Keeps fds 0-2 and the program's pipes; sums up the rest ('eventpoll ×3, pipe ×7'). */
function compactSnapshots(events: RawEvent[]): void {
  const pipes = programPipes(events);
  const program = (inode: number | undefined, time: number) =>
    inode !== undefined && (pipes.get(inode) ?? []).some(([from, to]) => time >= from && time < to);
  for (const e of events) {
    const snapshot = e.snapshot;
    for (const [k, p] of (snapshot?.processes ?? []).entries()) {
      const readAt = snapshot!.reads?.[k]?.[0] ?? snapshot!.time;
      const kept = p.fds.filter((f) => f.fd <= 2 || program(f.pipe, readAt));
      const counts = new Map<string, number>();
      for (const f of p.fds) {
        if (kept.includes(f)) continue;
        const kind = f.target.replace(/^anon_inode:\[?([^\]]*)\]?$/, '$1').replace(/^(pipe|socket):\[\d+\]$/, '$1');
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
      p.fds = kept;
      if (counts.size > 0) p.others = [...counts].map(([kind, n]) => (n > 1 ? `${kind} ×${n}` : kind)).join(', ');
    }
  }
}

/** The times the recorder was busy, in any process, as sorted disjoint intervals (rounded to µs). */
export function recorderBusy(events: RawEvent[]): [number, number][] {
  const spans = events.flatMap((e) => e.recorder ?? []).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of spans) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  const us = (t: number) => Math.round(t * 1000) / 1000;
  return merged.map(([from, to]) => [us(from), us(to)]);
}

/** The recording of a finished run. */
export function buildRecording(events: RawEvent[], options: BuildOptions): Recording {
  const root = PACKAGE_ROOT;
  const files = new Set(options.sources);
  for (const e of events) for (const f of e.frames ?? []) files.add(f.file);
  const sources: SourceFile[] = [...files]
    .filter((f) => fs.existsSync(path.join(root, f)))
    .map((f) => ({ path: f, text: fs.readFileSync(path.join(root, f), 'utf8') }));
  let rust: SourceFile | null = null;
  const rustLines: Record<string, number> = {};
  if (options.rust) {
    rust = { path: options.rust, text: fs.readFileSync(path.join(root, options.rust), 'utf8') };
    for (const s of sources) Object.assign(rustLines, rustLineMap(s.path, s.text, rust.text));
  }
  const all = [...events, ...noticeEvents(events, options.notices ?? [])];
  compactSnapshots(events);
  return {
    format: RECORDING_FORMAT,
    command: options.command,
    title: options.title,
    rootPid: options.rootPid,
    startTime: options.startTime,
    pipeNames: options.pipeNames,
    sources,
    rust,
    rustLines,
    recorderBusy: recorderBusy(events),
    events: options.unfolded ? orderEvents(all) : foldRepeats(orderEvents(all)),
    kernel: { release: os.release(), node: process.version },
    signals: options.signals,
  };
}

/** Reads a recording written by `view --json`, checking that it is one. */
export function loadRecording(file: string): Recording {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Recording>;
  if (data.format !== RECORDING_FORMAT || !Array.isArray(data.events)) {
    throw new Error(`${file} is not a recording of 'bidirectional-ipc view' (format ${RECORDING_FORMAT})`);
  }
  return data as Recording;
}

// From the JSON lines that the processes of a run appended to the recording
// it replays: events in happens-before order, each read and write tied to its
// pipe, and the sources the calls came from, with the matching lines of the
// Rust original.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../internal/paths';
import type { PipeNames } from '../internal/pipe-names';
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
  // An event without a snapshot: the descriptor tables of the last one before it hold.
  const tablesAt = new Map<RawEvent, RawEvent>();
  let latest: RawEvent | undefined;
  for (const e of [...events].sort((a, b) => a.time - b.time)) {
    if (e.snapshot) latest = e;
    if (latest) tablesAt.set(e, latest);
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

/** Fewest repeats of one call that are shown as one step. */
const MIN_REPEATS = 3;

/**
 * A loop's calls, shown as one: in each process, a run of successful calls
 * of the same kind on the same descriptor, one after the other (a read loop
 * draining a pipe, a writer's records), becomes one start (the first's) and
 * one end (the last's) with `repeat` set and the bytes summed. Calls that
 * change descriptor tables never repeat this way.
 */
export function foldRepeats(events: RawEvent[]): RawEvent[] {
  const dropped = new Set<RawEvent>();
  const byPid = new Map<number, RawEvent[]>();
  for (const e of events) {
    if (e.kind !== 'start' && e.kind !== 'end') continue;
    byPid.set(e.pid, [...(byPid.get(e.pid) ?? []), e]);
  }
  const sameCall = (a: RawEvent, b: RawEvent) =>
    a.call === b.call && a.args?.[0] === b.args?.[0] && a.args?.length === b.args?.length;
  const foldable = (start: RawEvent, end: RawEvent | undefined) =>
    end !== undefined &&
    end.kind === 'end' &&
    end.id === start.id &&
    !end.error &&
    (start.call === 'read' || start.call === 'write');
  for (const list of byPid.values()) {
    let i = 0;
    while (i < list.length) {
      if (list[i].kind !== 'start' || !foldable(list[i], list[i + 1])) {
        i++; // a fork's end in the child, a call that never returned, one that failed
        continue;
      }
      let j = i; // the pairs (start, end) at j, j + 1 repeat the pair at i
      while (
        j + 3 < list.length &&
        list[j + 2].kind === 'start' &&
        sameCall(list[i], list[j + 2]) &&
        foldable(list[j + 2], list[j + 3])
      )
        j += 2;
      const pairs = (j - i) / 2 + 1;
      if (pairs >= MIN_REPEATS) {
        const first = list[i];
        const last = list[j + 1];
        let bytes = 0;
        let text = '';
        for (let k = i + 1; k <= j + 1; k += 2) {
          const r = list[k].result as number | { bytes: number; text?: string };
          const n = typeof r === 'number' ? r : r.bytes;
          bytes += n;
          if (first.call === 'read' && typeof r === 'object' && r.text !== undefined && text.length < DATA_KEPT)
            text += r.text;
        }
        let snapshot = last.snapshot;
        for (let k = j; !snapshot && k > i; k--) snapshot = list[k].snapshot;
        first.repeat = pairs;
        last.repeat = pairs;
        last.result = first.call === 'read' ? { bytes, text: text.slice(0, DATA_KEPT) } : bytes;
        if (snapshot) last.snapshot = snapshot;
        for (let k = i + 1; k < j + 1; k++) dropped.add(list[k]);
      }
      i = j + 2;
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
  title: string;
  rootPid: number;
  startTime: number;
  pipeNames: PipeNames;
  /** Sources always shown (the program's own file), besides those the calls came from. */
  sources: string[];
  /** The Rust original's path, for the tutorial. */
  rust?: string;
}

/** The pipes the program made: the inodes of the descriptors each pipe() returned. */
function programPipes(events: RawEvent[]): Set<number> {
  const pipes = new Set<number>();
  for (const e of events) {
    if (e.kind !== 'end' || e.call !== 'pipe' || !Array.isArray(e.result)) continue;
    for (const fd of e.result) {
      const inode = pipeOf(e.pid, e, fd);
      if (inode !== undefined) pipes.add(inode);
    }
  }
  return pipes;
}

/** Keeps fds 0-2 and the program's pipes; sums up the rest ('eventpoll ×3, pipe ×7'). */
function compactSnapshots(events: RawEvent[]): void {
  const pipes = programPipes(events);
  for (const e of events) {
    for (const p of e.snapshot?.processes ?? []) {
      const kept = p.fds.filter((f) => f.fd <= 2 || (f.pipe !== undefined && pipes.has(f.pipe)));
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
    events: foldRepeats(orderEvents(events)),
    kernel: { release: os.release(), node: process.version },
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

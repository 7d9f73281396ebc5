// The recorder behind `bidirectional-ipc view`: every call through the
// package's tracer, at its start and at its return, with what the kernel
// showed at that moment: each process's descriptor table (proc(5):
// /proc/PID/fd, /proc/PID/fdinfo), its state (/proc/PID/stat), and the bytes
// queued in each pipe (ioctl(2) FIONREAD, see pipe(7)) and its capacity
// (fcntl(2) F_GETPIPE_SZ).
//
// Every process of the run appends to one JSON-lines file (O_APPEND, one
// write(2) per line, so lines from parent and child never interleave), as
// src/learn/trace-printer.ts does for the diagram; the process that started the run
// reads it back at the end (see ./recording.ts).
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bytesQueued,
  F_GETPIPE_SZ,
  fcntl,
  getppid,
  setTracer,
  sleep,
  SyscallError,
  WNOHANG,
  WUNTRACED,
  type TraceEvent,
} from '../index';
import { PACKAGE_ROOT } from '../internal/paths';
import { childrenOf, openFds, pipeEnd, readStat, signalMasks, wchan, type ProcStat } from '../internal/proc';
import { bookkeeping, namedArgs, pollEventsText } from '../learn/trace-printer';
import { now } from '../tracer';
import type { FdEntry, ProcessSnapshot, RawEvent, Snapshot, SourceFrame } from './types';

/** This process's name in /proc, which a forked child shares until it execs. */
const NODE_COMM = readStat('self').comm;

/** How much of the data of one read or write is kept: enough for the tutorial's messages. */
export const DATA_KEPT = 96;
/** At most this long, a blocking waitpid's start watches for its child to become a zombie. */
const ZOMBIE_WATCH_MS = 2000;
/**
 * A process that makes many quick calls (a read loop) takes a snapshot at
 * most this often; the calls that change a descriptor table or a process's
 * life always take one. The page carries the last snapshot forward.
 */
const SNAPSHOT_EVERY_MS = 25;
const ALWAYS_SNAPSHOT = new Set([
  'pipe',
  'close',
  'dup',
  'dup2',
  'fork',
  'execvp',
  '_exit',
  'kill',
  'waitpid',
  'fcntl',
]);
/** How often it looks meanwhile. */
const ZOMBIE_POLL_MS = 2;
/** Frames of user code kept per event (the call's line and its callers'). */
const FRAMES_KEPT = 3;
const FDINFO_O_NONBLOCK = fs.constants.O_NONBLOCK;
const FDINFO_O_CLOEXEC = 0o2000000;
/**
 * Marks the recorder's probes of pipes (probePipe), so that another process's
 * look at this one leaves them out: O_NOATIME means nothing for a pipe, and no
 * program here opens one with it.
 */
const PROBE_MARK = fs.constants.O_NOATIME;

/** The process and its descendants, parents first. */
function processTree(root: number): number[] {
  const seen: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen.includes(pid)) continue;
    seen.push(pid);
    queue.push(...childrenOf(pid));
  }
  return seen;
}

function readProcess(pid: number): ProcessSnapshot | null {
  let stat: ProcStat;
  try {
    stat = readStat(pid);
  } catch {
    return null; // reaped meanwhile
  }
  // A process still running this Node has the recorder's own name ('node', or
  // 'MainThread' from Node 24 on, which names its main thread); recorded as
  // 'node' so that only an exec'd program shows its name.
  const comm = stat.comm === NODE_COMM ? 'node' : stat.comm;
  const blockedIn = wchan(pid);
  const fds: FdEntry[] = [];
  for (const { fd, target, pipe, flags } of openFds(pid)) {
    if (target.startsWith('/proc/')) continue; // a recorder's own reading of /proc
    if (flags !== undefined && flags & PROBE_MARK) continue; // a recorder's own probe of a pipe
    const item: FdEntry = { fd, target };
    if (pipe !== undefined && flags !== undefined) {
      item.pipe = pipe;
      item.end = pipeEnd(flags);
      if (flags & FDINFO_O_NONBLOCK) item.nonblock = true;
      if (flags & FDINFO_O_CLOEXEC) item.cloexec = true;
    }
    fds.push(item);
  }
  // The signals it catches and ignores (SigCgt, SigIgn).
  const { SigCgt: caught, SigIgn: ignored } = signalMasks(`/proc/${pid}/status`);
  return { pid, ppid: stat.ppid, comm, state: stat.state, wchan: blockedIn, fds, caught, ignored };
}

/**
 * The bytes queued in pipe `inode` and its capacity. Through a descriptor of
 * this process if it holds one; else through a new write-only, non-blocking
 * open of another process's /proc/PID/fd/N, which adds a writer to the pipe
 * for the few microseconds of two ioctls. A write-only open never changes what
 * a call of the program returns: a reader that meets end of file meanwhile is
 * woken again when that writer closes (pipe(7)); a reader-side open could hide
 * an EPIPE. With no reader left the open fails (ENXIO) and the count is unknown.
 */
function probePipe(
  inode: number,
  own: FdEntry[],
  holder: { pid: number; fd: number } | null,
): { queued: number | null; capacity: number | null } {
  const ask = (fd: number) => ({ queued: bytesQueued(fd), capacity: fcntl(fd, F_GETPIPE_SZ) });
  const mine = own.find((f) => f.pipe === inode);
  try {
    if (mine) return ask(mine.fd);
    if (!holder) return { queued: null, capacity: null };
    const fd = fs.openSync(
      `/proc/${holder.pid}/fd/${holder.fd}`,
      fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | PROBE_MARK,
    );
    try {
      return ask(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { queued: null, capacity: null };
  }
}

/**
 * What the kernel shows for the whole run's process tree, now. Pipes are
 * probed (bytes queued, capacity) only when the program made them.
 */
export function takeSnapshot(root: number, programPipes: ReadonlySet<number>): Snapshot {
  const processes: ProcessSnapshot[] = [];
  const reads: [number, number][] = [];
  for (const pid of processTree(root)) {
    const from = now();
    const p = readProcess(pid);
    if (p) {
      processes.push(p);
      reads.push([from, now()]);
    }
  }
  const self = processes.find((p) => p.pid === process.pid);
  const pipes: Snapshot['pipes'] = [];
  const done = new Set<number>();
  for (const p of processes) {
    for (const f of p.fds) {
      if (f.pipe === undefined || !programPipes.has(f.pipe) || done.has(f.pipe)) continue;
      done.add(f.pipe);
      pipes.push({
        inode: f.pipe,
        ...probePipe(f.pipe, self?.fds ?? [], p.pid === process.pid ? null : { pid: p.pid, fd: f.fd }),
      });
    }
  }
  return { time: now(), processes, reads, pipes };
}

const sourceMaps = new Map<string, SourceMap | null>();

/** The TypeScript position of a position in compiled JavaScript, from its .js.map (written by tsc). */
function originalPosition(file: string, line: number, column: number): { file: string; line: number } {
  if (!file.endsWith('.js')) return { file, line };
  let map = sourceMaps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null; // no map: the compiled position is the best there is
    }
    sourceMaps.set(file, map);
  }
  const entry = map?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined) return { file, line };
  const source = entry.originalSource.startsWith('file://')
    ? fileURLToPath(entry.originalSource)
    : path.resolve(path.dirname(file), entry.originalSource);
  return { file: source, line: entry.originalLine + 1 };
}

/** Where a call was made from: the first frames outside the package's own layers, in its TypeScript sources. */
function callerFrames(): SourceFrame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames: SourceFrame[] = [];
  for (const text of stack.split('\n').slice(1)) {
    const m = /at (?:(\S+) \()?(\/.+?):(\d+):(\d+)\)?$/.exec(text.trim());
    if (!m) continue;
    const where = originalPosition(m[2], Number(m[3]), Number(m[4]));
    const file = path.relative(PACKAGE_ROOT, where.file);
    if (!file.startsWith('src/')) continue;
    if (
      /^src\/(view\/|internal\/|syscalls\.ts|tracer\.ts|fork\.ts|learn\/trace-printer\.ts|learn\/lessons\/common\.ts)/.test(
        file,
      )
    )
      continue;
    frames.push({ file, line: where.line, fn: (m[1] ?? '').replace(/^Object\./, '') });
    if (frames.length === FRAMES_KEPT) break;
  }
  return frames;
}

/**
 * A call's arguments, made fit for JSON: the data of a read or write as its
 * length and first bytes, flags and signals by name.
 */
function plainArgs(call: string, args: readonly unknown[]): unknown[] {
  if ((call === 'read' || call === 'write') && args[1] instanceof Uint8Array) {
    const [fd, buffer, offset, length] = args as [number, Uint8Array, number, number];
    const out: unknown[] = [fd, { bytes: length }, offset, length];
    if (call === 'write')
      out[1] = {
        bytes: length,
        text: Buffer.from(buffer.subarray(offset, offset + Math.min(length, DATA_KEPT))).toString('latin1'),
      };
    return out;
  }
  return namedArgs(call, args).map((a) =>
    a instanceof Uint8Array ? { bytes: a.byteLength } : typeof a === 'function' ? '[function]' : a,
  );
}

function plainResult(e: TraceEvent): unknown {
  const r = e.result;
  if (e.call === 'read' && typeof r === 'number' && r > 0 && e.args[1] instanceof Uint8Array) {
    const [, buffer, offset] = e.args as [number, Uint8Array, number];
    return { bytes: r, text: Buffer.from(buffer.subarray(offset, offset + Math.min(r, DATA_KEPT))).toString('latin1') };
  }
  if (r instanceof Uint8Array) return { bytes: r.byteLength };
  if (e.call === 'poll' && Array.isArray(r))
    return (r as { fd: number; revents: number }[]).map(({ fd, revents }) => ({
      fd,
      revents: pollEventsText(revents),
    }));
  return r;
}

export interface RecorderOptions {
  /** The JSON-lines file every process appends to. */
  file: string;
}

/** Installs the recording tracer in this process (and so in every process it forks). */
export function startRecording(options: RecorderOptions): {
  stop(): void;
  note(kind: 'say' | 'exit', text: string): void;
} {
  const root = process.pid;
  let busy = false; // the recorder's own probes are not part of the run
  let lastSnapshot = 0; // when this process last took one
  const programPipes = new Set<number>(); // inherited by the children: they probe their parent's pipes too

  const append = (event: RawEvent) => {
    fs.appendFileSync(options.file, `${JSON.stringify(event)}\n`);
  };

  /** A blocking waitpid: watch its children until one is a zombie (or, under WUNTRACED, stopped), recording what is seen. */
  const watchForZombie = (pid: number, options: number) => {
    const ends = (options & WUNTRACED) !== 0 ? /[ZT]/ : /Z/;
    const deadline = Date.now() + ZOMBIE_WATCH_MS;
    let last = '';
    for (;;) {
      const children = childrenOf(process.pid).filter((c) => pid === -1 || c === pid);
      if (children.length === 0) return;
      const states = children.map((c) => readProcess(c)?.state ?? '?').join('');
      if (states !== last) {
        last = states;
        const from = now();
        const snapshot = takeSnapshot(root, programPipes);
        // Placed when the look was done: what it saw was true by then.
        append({
          kind: 'sample',
          pid: process.pid,
          ppid: getppid(),
          time: snapshot.time,
          snapshot,
          recorder: [[from, now()]],
        });
      }
      if (ends.test(states) || Date.now() >= deadline) return;
      sleep(ZOMBIE_POLL_MS); // not recorded: the recorder is busy
    }
  };

  setTracer((event: TraceEvent) => {
    if (busy) return;
    busy = true;
    const entered = now();
    try {
      const e = event;
      const raw: RawEvent = {
        kind: e.phase,
        pid: e.pid,
        ppid: getppid(),
        id: e.id,
        call: e.call,
        time: e.time,
        args: plainArgs(e.call, e.args),
      };
      // Where the call was made: at its start (the end's is the same line).
      if (e.phase === 'start') raw.frames = callerFrames();
      if (e.phase === 'end') {
        if (e.error instanceof SyscallError) raw.error = { code: e.error.code, message: e.error.message };
        else raw.result = plainResult(e);
      }
      if (e.phase === 'end' && e.call === 'pipe' && Array.isArray(e.result)) {
        for (const fd of e.result as number[]) programPipes.add(fs.fstatSync(fd).ino);
      }
      if (bookkeeping()) raw.internal = true;
      // The watch stands in for the wait the call would make (its looks count as the recorder's, in their samples).
      const spans: [number, number][] = [];
      let from = entered;
      if (e.phase === 'start' && e.call === 'waitpid' && ((e.args[1] as number) & WNOHANG) === 0) {
        spans.push([from, now()]);
        watchForZombie(e.args[0] as number, e.args[1] as number);
        from = now();
      }
      if (ALWAYS_SNAPSHOT.has(e.call) || e.time - lastSnapshot >= SNAPSHOT_EVERY_MS) {
        raw.snapshot = takeSnapshot(root, programPipes);
        lastSnapshot = raw.snapshot.time;
      }
      // The call itself begins when the tracer returns: a bar starts there, not
      // before the recorder's own look at /proc.
      if (e.phase === 'start') raw.time = now();
      spans.push([from, now()]);
      raw.recorder = spans;
      append(raw);
    } finally {
      busy = false;
    }
  });

  const note = (kind: 'say' | 'exit', text: string) => {
    if (busy) return;
    busy = true;
    const entered = now();
    try {
      const event: RawEvent = { kind, pid: process.pid, ppid: getppid(), time: entered, text };
      // The process that started the run is ending: it is the last one, and
      // the page shows the run's end as an empty process list.
      event.snapshot =
        kind === 'exit' && process.pid === root
          ? { time: now(), processes: [], reads: [], pipes: [] }
          : takeSnapshot(root, programPipes);
      event.recorder = [[entered, now()]];
      append(event);
    } finally {
      busy = false;
    }
  };
  const onExit = (code: number) => note('exit', `exit status ${code}`);
  process.on('exit', onExit);
  return {
    note,
    stop() {
      setTracer(null);
      process.off('exit', onExit);
    },
  };
}

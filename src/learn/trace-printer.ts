// `--trace`: every call through the package's syscall layer, printed to
// stderr strace-style, from the program's own point of view:
//   [parent 4242] write(6 parent_write, "Parent message 0", 16) = 16
//   [child 4243] read(3 child_read, ...) <unfinished ...>
//   [child 4243] <... read resumed> "Parent message 0", 1024) = 16
//
// Cause before effect. A line is printed when its call returns, so two things
// are done to keep the order of the lines the order of the events:
//  - A call that would block (a read of an empty pipe, a write into a full one,
//    a wait for a running child, a sleep) is printed as started before it is
//    made, once a short probe (poll(2) for SHORT_MS, /proc for children) says
//    it would not return at once; its end follows as `<... read resumed>`.
//  - A write or close on a pipe is announced in a log that every traced
//    process of the run shares (one file opened O_APPEND before the fork), and
//    marked done there after its line is printed. A read of that pipe that
//    returns meanwhile waits (at most PRINT_WAIT_MS) for the mark before it
//    prints: the reader can wake before the writer has returned from write(2).
// The same log, one JSON line per event, is what `--diagram` reads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  F_GETFD,
  F_GETFL,
  F_GETPIPE_SZ,
  F_SETFD,
  F_SETFL,
  F_SETPIPE_SZ,
  FD_CLOEXEC,
  O_CLOEXEC,
  O_NONBLOCK,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  setTracer,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  signalName,
  SyscallError,
  WCONTINUED,
  WNOHANG,
  WUNTRACED,
  type PollFd,
  type PollResult,
  type TraceEvent,
  type WaitStatus,
} from '../index';
import { terminalWidth, visibleLength, wrap } from '../internal/text';
import { untracedSleep } from '../internal/untraced-sleep';
import { watchKernelNotices, type KernelNotice } from '../view/kernel-notices';
import { TUTORIAL_PIPES, type PipeNames } from '../internal/pipe-names';
import { childrenOf, maskHas, processState, readStat, signalMasks, wchan } from '../internal/proc';
import { native } from '../native';
import { now } from '../tracer';

export interface TraceOptions {
  pipes?: PipeNames;
  /** Print to stderr (default true). */
  print?: boolean;
  /** Colour: default on when stderr is a terminal and NO_COLOR is unset. */
  color?: boolean;
  /** Print only these calls (default: all). */
  only?: readonly string[];
  /** Also print the calls a lesson makes for its own bookkeeping (its polling loops). */
  internal?: boolean;
  /** The shared event log (JSON lines); a temporary file, removed by stop(), when not given. */
  recordTo?: string;
  /** Show signals, interrupted calls and ends as the kernel reports them to strace (default: when strace can attach). */
  signals?: boolean;
}

/** The calls of the log that are the kernel's notices, not the program's calls. */
export const NOTICE_CALLS: ReadonlySet<string> = new Set(['signal', 'exit', 'interrupted']);

/** Whether field `field` (SigCgt, SigIgn) of /proc/PID/status holds `signal`; null when unreadable. */
function signalMask(pid: number, field: string, signal: string): boolean | null {
  const mask = signalMasks(`/proc/${pid}/status`)[field];
  return mask === undefined ? null : maskHas(mask, signal);
}

/** The parent of `pid`, or -1 when it is gone. */
function readPpid(pid: number): number {
  try {
    return readStat(pid).ppid;
  } catch {
    return -1;
  }
}

/** A notice as strace words it, and what the process does with a signal (from its /proc/PID/status now). */
export function noticeText(n: KernelNotice): string {
  if (n.kind === 'exit')
    return n.exitCode === null
      ? `+++ killed by ${n.signal}${n.coreDumped ? ' (core dumped)' : ''} +++`
      : `+++ exited with ${n.exitCode} +++`;
  if (n.kind === 'interrupted')
    return `<... ${n.call} broken off by ${n.signal}, whose handler ran: ${n.outcome === 'EINTR' ? 'it returns -1 EINTR' : n.outcome === 'restarted' ? 'made again (SA_RESTART)' : 'not seen made again'}>`;
  const fields = [`si_code=${n.code}`, n.from ? `si_pid=${n.from}` : '', n.status ? `si_status=${n.status}` : '']
    .filter(Boolean)
    .join(', ');
  const caught = signalMask(n.pid, 'SigCgt', n.signal!);
  const ignored = signalMask(n.pid, 'SigIgn', n.signal!);
  const what =
    n.signal === 'SIGKILL' || n.signal === 'SIGSTOP'
      ? ''
      : caught
        ? ' (caught: its handler runs)'
        : ignored
          ? ' (ignored: SIG_IGN)'
          : caught === false && ['SIGCHLD', 'SIGWINCH', 'SIGURG'].includes(n.signal!)
            ? ' (no handler: ignored by default)'
            : '';
  return `--- ${n.signal} {${fields}} ---${what}`;
}

/** One line of the event log: a call's start or end in one process. */
export interface RecordedCall {
  pid: number;
  role: string;
  /** The call's number in its process; start and end share it. */
  id: number;
  phase: 'start' | 'end';
  /** ms since tracing began (the child inherits the origin). */
  t: number;
  call: string;
  /** The line as printed, without the process label. */
  text: string;
  /** Descriptor name ('parent_write', 'stdout', '7'). */
  fd?: string;
  /** The pipe's inode, for calls on a pipe descriptor. */
  pipe?: number;
  /** Bytes moved by a read or write. */
  bytes?: number;
  /** Text moved (read, write), or the ends a pipe() made. */
  data?: string;
  result?: string;
  failed?: boolean;
  /** A write or close whose end a reader of the same pipe waits for before printing. */
  pending?: boolean;
  /** For pipe(): its label, its inode and its two names. */
  made?: { label: number; inode: number; read: string; write: string };
  /** For waitpid: the pid it reported; for fork: the child's pid. */
  child?: number;
  /** For sleep: how long. */
  ms?: number;
  /** A lesson's own bookkeeping (hidden unless asked for). */
  internal?: boolean;
}

/** How long a call may take before it is shown as started: a probe of this length. */
const SHORT_MS = 5;
/** How long a read waits for the writer's line before it prints anyway. */
const PRINT_WAIT_MS = 200;

const ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

/** Bytes as strace shows them: a quoted C string, cut after 48 bytes. */
export function quote(bytes: Uint8Array, limit = 48): string {
  const text = Buffer.from(bytes.subarray(0, limit)).toString('latin1');
  const shown = text.replace(/[\x00-\x1f\x7f-\xff"\\]/g, (c) => ESCAPES[c] ?? `\\${c.charCodeAt(0).toString(8)}`);
  return `"${shown}"${bytes.length > limit ? '...' : ''}`;
}

/** Fewest characters a cut buffer keeps when its line is too wide. */
const SHORTEST_QUOTE = 8;

/**
 * A trace line fitted to `width` columns: buffers already cut short ("..."...)
 * are cut shorter, down to SHORTEST_QUOTE characters; what is still too wide
 * goes on indented lines, broken between arguments, never inside a string.
 */
export function fitTraceLine(line: string, width: number): string {
  let excess = visibleLength(line) - width;
  if (excess <= 0) return line;
  const shortened = line.replace(/"((?:[^"\\]|\\.)*)"\.\.\./g, (whole, body: string) => {
    if (excess <= 0 || body.length <= SHORTEST_QUOTE) return whole;
    let kept = body.slice(0, Math.max(SHORTEST_QUOTE, body.length - excess));
    kept = kept.replace(/\\[0-7]{0,2}$/, ''); // not half an escape
    excess -= body.length - kept.length;
    return `"${kept}"...`;
  });
  return wrap(shortened, { width, indent: '    ', keepQuoted: true });
}

/** An OR of flags by name, as strace prints them ('O_CLOEXEC|O_NONBLOCK'); unknown bits in hex. */
export function flagNames(value: number, names: Record<string, number>): string {
  if (value === 0) return '0';
  const parts: string[] = [];
  let rest = value;
  for (const [name, bit] of Object.entries(names)) {
    if (bit !== 0 && (rest & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

const PIPE_FLAGS = { O_CLOEXEC, O_NONBLOCK };
const WAIT_OPTIONS = { WNOHANG, WUNTRACED, WCONTINUED };
const POLL_EVENTS = { POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL };
const FCNTL_NAMES: Record<number, string> = {
  [F_GETFL]: 'F_GETFL',
  [F_SETFL]: 'F_SETFL',
  [F_GETFD]: 'F_GETFD',
  [F_SETFD]: 'F_SETFD',
  [F_GETPIPE_SZ]: 'F_GETPIPE_SZ',
  [F_SETPIPE_SZ]: 'F_SETPIPE_SZ',
};
const SHUTDOWN_NAMES: Record<number, string> = { [SHUT_RD]: 'SHUT_RD', [SHUT_WR]: 'SHUT_WR', [SHUT_RDWR]: 'SHUT_RDWR' };

/**
 * A call's arguments with its flags, options, commands and signals by name,
 * as strace prints them: what --trace, --diagram and the view's recording
 * show (`[19, 'F_SETFD', 'FD_CLOEXEC']` for fcntl(19, 2, 1)). Other
 * arguments are returned as they are.
 */
export function namedArgs(call: string, args: readonly unknown[]): unknown[] {
  switch (call) {
    case 'pipe':
      return args[0] ? [flagNames(args[0] as number, PIPE_FLAGS)] : [];
    case 'waitpid':
      return [args[0], flagNames((args[1] as number | undefined) ?? 0, WAIT_OPTIONS)];
    case 'kill':
      return [args[0], typeof args[1] === 'number' ? signalName(args[1]) : (args[1] ?? 'SIGTERM')];
    case 'setParentDeathSignal':
      return [typeof args[0] === 'number' && args[0] !== 0 ? signalName(args[0]) : args[0]];
    case 'fcntl': {
      const [fd, cmd, arg] = args as [number, number, number | undefined];
      const named = [fd, FCNTL_NAMES[cmd] ?? cmd];
      if (cmd === F_SETFL) named.push(flagNames(arg ?? 0, { O_NONBLOCK }));
      else if (cmd === F_SETFD) named.push(flagNames(arg ?? 0, { FD_CLOEXEC }));
      else if (arg) named.push(arg);
      return named;
    }
    case 'mkfifo':
      return [JSON.stringify(args[0]), `0${(args[1] as number).toString(8)}`];
    case 'shutdown':
      return [args[0], SHUTDOWN_NAMES[args[1] as number] ?? args[1]];
    case 'poll': {
      const [fds, timeout] = args as [PollFd[], number];
      return [fds.map(({ fd, events }) => ({ fd, events: flagNames(events, POLL_EVENTS) })), timeout];
    }
    default:
      return [...args];
  }
}

/** What strace calls pipe(2) with flags: pipe2. */
export function pipeCallName(args: readonly unknown[]): string {
  return args[0] ? 'pipe2' : 'pipe';
}

/** A call's name as strace prints it (pipe2 when pipe() is given flags). */
function callName(e: TraceEvent): string {
  return e.call === 'pipe' ? pipeCallName(e.args) : e.call;
}

/** The revents of a poll's answer by name ('POLLOUT|POLLERR'). */
export function pollEventsText(events: number): string {
  return flagNames(events, POLL_EVENTS);
}

function statusText(s: WaitStatus): string {
  if (s.pid === 0) return '0 (still running)';
  if (s.signaled) return `${s.pid} (killed by ${s.signal})`;
  if (s.stopped) return `${s.pid} (stopped by ${s.stopSignal})`;
  if (s.continued) return `${s.pid} (continued)`;
  return `${s.pid} (exited ${s.exitCode})`;
}

let internalDepth = 0;

/**
 * Runs `fn` as a lesson's own bookkeeping (a polling loop, a bounded wait):
 * its calls are traced but hidden unless `--trace=internal` (or `all`) asks.
 */
export function quietly<T>(fn: () => T): T {
  internalDepth++;
  try {
    return fn();
  } finally {
    internalDepth--;
  }
}

/** Whether the calls made now are a lesson's bookkeeping (inside `quietly`). */
export function bookkeeping(): boolean {
  return internalDepth > 0;
}

function pipeInode(fd: number): number | undefined {
  try {
    const stat = fs.fstatSync(fd);
    return stat.isFIFO() ? stat.ino : undefined;
  } catch {
    return undefined; // not open: the call will fail with EBADF
  }
}

function isBlocking(fd: number): boolean {
  try {
    return (native.fcntl(fd, F_GETFL, 0) & O_NONBLOCK) === 0;
  } catch {
    return false;
  }
}

/** The pids of this process's children that waitpid(pid, options) could report now. */
function childReady(pid: number, options: number): boolean {
  const wanted = childrenOf(process.pid).filter((c) => pid <= 0 || c === pid);
  if (wanted.length === 0) return true; // ECHILD at once (or cannot tell: do not claim it blocks)
  return wanted.some((c) => {
    try {
      const state = processState(c);
      return state === 'Z' || ((options & WUNTRACED) !== 0 && state === 'T');
    } catch {
      return true;
    }
  });
}

/** Whether the call described by `e` would block for more than SHORT_MS (it is then shown as started). */
function wouldBlock(e: TraceEvent): boolean {
  switch (e.call) {
    case 'read': {
      const fd = e.args[0] as number;
      if (pipeInode(fd) === undefined || !isBlocking(fd)) return false;
      return native.poll(Int32Array.of(fd, POLLIN, 0), SHORT_MS) === 0;
    }
    case 'write': {
      const [fd, , , length] = e.args as [number, Uint8Array, number, number];
      if (pipeInode(fd) === undefined || !isBlocking(fd)) return false;
      try {
        const free = native.fcntl(fd, F_GETPIPE_SZ, 0) - native.bytesQueued(fd);
        if (length <= free) return false;
        return native.poll(Int32Array.of(fd, POLLOUT, 0), SHORT_MS) === 0 || length > free;
      } catch {
        return false;
      }
    }
    case 'waitpid': {
      const [pid, options] = e.args as [number, number];
      if ((options & WNOHANG) !== 0) return false;
      const deadline = Date.now() + SHORT_MS;
      do if (childReady(pid, options)) return false;
      while ((untracedSleep(1), Date.now() < deadline));
      return true;
    }
    case 'sleep':
      return (e.args[0] as number) > SHORT_MS;
    case 'poll': {
      const [fds, timeout] = e.args as [PollFd[], number];
      if (timeout === 0) return false;
      const entries = new Int32Array(fds.flatMap(({ fd, events }) => [fd, events, 0]));
      const probe = timeout === -1 ? SHORT_MS : Math.min(timeout, SHORT_MS);
      return native.poll(entries, probe) === 0 && (timeout === -1 || timeout > SHORT_MS);
    }
    case 'execvp':
      return true; // it never returns when it works
    default:
      return false;
  }
}

/** Installs a tracer that prints and records every call. Returns a function that removes it. */
export function startTracing(options: TraceOptions = {}): () => void {
  const pipes = options.pipes ?? TUTORIAL_PIPES;
  const names = new Map<number, string>([
    [0, 'stdin'],
    [1, 'stdout'],
    [2, 'stderr'],
  ]);
  const color = options.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const only = options.only ? new Set(options.only) : null;
  // Piped without COLUMNS, one call a line whatever its length, as strace prints: for grep.
  const width = terminalWidth(process.stderr, Infinity);
  const origin = now();
  const temporary = options.recordTo === undefined;
  const logPath =
    options.recordTo ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-trace-')), 'calls.jsonl');
  // O_APPEND: every process's line lands whole at the end; O_CLOEXEC: no exec'd program holds it.
  const log = fs.openSync(
    logPath,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | O_CLOEXEC,
    0o600,
  );
  const logReader = fs.openSync(logPath, fs.constants.O_RDONLY | O_CLOEXEC);
  const tracerPid = process.pid;
  let role = 'parent';
  let pipesMade = 0;
  /** Per call id: the start's description, and whether it was printed as unfinished. */
  const open = new Map<number, { args: string; shown: boolean; internal: boolean; fd?: string; pipe?: number }>();
  /** Writes and closes announced by other processes, not yet marked done: key pid:id -> pipe inode. */
  const pending = new Map<string, number>();
  let logOffset = 0;
  let partial = '';
  // Signals and ends: strace attached to this process (and, with -f, to what it forks); its notices are
  // printed by this process, before its own next line.
  const noticeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-signals-'));
  const watch = options.signals === false ? null : watchKernelNotices(tracerPid, noticeDir);
  // strace has its file open and the watch reads it through a descriptor: nothing is left after Ctrl-C.
  fs.rmSync(noticeDir, { recursive: true, force: true });
  const runPids = new Set([tracerPid]);
  const showNotices = () => {
    if (watch === null || typeof watch === 'string' || process.pid !== tracerPid) return;
    for (const n of watch.poll()) {
      if (!runPids.has(n.pid) && !runPids.has(readPpid(n.pid))) continue; // not a process of the run
      if (n.kind === 'exit' && n.tid !== n.pid) continue; // one of Node's threads
      if (n.from !== undefined && n.from > 0 && !runPids.has(n.from) && !runPids.has(readPpid(n.from))) continue;
      if (n.kind === 'interrupted' && !(n.signal && signalMask(n.pid, 'SigCgt', n.signal))) continue; // only the tracer's stop broke it off
      runPids.add(n.pid);
      const text = noticeText(n);
      const who = n.pid === tracerPid ? 'parent' : 'child';
      if (options.print !== false && only === null)
        fs.writeSync(
          2,
          `${fitTraceLine(`${paint(who === 'parent' ? 36 : 35, `[${who} ${n.pid}]`)} ${text}`, width)}\n`,
        );
      append({
        pid: n.pid,
        role: who,
        id: -1,
        phase: 'end',
        t: Math.round((n.time - origin) * 10) / 10,
        call: n.kind,
        text,
      });
    }
  };

  const fdText = (fd: unknown) => {
    const name = names.get(fd as number);
    return name ? `${fd} ${name}` : String(fd);
  };

  const append = (record: RecordedCall) => fs.writeSync(log, `${JSON.stringify(record)}\n`);

  /** Reads what other processes appended to the log since last time: announced and finished writes. */
  const catchUp = () => {
    const chunk = Buffer.alloc(65536);
    for (let n; (n = fs.readSync(logReader, chunk, 0, chunk.length, logOffset)) > 0;) {
      logOffset += n;
      const lines = (partial + chunk.toString('utf8', 0, n)).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const r = JSON.parse(line) as RecordedCall;
        const key = `${r.pid}:${r.id}`;
        if (r.phase === 'start' && r.pending && r.pipe !== undefined) pending.set(key, r.pipe);
        else if (r.phase === 'end') pending.delete(key);
      }
    }
  };

  /**
   * Waits until no other process has a write or close of `inode` announced and
   * not yet printed; one asleep in the kernel's pipe write will not print
   * before it wakes, so it is not waited for.
   */
  const awaitWriters = (pid: number, inode: number) => {
    const deadline = Date.now() + PRINT_WAIT_MS;
    const printsSoon = (key: string) => !/pipe_write/.test(wchan(Number(key.split(':')[0])));
    for (;;) {
      catchUp();
      const waiting = [...pending].some(
        ([key, pipe]) => pipe === inode && !key.startsWith(`${pid}:`) && printsSoon(key),
      );
      if (!waiting || Date.now() >= deadline) return;
      untracedSleep(1);
    }
  };

  const shown = (call: string, internal: boolean) =>
    options.print !== false && (!internal || options.internal === true) && (only === null || only.has(call));

  const print = (pid: number, text: string) => {
    const label = paint(role === 'parent' ? 36 : 35, `[${role} ${pid}]`);
    fs.writeSync(2, `${fitTraceLine(`${label} ${text}`, width)}\n`);
  };

  /** The arguments as printed, known at the start of the call. */
  const argsText = (e: TraceEvent): string => {
    switch (e.call) {
      case 'read':
        return `${fdText(e.args[0])}`; // the data is shown when it has been read
      case 'write': {
        const [fd, buffer, offset, length] = e.args as [number, Uint8Array, number, number];
        return `${fdText(fd)}, ${quote(buffer.subarray(offset, offset + length))}, ${length}`;
      }
      case 'pipe':
        return namedArgs('pipe', e.args).join('');
      case 'close':
      case 'dup':
      case 'bytesQueued':
        return fdText(e.args[0]);
      case 'dup2':
        return `${fdText(e.args[0])}, ${fdText(e.args[1])}`;
      case 'waitpid':
      case 'kill':
      case 'mkfifo':
        return namedArgs(e.call, e.args).join(', ');
      case 'shutdown':
        return [fdText(e.args[0]), ...namedArgs('shutdown', e.args).slice(1)].join(', ');
      case 'sleep':
        return `${e.args[0]} ms`;
      case 'execvp':
        return `"${e.args[0]}", [${(e.args[1] as string[]).map((a) => JSON.stringify(a)).join(', ')}]`;
      case 'poll': {
        const [fds, timeout] = namedArgs('poll', e.args) as [{ fd: number; events: string }[], number];
        return `[${fds.map((p) => `{fd=${fdText(p.fd)}, events=${p.events}}`).join(', ')}], ${timeout}`;
      }
      case 'fcntl': {
        const [fd, ...rest] = namedArgs('fcntl', e.args);
        return [fdText(fd), ...rest].join(', ');
      }
      case 'sendmsg': {
        const [fd, bytes, fds, flags] = e.args as [number, Uint8Array, number[], number];
        return `${fdText(fd)}, ${quote(bytes)}, [${fds.join(', ')}], ${flags}`;
      }
      case 'recvmsg':
        return fdText(e.args[0]); // the data is shown when it has been received
      default:
        return e.args.map(String).join(', ');
    }
  };

  setTracer((e: TraceEvent) => {
    showNotices();
    if (e.phase === 'end' && e.call === 'fork' && typeof e.result === 'number' && e.result > 0) runPids.add(e.result);
    const t = Math.round((e.time - origin) * 10) / 10;
    if (e.phase === 'start') {
      const internal = internalDepth > 0;
      const args = argsText(e);
      const fd = ['read', 'write', 'close'].includes(e.call) ? (e.args[0] as number) : undefined;
      const pipe = fd === undefined ? undefined : pipeInode(fd);
      const fdName = fd === undefined ? undefined : (names.get(fd) ?? String(fd));
      const blocks = !internal && wouldBlock(e);
      const record: RecordedCall = { pid: e.pid, role, id: e.id, phase: 'start', t, call: e.call, text: '', internal };
      if (fdName !== undefined) record.fd = fdName;
      if (pipe !== undefined) record.pipe = pipe;
      if (e.call === 'sleep') record.ms = e.args[0] as number;
      if (blocks || e.call === '_exit') {
        record.text =
          e.call === '_exit'
            ? `_exit(${args}) = ?`
            : `${callName(e)}(${args}${e.call === 'read' ? ', ...' : ''}) <unfinished ...>`;
        if (shown(e.call, internal)) print(e.pid, record.text);
      } else if (pipe !== undefined && (e.call === 'write' || e.call === 'close')) {
        record.pending = true; // a reader of this pipe waits for our line
      }
      append(record);
      open.set(e.id, { args, shown: blocks, internal, fd: fdName, pipe });
      return;
    }

    // The end. After fork, the child is on its own from here.
    if (e.call === 'fork' && e.result === 0) role = 'child';
    const started = open.get(e.id) ?? { args: argsText(e), shown: false, internal: internalDepth > 0 };
    open.delete(e.id);
    const record: RecordedCall = {
      pid: e.pid,
      role,
      id: e.id,
      phase: 'end',
      t: Math.round((e.time - origin) * 10) / 10,
      call: e.call,
      text: '',
      internal: started.internal,
    };
    if (started.fd !== undefined) record.fd = started.fd;
    if (started.pipe !== undefined) record.pipe = started.pipe;
    if (e.call === 'sleep') record.ms = e.args[0] as number;
    let result: string;
    let args = started.args;
    if (e.error instanceof SyscallError) {
      result = `-1 ${e.error.code} (${e.error.message.split(': ')[1].split(',')[0]})`;
      record.failed = true;
    } else {
      switch (e.call) {
        case 'read': {
          const [, buffer, offset, length] = e.args as [number, Uint8Array, number, number];
          const got = buffer.subarray(offset, offset + (e.result as number));
          args = `${args}, ${quote(got)}, ${length}`;
          record.bytes = e.result as number;
          record.data = Buffer.from(got).toString('utf8');
          result = String(e.result);
          break;
        }
        case 'write': {
          const [, buffer, offset] = e.args as [number, Uint8Array, number];
          record.bytes = e.result as number;
          record.data = Buffer.from(buffer.subarray(offset, offset + (e.result as number))).toString('utf8');
          result = String(e.result);
          break;
        }
        case 'pipe': {
          const [r, w] = e.result as number[];
          const [rn, wn] = pipes[pipesMade] ?? [`pipe${pipesMade + 1}_read`, `pipe${pipesMade + 1}_write`];
          pipesMade++;
          names.set(r, rn);
          names.set(w, wn);
          record.made = { label: pipesMade, inode: pipeInode(r) ?? 0, read: rn, write: wn };
          result = `[${fdText(r)}, ${fdText(w)}]`;
          break;
        }
        case 'socketpair':
          result = `[${(e.result as number[]).map(fdText).join(', ')}]`;
          break;
        case 'recvmsg': {
          const [, buffer, maxFds, flags] = e.args as [number, Uint8Array, number, number];
          const { bytesRead, fds } = e.result as { bytesRead: number; fds: number[] };
          args = `${args}, ${quote(buffer.subarray(0, bytesRead))}, ${maxFds}, ${flags}`;
          result = fds.length > 0 ? `${bytesRead} (descriptors [${fds.join(', ')}])` : String(bytesRead);
          break;
        }
        case 'waitpid':
          result = statusText(e.result as WaitStatus);
          record.child = (e.result as WaitStatus).pid;
          break;
        case 'fork':
          result = String(e.result);
          record.child = e.result as number;
          break;
        case 'poll':
          result = String((e.result as PollResult[]).filter((p) => p.revents !== 0).length);
          args += ` => [${(e.result as PollResult[])
            .filter((p) => p.revents)
            .map((p) => `{fd=${p.fd}, revents=${pollEventsText(p.revents)}}`)
            .join(', ')}]`;
          break;
        case 'fcntl': {
          const [, cmd] = e.args as [number, number];
          result =
            cmd === F_GETFL
              ? `0x${(e.result as number).toString(16)} (${flagNames((e.result as number) & O_NONBLOCK, { O_NONBLOCK })})`
              : cmd === F_GETFD
                ? flagNames(e.result as number, { FD_CLOEXEC })
                : String(e.result);
          break;
        }
        case 'dup':
        case 'dup2': {
          const from = e.args[0] as number;
          const to = e.result as number;
          if (names.has(from)) names.set(to, names.get(from)!);
          result = String(to);
          break;
        }
        default:
          result = e.result === undefined ? '0' : String(e.result);
      }
    }
    if (e.call === 'close' && !e.error) names.delete(e.args[0] as number);
    if (e.call === 'read' && !e.error && started.pipe !== undefined) awaitWriters(e.pid, started.pipe);
    const tail = e.call === 'read' ? `${args.slice(started.args.length + 2)}) = ${result}` : `= ${result}`;
    record.text = started.shown ? `<... ${callName(e)} resumed> ${tail}` : `${callName(e)}(${args}) = ${result}`;
    record.result = result;
    if (shown(e.call, started.internal)) print(e.pid, record.text);
    append(record); // after the line: a reader that waits for this mark prints after it
  });
  const removeLog = () => {
    if (process.pid !== tracerPid) return;
    if (temporary) fs.rmSync(path.dirname(logPath), { recursive: true, force: true });
  };
  process.on('exit', removeLog);
  return () => {
    showNotices();
    if (watch !== null && typeof watch !== 'string' && process.pid === tracerPid) watch.stop();
    setTracer(null);
    fs.closeSync(log);
    fs.closeSync(logReader);
    process.off('exit', removeLog);
    removeLog();
  };
}

// The package's system calls: argument validation, then one native call.
//
// EINTR policy (as Python's PEP 475): read, write, waitpid and sleep are
// retried inside the addon when a signal interrupts them, so EINTR never
// reaches JavaScript; close is never retried, because Linux releases the
// descriptor even when close(2) reports EINTR.
//
// Descriptor inheritance: pipe() with no flags gives descriptors that a
// child of fork() inherits and that survive exec (the tutorial relies on the
// former). Pass O_CLOEXEC to keep them out of programs that a child_process
// spawns (Python's PEP 446 default); fork() copies every descriptor either way.
import { constants as osConstants } from 'node:os';
import { checkFd, checkInt, invalidType, outOfRange, SyscallError } from './errors';
import { native } from './native';

native.setErrorClass(SyscallError);

/** One call through this module, as a tracer sees it after it returned or threw. */
export interface TraceEvent {
  call: string;
  args: readonly unknown[];
  result?: unknown;
  error?: SyscallError;
}

/** Receives every call made through the public functions, in the process that made it. */
export type Tracer = (event: TraceEvent) => void;

let tracer: Tracer | null = null;

/**
 * Installs (or, with null, removes) the tracer that `--trace` and the lessons
 * use. This is the one place calls are observed; with no tracer the cost is a
 * null check per call.
 */
export function setTracer(next: Tracer | null): void {
  tracer = next;
}

/** Runs `call` and reports it to the tracer (only called when one is set). */
export function traced<T>(name: string, args: readonly unknown[], call: () => T): T {
  const observe = tracer!;
  let result: T;
  try {
    result = call();
  } catch (error) {
    if (error instanceof SyscallError) observe({ call: name, args, error });
    throw error;
  }
  observe({ call: name, args, result });
  return result;
}

/** Reports a call that does not return (_exit) before it is made. */
function announce(name: string, args: readonly unknown[]): void {
  tracer?.({ call: name, args });
}

/** Whether a tracer is installed (fork.ts traces its own call). */
export function tracing(): boolean {
  return tracer !== null;
}

/** pipe2(2) flag: close the descriptor on exec. */
export const O_CLOEXEC: number = native.constants.O_CLOEXEC;
/** pipe2(2) flag: reads and writes fail with EAGAIN instead of blocking. */
export const O_NONBLOCK: number = native.constants.O_NONBLOCK;
/** waitpid(2) option: return at once (pid 0) if no child has changed state. */
export const WNOHANG: number = native.constants.WNOHANG;
/** waitpid(2) option: also report children stopped by a signal. */
export const WUNTRACED: number = native.constants.WUNTRACED;
/** waitpid(2) option: also report stopped children resumed by SIGCONT. */
export const WCONTINUED: number = native.constants.WCONTINUED;

const INT32_MIN = -(2 ** 31);

/**
 * Creates a pipe: a one-way channel in the kernel. See pipe(2).
 *
 * Returns `[readFd, writeFd]`: bytes written to `writeFd` are read from
 * `readFd`, in order. `flags` is 0 (like the tutorial's `pipe()`) or an OR of
 * {@link O_CLOEXEC} and {@link O_NONBLOCK}, passed to pipe2(2).
 */
export function pipe(flags: number = 0): [readFd: number, writeFd: number] {
  checkInt('flags', flags, 0);
  if (tracer !== null) return traced('pipe', [flags], () => native.pipe(flags));
  return native.pipe(flags);
}

function checkBuffer(buffer: unknown): Uint8Array {
  if (!(buffer instanceof Uint8Array)) {
    throw invalidType('buffer', 'an instance of Buffer or Uint8Array', buffer);
  }
  return buffer;
}

/** Validates `offset` against a buffer of `size` bytes, Node-style; returns it. */
function checkOffset(size: number, offset: unknown): number {
  const start = checkInt('offset', offset, 0);
  if (start > size) throw outOfRange('offset', `>= 0 && <= ${size}`, start);
  return start;
}

/** Validates `length` (default: the rest) for a span starting at `start`; returns it. */
function checkLength(size: number, start: number, length: unknown): number {
  if (length === undefined) return size - start;
  const count = checkInt('length', length, 0);
  if (count > size - start) throw outOfRange('length', `>= 0 && <= ${size - start}`, count);
  return count;
}

/**
 * Reads up to `length` bytes from `fd` into `buffer` at `offset`. See read(2).
 *
 * Reads straight into the caller's memory, with no copy. Returns the number of
 * bytes read, which may be fewer than asked for (a pipe returns what it holds,
 * up to `length`), and 0 at end of file: for a pipe, once every write end is
 * closed. Blocks the thread until data arrives, unless `fd` is non-blocking.
 */
export function read(fd: number, buffer: Uint8Array, offset: number = 0, length?: number): number {
  // The call of every read loop, read(fd, buffer[, offset]) untraced with valid
  // arguments, goes straight to the addon after the same checks written inline
  // (x === (x | 0): an int32). Anything else takes the checks below, which say what is wrong.
  if (tracer === null && length === undefined && buffer instanceof Uint8Array &&
      typeof fd === 'number' && fd === (fd | 0) && fd >= 0 &&
      typeof offset === 'number' && offset === (offset | 0) && offset >= 0 && offset <= buffer.byteLength) {
    return native.read(fd, buffer, offset, buffer.byteLength - offset);
  }
  checkFd(fd);
  checkBuffer(buffer);
  const start = checkOffset(buffer.byteLength, offset);
  const count = checkLength(buffer.byteLength, start, length);
  if (tracer !== null) {
    return traced('read', [fd, buffer, start, count], () => native.read(fd, buffer, start, count));
  }
  return native.read(fd, buffer, start, count);
}

/**
 * Writes bytes from `data` to `fd` with one write(2). See write(2).
 *
 * A string is written as UTF-8; `offset` and `length` count bytes. Returns the
 * number of bytes written, which may be fewer than asked for (a non-blocking
 * pipe, or a signal after part of a large write). Writing to a pipe whose read
 * ends are all closed fails with EPIPE: Node ignores SIGPIPE.
 */
export function write(
  fd: number,
  data: Uint8Array | string,
  offset: number = 0,
  length?: number,
): number {
  // As in read(): the common untraced call with valid arguments goes straight to the addon.
  if (tracer === null && length === undefined && data instanceof Uint8Array &&
      typeof fd === 'number' && fd === (fd | 0) && fd >= 0 &&
      typeof offset === 'number' && offset === (offset | 0) && offset >= 0 && offset <= data.byteLength) {
    return native.write(fd, data, offset, data.byteLength - offset);
  }
  checkFd(fd);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!(bytes instanceof Uint8Array)) {
    throw invalidType('data', 'of type string or an instance of Buffer or Uint8Array', data);
  }
  const start = checkOffset(bytes.byteLength, offset);
  const count = checkLength(bytes.byteLength, start, length);
  if (tracer !== null) {
    return traced('write', [fd, bytes, start, count], () => native.write(fd, bytes, start, count));
  }
  return native.write(fd, bytes, start, count);
}

/**
 * Closes a file descriptor. See close(2).
 *
 * Never retried on EINTR (the descriptor is released anyway on Linux). Closing
 * a descriptor twice fails with EBADF, or worse closes a descriptor that was
 * given the same number in between: close each one exactly once.
 */
export function close(fd: number): void {
  checkFd(fd);
  if (tracer !== null) return traced('close', [fd], () => native.close(fd));
  native.close(fd);
}

/** What waitpid(2) reports about a child, decoded from the raw status. */
export interface WaitStatus {
  /** The child's pid; 0 under {@link WNOHANG} while no child has changed state. */
  pid: number;
  /** The raw status word, as the C macros read it. */
  status: number;
  /** The child ended by exit or by returning from main (WIFEXITED). */
  exited: boolean;
  /** Its exit status, 0..255 (WEXITSTATUS); null unless `exited`. */
  exitCode: number | null;
  /** The child was ended by a signal (WIFSIGNALED). */
  signaled: boolean;
  /** That signal's name, e.g. 'SIGKILL' (WTERMSIG); null unless `signaled`. */
  signal: string | null;
  /** A core dump was written (WCOREDUMP). */
  coreDumped: boolean;
  /** The child is stopped, reported under {@link WUNTRACED} (WIFSTOPPED). */
  stopped: boolean;
  /** The signal that stopped it (WSTOPSIG); null unless `stopped`. */
  stopSignal: string | null;
  /** The child was resumed by SIGCONT, reported under {@link WCONTINUED}. */
  continued: boolean;
}

const signalNames = new Map<number, string>();
for (const [name, number] of Object.entries(osConstants.signals)) {
  if (!signalNames.has(number)) signalNames.set(number, name);
}

/** The name of signal `n` ('SIGKILL'), or 'SIG<n>' for one without a name. */
export function signalName(n: number): string {
  return signalNames.get(n) ?? `SIG${n}`;
}

/** Decodes a raw wait status the way <sys/wait.h>'s macros do on Linux. */
export function decodeWaitStatus(pid: number, status: number): WaitStatus {
  const low = status & 0x7f;
  const high = (status >> 8) & 0xff;
  const exited = pid !== 0 && low === 0;
  const stopped = pid !== 0 && (status & 0xff) === 0x7f;
  const continued = pid !== 0 && status === 0xffff;
  const signaled = pid !== 0 && low !== 0 && low !== 0x7f;
  return {
    pid,
    status,
    exited,
    exitCode: exited ? high : null,
    signaled,
    signal: signaled ? signalName(low) : null,
    coreDumped: signaled && (status & 0x80) !== 0,
    stopped,
    stopSignal: stopped ? signalName(high) : null,
    continued,
  };
}

/**
 * Waits for a child to change state. See waitpid(2).
 *
 * `pid` is a child's pid, -1 for any child, 0 or -pgid for a process group.
 * `options` is 0 or an OR of {@link WNOHANG}, {@link WUNTRACED} and
 * {@link WCONTINUED}. Blocks the thread (and so the event loop) until a child
 * ends, unless WNOHANG is given. With no child to wait for it fails with ECHILD.
 */
export function waitpid(pid: number = -1, options: number = 0): WaitStatus {
  checkInt('pid', pid, INT32_MIN);
  checkInt('options', options, 0);
  const call = () => {
    const [child, status] = native.waitpid(pid, options);
    return decodeWaitStatus(child, status);
  };
  return tracer !== null ? traced('waitpid', [pid, options], call) : call();
}

/** Waits for any child to end: `waitpid(-1, 0)`. See wait(2). */
export function wait(): WaitStatus {
  return waitpid(-1, 0);
}

/**
 * Ends the process at once with status `code & 0xff`. See _exit(2).
 *
 * Runs no 'exit' listeners and flushes nothing: output that Node still holds
 * in a stream's queue is lost. In a child of {@link fork} the stdout and stderr
 * pipes are written synchronously, so nothing is held there.
 */
export function _exit(code: number): never {
  checkInt('code', code, INT32_MIN);
  announce('_exit', [code]);
  return native._exit(code);
}

/** The calling process's pid. See getpid(2). */
export function getpid(): number {
  return native.getpid();
}

/** The parent's pid (1 or a subreaper's once the parent has died). See getppid(2). */
export function getppid(): number {
  return native.getppid();
}

/**
 * Blocks the calling thread for `milliseconds`, as Rust's `thread::sleep`
 * does. See nanosleep(2). The event loop does not run meanwhile.
 */
export function sleep(milliseconds: number): void {
  checkInt('milliseconds', milliseconds, 0);
  if (tracer !== null) return traced('sleep', [milliseconds], () => native.sleep(milliseconds));
  native.sleep(milliseconds);
}

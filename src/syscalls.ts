// The package's system calls: argument validation, then one native call.
//
// EINTR policy (as Python's PEP 475): read, write, waitpid, sleep and dup2
// are retried inside the addon when a signal interrupts them, so EINTR never
// reaches JavaScript; poll is resumed for what is left of its timeout (a plain
// retry would restart the full wait); close is never retried, because Linux
// releases the descriptor even when close(2) reports EINTR. dup, execvp, kill,
// fcntl (the commands accepted), bytesQueued, mkfifo, setParentDeathSignal and
// pidfdOpen do not block.
//
// Descriptor inheritance: pipe() with no flags gives descriptors that a
// child of fork() inherits and that survive exec (the tutorial relies on the
// former). Pass O_CLOEXEC to keep them out of programs that a child_process
// spawns (Python's PEP 446 default); fork() copies every descriptor either way.
import { constants as osConstants } from 'node:os';
import { checkFd, checkInt, invalidArgument, invalidType, outOfRange, SyscallError } from './errors';
import { native } from './native';
import { announce, traced, tracer } from './tracer';

native.setErrorClass(SyscallError);

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
 * Whether a read or write goes straight to the addon: the call of every read
 * and write loop, `(fd, bytes[, offset])` untraced with valid arguments, takes
 * the checks below written inline (x === (x | 0): an int32). Anything else
 * takes the checks that say what is wrong.
 */
function isDirect(fd: unknown, bytes: unknown, offset: unknown, length: unknown): boolean {
  return (
    tracer === null &&
    length === undefined &&
    bytes instanceof Uint8Array &&
    typeof fd === 'number' &&
    fd === (fd | 0) &&
    fd >= 0 &&
    typeof offset === 'number' &&
    offset === (offset | 0) &&
    offset >= 0 &&
    offset <= bytes.byteLength
  );
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
  if (isDirect(fd, buffer, offset, length)) return native.read(fd, buffer, offset, buffer.byteLength - offset);
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
export function write(fd: number, data: Uint8Array | string, offset: number = 0, length?: number): number {
  if (isDirect(fd, data, offset, length)) {
    const bytes = data as Uint8Array; // isDirect checked it
    return native.write(fd, bytes, offset, bytes.byteLength - offset);
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
  if (tracer !== null) announce(tracer, '_exit', [code]);
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

/** fcntl(2) command: get the file status flags (O_NONBLOCK, O_APPEND, the access mode). */
export const F_GETFL: number = native.constants.F_GETFL;
/** fcntl(2) command: set the file status flags; Linux changes only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME. */
export const F_SETFL: number = native.constants.F_SETFL;
/** fcntl(2) command: get the descriptor flags ({@link FD_CLOEXEC}). */
export const F_GETFD: number = native.constants.F_GETFD;
/** fcntl(2) command: set the descriptor flags ({@link FD_CLOEXEC}). */
export const F_SETFD: number = native.constants.F_SETFD;
/** fcntl(2) command: a pipe's capacity in bytes. */
export const F_GETPIPE_SZ: number = native.constants.F_GETPIPE_SZ;
/** fcntl(2) command: set a pipe's capacity (rounded up to a power-of-two number of pages; unprivileged up to /proc/sys/fs/pipe-max-size). */
export const F_SETPIPE_SZ: number = native.constants.F_SETPIPE_SZ;
/** Descriptor flag: close this descriptor when the process calls exec. */
export const FD_CLOEXEC: number = native.constants.FD_CLOEXEC;
/** poll(2) event: there are bytes to read (or, for a pipe, end of file). */
export const POLLIN: number = native.constants.POLLIN;
/** poll(2) event: a write would not block. */
export const POLLOUT: number = native.constants.POLLOUT;
/** poll(2) event (reported only): an error; for a pipe's write end, no reader is left. */
export const POLLERR: number = native.constants.POLLERR;
/** poll(2) event (reported only): hang-up; for a pipe's read end, no writer is left. */
export const POLLHUP: number = native.constants.POLLHUP;
/** poll(2) event (reported only): the descriptor is not open. */
export const POLLNVAL: number = native.constants.POLLNVAL;

/**
 * Returns a new descriptor, the lowest number not in use, for the same open
 * file description as `fd` (offset and status flags are shared; FD_CLOEXEC is
 * not set on the copy). See dup(2). Does not block, so never sees EINTR.
 */
export function dup(fd: number): number {
  checkFd(fd);
  if (tracer !== null) return traced('dup', [fd], () => native.dup(fd));
  return native.dup(fd);
}

/**
 * Makes `newfd` refer to the open file description of `oldfd`, closing what
 * `newfd` referred to first, in one step. Returns `newfd`. See dup2(2).
 *
 * The shell's redirection: `dup2(pipeWrite, 1)` makes the program's stdout
 * the pipe. If both are the same valid descriptor it does nothing. Retried on
 * EINTR (the same call again has the same effect).
 *
 * @example
 * dup2(writeEnd, 1); close(writeEnd); execvp('ls', ['ls']);
 */
export function dup2(oldfd: number, newfd: number): number {
  checkInt('oldfd', oldfd, 0);
  checkInt('newfd', newfd, 0);
  if (tracer !== null) return traced('dup2', [oldfd, newfd], () => native.dup2(oldfd, newfd));
  return native.dup2(oldfd, newfd);
}

/**
 * Replaces this process's program with `file`, found on PATH when it has no
 * slash, run with `args` as its argv (`args[0]` is by convention its name).
 * See execvp(3) and execve(2). Never returns on success.
 *
 * Meant for a child of {@link fork}: nothing of Node runs on the way (no
 * 'exit' event, no teardown), the kernel discards the whole image, and the
 * program's exit status is what the parent's {@link waitpid} reports.
 * Descriptors without FD_CLOEXEC stay open in the program; descriptors opened
 * with {@link O_CLOEXEC} (Node's own, for instance) are closed. Node marks its
 * stdin, stdout and stderr close-on-exec at start-up, so execvp clears
 * FD_CLOEXEC on descriptors 0, 1 and 2 just before it runs the program: like
 * one started by a shell, the program reads fd 0 and writes fds 1 and 2
 * (whatever {@link dup2} made them). If execvp fails it sets those flags back. Signals that
 * were ignored stay ignored (Node ignores SIGPIPE, so the program does too),
 * caught ones return to their default. Fails with a SyscallError (ENOENT,
 * EACCES...) and then the process goes on unchanged. Does not block, so never
 * sees EINTR.
 *
 * @example
 * const pid = fork(() => execvp('wc', ['wc', '-l'])); // counts the lines of this process's stdin
 */
export function execvp(file: string, args: readonly string[]): never {
  if (typeof file !== 'string') throw invalidType('file', 'of type string', file);
  if (file.length === 0) throw outOfRange('file', 'a non-empty string', "''");
  if (!Array.isArray(args)) throw invalidType('args', 'an instance of Array', args);
  args.forEach((arg, i) => {
    if (typeof arg !== 'string') throw invalidType(`args[${i}]`, 'of type string', arg);
  });
  for (const [name, value] of [['file', file], ...args.map((a, i) => [`args[${i}]`, a])]) {
    if (value.includes('\0')) {
      throw invalidArgument(
        'ERR_INVALID_ARG_VALUE',
        `The "${name}" argument must be a string without null bytes. Received '${value}'`,
      );
    }
  }
  const argv = [...args];
  if (tracer !== null) return traced('execvp', [file, argv], () => native.execvp(file, argv));
  return native.execvp(file, argv);
}

/** The number of a signal given by name ('SIGTERM') or number (0 checks the process exists). */
function signalNumber(signal: unknown): number {
  if (typeof signal === 'string') {
    const n = (osConstants.signals as Record<string, number>)[signal];
    if (n === undefined) {
      throw invalidArgument('ERR_UNKNOWN_SIGNAL', `Unknown signal: ${signal}`);
    }
    return n;
  }
  if (typeof signal !== 'number') throw invalidType('signal', 'of type string or number', signal);
  return checkInt('signal', signal, 0);
}

/**
 * Sends `signal` (a name like 'SIGTERM', or a number; 0 only checks) to
 * process `pid`, or to a process group with 0 or -pgid. See kill(2).
 * Fails with ESRCH when no such process exists (a zombie still does), EPERM
 * when it is not ours. Does not block, so never sees EINTR.
 */
export function kill(pid: number, signal: string | number = 'SIGTERM'): void {
  checkInt('pid', pid, INT32_MIN);
  const n = signalNumber(signal);
  if (tracer !== null) return traced('kill', [pid, signal], () => native.kill(pid, n));
  native.kill(pid, n);
}

/** A descriptor and the events to wait for, for {@link poll}. */
export interface PollFd {
  fd: number;
  /** An OR of {@link POLLIN} and {@link POLLOUT} (POLLERR, POLLHUP and POLLNVAL are always reported). */
  events: number;
}

/** What {@link poll} found for one descriptor. */
export interface PollResult extends PollFd {
  /** The events that happened, as the kernel reports them. */
  revents: number;
  /** Decoded: POLLIN (bytes to read, or end of file). */
  readable: boolean;
  /** Decoded: POLLOUT (a write would not block). */
  writable: boolean;
  /** Decoded: POLLHUP (no writer left, for a pipe's read end). */
  hangup: boolean;
  /** Decoded: POLLERR (no reader left, for a pipe's write end). */
  error: boolean;
  /** Decoded: POLLNVAL (the descriptor is not open). */
  invalid: boolean;
}

const POLL_FIELDS = 3; // fd, events, revents: the layout native.poll reads and fills

/**
 * Waits until one of `fds` is ready or `timeoutMs` has passed (-1: no limit,
 * 0: just look). See poll(2). Returns one result per entry, in order, with
 * `revents` decoded; none has revents when the time ran out.
 *
 * Blocks the thread (and the event loop). EINTR: a signal does not end the
 * wait early and is not simply retried either; the wait goes on for what is
 * left of `timeoutMs`, measured on the monotonic clock, as PEP 475 does.
 *
 * @example
 * const [out] = poll([{ fd: writeEnd, events: POLLOUT }], 1000);
 * if (out.writable) write(writeEnd, chunk);
 */
export function poll(fds: readonly PollFd[], timeoutMs: number = -1): PollResult[] {
  if (!Array.isArray(fds)) throw invalidType('fds', 'an instance of Array', fds);
  checkInt('timeoutMs', timeoutMs, -1);
  const entries = new Int32Array(fds.length * POLL_FIELDS);
  fds.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object') throw invalidType(`fds[${i}]`, 'of type object', entry);
    entries[i * POLL_FIELDS] = checkInt(`fds[${i}].fd`, entry.fd, 0);
    entries[i * POLL_FIELDS + 1] = checkInt(`fds[${i}].events`, entry.events, 0);
  });
  const call = () => {
    native.poll(entries, timeoutMs);
    return fds.map(({ fd, events }, i): PollResult => {
      const revents = entries[i * POLL_FIELDS + 2];
      return {
        fd,
        events,
        revents,
        readable: (revents & POLLIN) !== 0,
        writable: (revents & POLLOUT) !== 0,
        hangup: (revents & POLLHUP) !== 0,
        error: (revents & POLLERR) !== 0,
        invalid: (revents & POLLNVAL) !== 0,
      };
    });
  };
  return tracer !== null ? traced('poll', [fds, timeoutMs], call) : call();
}

const FCNTL_COMMANDS = new Set([F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_GETPIPE_SZ, F_SETPIPE_SZ]);

/**
 * Reads or changes a descriptor's flags, or a pipe's capacity. See fcntl(2).
 *
 * `cmd` is one of {@link F_GETFL} / {@link F_SETFL} (status flags such as
 * O_NONBLOCK, shared by every descriptor of the open file description, and so
 * by parent and child after fork), {@link F_GETFD} / {@link F_SETFD}
 * ({@link FD_CLOEXEC}, this descriptor only), {@link F_GETPIPE_SZ} /
 * {@link F_SETPIPE_SZ} (returns the capacity actually set). Other commands
 * take pointers or block, and are refused with ERR_OUT_OF_RANGE. The accepted
 * ones do not block, so never see EINTR.
 *
 * @example
 * fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
 */
export function fcntl(fd: number, cmd: number, arg: number = 0): number {
  checkFd(fd);
  if (typeof cmd !== 'number') throw invalidType('cmd', 'of type number', cmd);
  if (!FCNTL_COMMANDS.has(cmd)) {
    throw outOfRange('cmd', 'one of F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_GETPIPE_SZ, F_SETPIPE_SZ', cmd);
  }
  checkInt('arg', arg, 0);
  if (tracer !== null) return traced('fcntl', [fd, cmd, arg], () => native.fcntl(fd, cmd, arg));
  return native.fcntl(fd, cmd, arg);
}

/**
 * The number of bytes waiting to be read from `fd` (a pipe, socket or
 * terminal): ioctl(fd, FIONREAD). See ioctl_fionread in pipe(7). Does not
 * consume them and does not block. Fails with ENOTTY for a regular file on
 * some filesystems, EBADF for a closed descriptor.
 */
export function bytesQueued(fd: number): number {
  checkFd(fd);
  if (tracer !== null) return traced('bytesQueued', [fd], () => native.bytesQueued(fd));
  return native.bytesQueued(fd);
}

/**
 * Creates a named pipe (a FIFO) at `path`, with permissions `mode` (0 to
 * 0o7777) less the process's umask. See mkfifo(3) and fifo(7).
 *
 * The FIFO is a file in the directory, with no data on disk: the bytes go
 * through the kernel as in a {@link pipe}. Unrelated processes open it by
 * name (Node's `fs.openSync` is a real open(2)): a blocking open for reading
 * waits until a writer opens it, and the other way round; a non-blocking
 * open for reading returns at once, one for writing with no reader fails
 * with ENXIO (fifo(7)). Fails with EEXIST when
 * `path` exists. Does not block, so never sees EINTR.
 *
 * @example
 * mkfifo('/tmp/requests', 0o600);
 * const fd = fs.openSync('/tmp/requests', 'r'); // waits for a writer
 */
export function mkfifo(path: string, mode: number = 0o666): void {
  if (typeof path !== 'string') throw invalidType('path', 'of type string', path);
  if (path.includes('\0')) {
    throw invalidArgument(
      'ERR_INVALID_ARG_VALUE',
      `The "path" argument must be a string without null bytes. Received '${path}'`,
    );
  }
  checkInt('mode', mode, 0);
  if (mode > 0o7777) throw outOfRange('mode', 'an integer >= 0 and <= 0o7777', mode);
  if (tracer !== null) return traced('mkfifo', [path, mode], () => native.mkfifo(path, mode));
  native.mkfifo(path, mode);
}

/**
 * Has the kernel send `signal` (a name like 'SIGTERM', or a number; 0 clears
 * it) to this process when its parent dies. See PR_SET_PDEATHSIG in prctl(2).
 *
 * One typed call rather than a general prctl(option, arg): most of prctl's
 * options take pointers or change the whole process in ways this package
 * cannot check, so only this one, whose argument is a signal, is exposed.
 *
 * "Parent" is the thread that forked this process: the signal comes when
 * that thread ends, which for Node's main thread is when the parent process
 * exits. A child of {@link fork} starts with none set (fork(2) clears it), and
 * execve(2) keeps it (unless the program is set-user-ID, set-group-ID or has
 * file capabilities: prctl(2)). If the parent died before the call,
 * no signal ever comes: check {@link getppid} after it (it is then no longer
 * the pid the parent had). Does not block.
 *
 * @example
 * const parent = getpid();
 * fork(() => { setParentDeathSignal('SIGTERM'); if (getppid() !== parent) _exit(1); ... });
 */
export function setParentDeathSignal(signal: string | number): void {
  const n = signalNumber(signal);
  if (tracer !== null) return traced('setParentDeathSignal', [signal], () => native.setParentDeathSignal(n));
  native.setParentDeathSignal(n);
}

/**
 * Opens a descriptor that refers to process `pid`. See pidfd_open(2).
 *
 * It polls readable ({@link POLLIN} from {@link poll}) once the process has
 * ended (exited or killed: already as a zombie, before anyone reaps it),
 * which lets a process that is not the parent wait for it, with a timeout.
 * The descriptor is close-on-exec; close it with {@link close}. Unlike a pid,
 * it cannot come to mean another process once this one is reaped. Fails with
 * ESRCH when no such process exists, ENOSYS before Linux 5.3; a `pid` below 1
 * is a RangeError (ERR_OUT_OF_RANGE), refused before the call. Does not block.
 *
 * @example
 * const pidfd = pidfdOpen(pid);
 * const [ended] = poll([{ fd: pidfd, events: POLLIN }], 1000);
 */
export function pidfdOpen(pid: number): number {
  checkInt('pid', pid, 1);
  if (tracer !== null) return traced('pidfdOpen', [pid], () => native.pidfdOpen(pid));
  return native.pidfdOpen(pid);
}

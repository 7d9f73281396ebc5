// The errors this package throws, and the argument checks that raise them.

/**
 * A system call failed. Shaped like the errors Node's `fs` throws:
 * `message` is `"EBADF: bad file descriptor, read"`, `code` the errno name,
 * `errno` libuv's negative number (-9 for EBADF), `syscall` the call's name.
 */
export class SyscallError extends Error {
  /** The errno name: `'EBADF'`. */
  readonly code: string;
  /** libuv's number for it, negative: -9 for EBADF. */
  readonly errno: number;
  /** The system call that failed: `'read'`. */
  readonly syscall: string;
  /** The addon constructs these (setErrorClass hands it this class once); so may JavaScript. */
  constructor(message: string, code: string, errno: number, syscall: string) {
    super(message);
    this.name = 'SyscallError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Whether `error` is a SyscallError (with errno name `code`, if given): narrowing without casts. */
export function isSyscallError(error: unknown, code?: string): error is SyscallError {
  return error instanceof SyscallError && (code === undefined || error.code === code);
}

/**
 * Every `ERR_*` code the package throws, with the class of error it comes as
 * and when: the one list, as Node's lib/internal/errors.js keeps its own. The
 * messages stay where the error is thrown, as they name the values at hand;
 * a code that is not here does not compile there.
 */
export const ERROR_CODES = {
  // The addons (src/native.ts).
  ERR_UNSUPPORTED_PLATFORM: { kind: Error, when: 'loaded on a system other than Linux' },
  ERR_ADDON_NOT_BUILT: { kind: Error, when: 'an addon was not compiled (a failed or skipped install)' },
  ERR_ADDON_NOT_LOADED: { kind: Error, when: 'an addon is there but does not load' },
  ERR_ADDON_BUILT_FOR_OTHER_NODE: { kind: Error, when: 'fork() with a fork engine compiled for another Node' },
  ERR_FORK_UNSUPPORTED_NODE: { kind: Error, when: 'fork() on a Node whose libuv the fork engine was not checked for' },
  ERR_FORK_ENGINE_NOT_VERIFIED: {
    kind: Error,
    when: 'fork() with only the prebuilt fork engine, on a release of its Node line it was not verified on',
  },
  ERR_NO_EVENT_LOOP: { kind: Error, when: 'a native call that needs the event loop, where Node-API gives none' },
  // fork() (src/fork.ts).
  ERR_FORK_PENDING_OUTPUT: { kind: Error, when: 'fork() while stdout, stderr or a kept socket holds queued writes' },
  ERR_FORK_IO_URING: {
    kind: Error,
    when: 'fork() where libuv reads files on an io_uring (Node 20: UV_USE_IO_URING=1, or 20.4-20.11.0)',
  },
  ERR_FORK_RANDOM_INT_PENDING: {
    kind: Error,
    when: "fork() while async crypto.randomInt() calls wait for a cache refill begun before fork()'s first use",
  },
  ERR_FORK_EXITING: { kind: Error, when: "fork() in an 'exit' listener" },
  ERR_FORK_NOT_MAIN_THREAD: { kind: Error, when: 'fork() in a Worker' },
  ERR_FORKED_CHILD_NO_THREADS: { kind: Error, when: "a forked child uses its parent's Workers, or cannot start one" },
  // The fork server (src/forkserver/).
  ERR_FORK_SERVER_NOT_QUIET: { kind: Error, when: 'the preload left work pending, so the server is not quiet' },
  ABORT_ERR: { kind: Error, when: "startForkServer()'s signal aborted before the server was ready" },
  ERR_FORK_SERVER_INIT_STUCK: { kind: Error, when: "a preload's init() returned a promise nothing could settle" },
  ERR_FORK_SERVER_NO_EXPORT: { kind: Error, when: 'server.fork() of a module without the export it names' },
  ERR_FORK_SERVER_JOB_THREW: { kind: Error, when: "a fork server child's job threw" },
  ERR_FORK_SERVER_DIED: { kind: Error, when: 'the fork server ended while calls waited on it' },
  ERR_FORK_SERVER_CLOSED: { kind: Error, when: 'server.fork() after server.close()' },
  ERR_FORK_SERVER_PROTOCOL: { kind: Error, when: 'the fork server sent a message that makes no sense' },
  // Streams and children (src/io/).
  ERR_SERVER_NOT_RUNNING: { kind: Error, when: 'OwnedFd.fromServer() of a server that is not listening' },
  ERR_STREAM_PREMATURE_CLOSE: { kind: Error, when: 'a pipe stream closed before it ended' },
  ERR_STREAM_DESTROYED: { kind: Error, when: "a PipeWriter's write() that close() came before the kernel took" },
  ERR_CHILD_PROCESS_OWNED: { kind: Error, when: 'waitExit() of a child_process child, which Node reaps itself' },
  ERR_INVALID_FD_TYPE: { kind: TypeError, when: 'a pipe stream on a descriptor that is not that end of a pipe' },
  // Arguments, as Node's own functions report them.
  ERR_INVALID_ARG_TYPE: { kind: TypeError, when: 'an argument of the wrong type' },
  ERR_INVALID_ARG_VALUE: { kind: TypeError, when: 'an argument of the right type and a wrong value' },
  ERR_OUT_OF_RANGE: { kind: RangeError, when: 'a number outside its range' },
  ERR_UNKNOWN_SIGNAL: { kind: TypeError, when: 'a signal name or number that does not exist' },
} as const;

/** One of the package's `ERR_*` codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An Error with one of this package's own `ERR_*` codes (not a system call's, not an argument's). */
export type PackageError = Error & { code: ErrorCode };

/** Makes the error of `code`, of the class the table gives it. */
function codedError(code: ErrorCode, message: string): Error & { code: ErrorCode } {
  return Object.assign(new ERROR_CODES[code].kind(message), { code });
}

/** Makes one of this package's own errors: the one way they are made. */
export function packageError(code: ErrorCode, message: string): PackageError {
  return codedError(code, message);
}

/** A TypeError or RangeError with one of Node's `ERR_*` codes. */
export type ArgumentError = (TypeError | RangeError) & { code: ErrorCode };

/** A TypeError (or RangeError, as the table says) for a bad argument no helper below describes. */
export function invalidArgument(code: ErrorCode, message: string): ArgumentError {
  return codedError(code, message) as ArgumentError;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name ? `an instance of ${name}` : 'an object';
  }
  const shown = typeof value === 'string' ? `'${value.slice(0, 25)}'` : String(value);
  return `type ${typeof value} (${shown})`;
}

/** `ERR_INVALID_ARG_TYPE`, worded as Node words it. */
export function invalidType(name: string, expected: string, value: unknown): ArgumentError {
  return invalidArgument(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(value)}`,
  );
}

/** `ERR_OUT_OF_RANGE`, worded as Node words it. */
export function outOfRange(name: string, range: string, value: unknown): ArgumentError {
  return invalidArgument(
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`,
  );
}

const INT32_MAX = 2 ** 31 - 1;

/** An integer in [min, 2^31 - 1]: a file descriptor, a pid, flags, a count. */
export function checkInt(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > INT32_MAX) {
    throw outOfRange(name, `an integer >= ${min} and <= ${INT32_MAX}`, value);
  }
  return value;
}

/** A file descriptor: an integer >= 0. */
export function checkFd(value: unknown): number {
  return checkInt('fd', value, 0);
}

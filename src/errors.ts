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

/** An Error with one of this package's own `ERR_*` codes (not a system call's, not an argument's). */
export type PackageError = Error & { code: string };

/** Makes one of this package's own errors: the one way they are made. */
export function packageError(code: string, message: string): PackageError {
  return Object.assign(new Error(message), { code });
}

/** A TypeError or RangeError with one of Node's `ERR_*` codes. */
export type ArgumentError = (TypeError | RangeError) & { code: string };

function argumentError(Kind: typeof TypeError | typeof RangeError, code: string, message: string): ArgumentError {
  const error = new Kind(message) as ArgumentError;
  error.code = code;
  return error;
}

/** A TypeError with a Node `ERR_*` code, for a bad argument no helper below describes. */
export function invalidArgument(code: string, message: string): ArgumentError {
  return argumentError(TypeError, code, message);
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
  return argumentError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(value)}`,
  );
}

/** `ERR_OUT_OF_RANGE`, worded as Node words it. */
export function outOfRange(name: string, range: string, value: unknown): ArgumentError {
  return argumentError(
    RangeError,
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

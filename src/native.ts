// Loads the addon and types it: one member per native call.
import * as path from 'node:path';
import bindings from 'bindings';
import { packageError } from './errors';
import { PACKAGE_ROOT } from './internal/paths';

/** The addon as built from native/, before any argument validation. */
export interface NativeModule {
  pipe(flags: number): [number, number];
  fork(keepFds?: number[]): number;
  read(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  write(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  close(fd: number): void;
  waitpid(pid: number, options: number): [number, number];
  _exit(code: number): never;
  getpid(): number;
  getppid(): number;
  sleep(milliseconds: number): void;
  dup(fd: number): number;
  dup2(oldfd: number, newfd: number): number;
  execvp(file: string, args: string[]): never;
  kill(pid: number, signal: number): void;
  /** entries: [fd, events, revents] triples; fills revents, returns how many are set. */
  poll(entries: Int32Array, timeoutMs: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  bytesQueued(fd: number): number;
  setErrorClass(errorClass: new (message: string, code: string, errno: number, syscall: string) => Error): void;
  /** In a forked child: the stdio descriptors given a file description of the child's own. */
  childStdioReopened(): number[];
  /** In a forked child: the files whose inherited fs.watchFile watchers were stopped. */
  childInheritedWatchedFiles(): string[];
  /** Bytes Node still has queued for stdout, stderr and `moreFds`: fork() refuses while any are. */
  stdioPendingBytes(moreFds?: number[]): number;
  /** pidfd_open(2) + a uv_poll_t: onExit() once the process has ended; returns a stop function. */
  watchPidExit(pid: number, onExit: () => void): () => void;
  /** Whether a child_process ChildProcess of this loop owns `pid`. */
  childProcessOwns(pid: number): boolean;
  /** fcntl(F_DUPFD_CLOEXEC) of a listening socket only (OwnedFd.fromServer). */
  duplicateListener(fd: number): number;
  /** The Node the addon was compiled for: its fork() depends on that Node's internals. */
  builtFor: { node: string; modules: number; uv: string };
  constants: {
    O_CLOEXEC: number;
    O_NONBLOCK: number;
    WNOHANG: number;
    WUNTRACED: number;
    WCONTINUED: number;
    F_GETFL: number;
    F_SETFL: number;
    F_GETFD: number;
    F_SETFD: number;
    F_GETPIPE_SZ: number;
    F_SETPIPE_SZ: number;
    FD_CLOEXEC: number;
    POLLIN: number;
    POLLOUT: number;
    POLLERR: number;
    POLLHUP: number;
    POLLNVAL: number;
  };
}

/** The addon's `internal` object: what only the lessons and the tests call. */
export interface NativeInternals {
  /** pthread_sigmask(3) for one signal, for the sigchld lesson: blocks it (true) or unblocks it. */
  lessonBlockSignal(signal: number, block: boolean): void;
  /** fork(2) alone, for the raw-fork lesson: the child cannot run JavaScript. */
  bareFork(): number;
  /** How many mappings are now marked MADV_DONTFORK. */
  dontforkRegionCount(): number;
}

/** Where node-gyp puts the addon in this package. */
const BUILT = path.join(PACKAGE_ROOT, 'build', 'Release', 'bidirectional_ipc.node');

const REBUILD =
  'Rebuild it for this Node with `npm rebuild bidirectional-ipc` (in this repository: `npm install`); ' +
  'that needs a C++ compiler, make and python3 (Debian/Ubuntu: apt-get install build-essential python3).';

function load(): NativeModule & { internal: NativeInternals } {
  if (process.platform !== 'linux') {
    throw packageError(
      'ERR_UNSUPPORTED_PLATFORM',
      `bidirectional-ipc supports Linux only; this is ${process.platform}. ` +
        'Its fork() depends on Linux madvise(2) flags and /proc.',
    );
  }
  // BIDIRECTIONAL_IPC_ADDON names another build of the addon, such as the
  // sanitizer build that `npm run test:sanitize` loads.
  const override = process.env.BIDIRECTIONAL_IPC_ADDON;
  if (override) return require(override);
  try {
    return require(BUILT);
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') {
      throw packageError(
        'ERR_ADDON_NOT_LOADED',
        `bidirectional-ipc: its addon ${BUILT} could not be loaded ` +
          `(${(error as Error).message.split('\n')[0]}). ${REBUILD}`,
      );
    }
  }
  try {
    return bindings('bidirectional_ipc'); // other layouts (Debug builds, other tools)
  } catch {
    throw packageError(
      'ERR_ADDON_NOT_BUILT',
      `bidirectional-ipc: its addon is not built (no ${BUILT}): ` +
        `the install step that compiles it failed or was skipped (--ignore-scripts). ${REBUILD}`,
    );
  }
}

// A copy by rest (as a spread would): the object the addon fills is in V8's
// dictionary mode (too many properties added one by one), whose property loads
// stay out of optimized code; a literal's are inlined. Every read and write loads one.
const { internal, ...calls } = load();
export const native: NativeModule = calls;
/** For the lessons and the tests only. */
export const nativeInternals: NativeInternals = internal;

/**
 * Throws unless the addon was compiled for the running Node. Its fork() uses
 * Node's embedder API (node.h) and libuv's loop fields, whose layout is fixed
 * per Node ABI version and libuv version: an addon from another Node would
 * corrupt that Node's state (the parent aborts inside fork()). The other calls
 * use Node-API alone and work with any Node.
 */
export function checkBuiltForThisNode(): void {
  const built = native.builtFor;
  if (built.modules === Number(process.versions.modules) && built.uv === process.versions.uv) return;
  throw packageError(
    'ERR_ADDON_BUILT_FOR_OTHER_NODE',
    `bidirectional-ipc: fork() refused: the addon was compiled for Node ${built.node} ` +
      `(ABI ${built.modules}, libuv ${built.uv}) and this is Node ${process.versions.node} ` +
      `(ABI ${process.versions.modules}, libuv ${process.versions.uv}). ${REBUILD}`,
  );
}

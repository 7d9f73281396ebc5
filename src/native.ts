// Loads the two addons and types them: the core (the system calls) when the
// package is imported, the fork engine on the first fork(); one member per
// native call.
import * as fs from 'node:fs';
import * as path from 'node:path';
import bindings from 'bindings';
import { packageError, SyscallError } from './errors';
import { PACKAGE_ROOT } from './internal/paths';

/** The core addon (native/addon.cc) as built, before any argument validation. */
export interface NativeModule {
  pipe(flags: number): [number, number];
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
  /** pidfd_open(2) + a uv_poll_t: onExit() once the process has ended; returns a stop function. */
  watchPidExit(pid: number, onExit: () => void): () => void;
  /** Whether a child_process ChildProcess of this loop owns `pid`. */
  childProcessOwns(pid: number): boolean;
  /** fcntl(F_DUPFD_CLOEXEC) of a listening socket only (OwnedFd.fromServer). */
  duplicateListener(fd: number): number;
  /** Unix-domain sockets that carry descriptors (native/socket.cc). */
  socketpair(type: number, flags: number): [number, number];
  sendmsg(fd: number, buffer: Uint8Array, offset: number, length: number, fds: number[], flags: number): number;
  /** [bytes read, descriptors received]. */
  recvmsg(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    maxFds: number,
    flags: number,
  ): [number, number[]];
  /** The libuv versions (1.x) whose internals the fork engine was checked against. */
  checkedUv: { first: string; last: string };
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
    SOCK_STREAM: number;
    SOCK_SEQPACKET: number;
    SOCK_CLOEXEC: number;
    SOCK_NONBLOCK: number;
    MSG_DONTWAIT: number;
    MSG_NOSIGNAL: number;
  };
}

/** The fork engine (native/engine.cc): fork() and what only it needs, loaded by the first fork(). */
export interface ForkEngine {
  fork(keepFds?: number[]): number;
  /** In a forked child: the stdio descriptors given a file description of the child's own. */
  childStdioReopened(): number[];
  /** In a forked child: the files whose inherited fs.watchFile watchers were stopped. */
  childInheritedWatchedFiles(): string[];
  /** prctl(PR_SET_PDEATHSIG, signal): the fork server's, and its children's, end with their parent. */
  setParentDeathSignal(signal: number): void;
  /** Bytes Node still has queued for stdout, stderr and `moreFds`: fork() refuses while any are. */
  stdioPendingBytes(moreFds?: number[]): number;
  /** null when this V8's Math.random() state is where random.cc expects it, else what was found. */
  mathRandomLayoutCheck(mathRandom: () => number): string | null;
  /** In a forked child: Math.random() of the main context draws from a fresh getrandom(2) state. */
  reseedMathRandom(): void;
  setErrorClass(errorClass: new (message: string, code: string, errno: number, syscall: string) => Error): void;
  /** The Node the engine was compiled for: it depends on that Node's internals. */
  builtFor: { node: string; modules: number; uv: string };
  internal: {
    /** fork(2) alone, for the raw-fork lesson: the child cannot run JavaScript. */
    bareFork(): number;
    /** How many mappings are now marked MADV_DONTFORK. */
    dontforkRegionCount(): number;
  };
}

/** What only the lessons and the tests call: the core's `internal` object and the engine's. */
export interface NativeInternals {
  /** pthread_sigmask(3) for one signal, for the sigchld lesson: blocks it (true) or unblocks it. */
  lessonBlockSignal(signal: number, block: boolean): void;
  /** fork(2) alone, for the raw-fork lesson (loads the fork engine): the child cannot run JavaScript. */
  bareFork(): number;
  /** How many mappings are now marked MADV_DONTFORK (loads the fork engine). */
  dontforkRegionCount(): number;
}

/** Where node-gyp puts the addons in this package. */
const BUILT = path.join(PACKAGE_ROOT, 'build', 'Release');
/**
 * Where the packed package carries the core prebuilt for this platform, laid
 * out as node-pty lays out its prebuilds: one directory per platform-arch.
 */
const PREBUILT = path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);

/** What to do about an addon that is missing or does not load. */
export const REBUILD_ADVICE =
  'Rebuild it for this Node with `npm rebuild bidirectional-ipc` (in this repository: `npm install`); ' +
  'that needs a C++ compiler, make and python3 (Debian/Ubuntu: apt-get install build-essential python3).';

type AddonName = 'bidirectional_ipc_core' | 'bidirectional_ipc_fork';

/**
 * Where addon `name` may be, in order: BIDIRECTIONAL_IPC_BUILD alone if set,
 * a directory holding another build of both (such as the sanitizer build
 * that `npm run test:sanitize` loads); else node-gyp's Release directory (a
 * local build wins), then, for the core, the prebuilt one.
 */
function candidates(name: AddonName): string[] {
  const override = process.env.BIDIRECTIONAL_IPC_BUILD;
  if (override) return [path.join(override, `${name}.node`)];
  const local = path.join(BUILT, `${name}.node`);
  return name === 'bidirectional_ipc_core' ? [local, path.join(PREBUILT, `${name}.node`)] : [local];
}

/** Loads the first of {@link candidates} that exists, else one `bindings` finds (Debug builds, other tools). */
function loadBuild(name: AddonName): unknown {
  for (const file of candidates(name)) {
    if (!fs.existsSync(file)) continue;
    try {
      return require(file);
    } catch (error) {
      throw packageError(
        'ERR_ADDON_NOT_LOADED',
        `the bidirectional-ipc addon ${file} could not be loaded (${(error as Error).message.split('\n')[0]}). ` +
          REBUILD_ADVICE,
      );
    }
  }
  if (process.env.BIDIRECTIONAL_IPC_BUILD) return undefined;
  try {
    return bindings(name);
  } catch {
    return undefined;
  }
}

function loadCore(): NativeModule & { internal: Pick<NativeInternals, 'lessonBlockSignal'> } {
  if (process.platform !== 'linux') {
    throw packageError(
      'ERR_UNSUPPORTED_PLATFORM',
      `bidirectional-ipc supports Linux only; this is ${process.platform}. ` +
        'Its fork() depends on Linux madvise(2) flags and /proc.',
    );
  }
  const core = loadBuild('bidirectional_ipc_core');
  if (core === undefined) {
    throw packageError(
      'ERR_ADDON_NOT_BUILT',
      `the bidirectional-ipc addon is not built (no ${candidates('bidirectional_ipc_core')[0]}): ` +
        `the install step that compiles it failed or was skipped (--ignore-scripts). ${REBUILD_ADVICE}`,
    );
  }
  return core as NativeModule & { internal: Pick<NativeInternals, 'lessonBlockSignal'> };
}

// A copy by rest (as a spread would): the object the addon fills is in V8's
// dictionary mode (too many properties added one by one), whose property loads
// stay out of optimized code; a literal's are inlined. Every read and write loads one.
const { internal, ...calls } = loadCore();
export const native: NativeModule = calls;

/** 1.52.0 -> [1, 52]. */
function majorMinor(version: string): [number, number] {
  const [major, minor] = version.split('.').map(Number);
  return [major, minor];
}

function uvChecked(version: string): boolean {
  const [major, minor] = majorMinor(version);
  const [, first] = majorMinor(native.checkedUv.first);
  const [, last] = majorMinor(native.checkedUv.last);
  return major === 1 && minor >= first && minor <= last;
}

/** `uv`: the libuv version found, this Node's or the one the engine was built against. */
function unsupportedNode(uv: string): Error {
  const { first, last } = native.checkedUv;
  return packageError(
    'ERR_FORK_UNSUPPORTED_NODE',
    `fork() does not support Node ${process.versions.node} with libuv ${uv}: its fork engine ` +
      `mirrors libuv internals checked for libuv ${first} to ${last} only. Every call but fork() works; ` +
      'README.md lists the Node versions fork() supports.',
  );
}

let engine: ForkEngine | undefined;

/**
 * The fork engine, loaded on first use after checking that it was built for
 * this Node and that this Node's libuv is one its internals were checked
 * against: a mismatched engine would corrupt Node's state (the parent aborts
 * inside fork()). Throws ERR_FORK_UNSUPPORTED_NODE, ERR_ADDON_NOT_BUILT or
 * ERR_ADDON_BUILT_FOR_OTHER_NODE instead.
 */
export function forkEngine(): ForkEngine {
  if (engine !== undefined) return engine;
  if (!uvChecked(process.versions.uv)) throw unsupportedNode(process.versions.uv);
  const loaded = loadBuild('bidirectional_ipc_fork') as ForkEngine | undefined;
  if (loaded === undefined) {
    throw packageError(
      'ERR_ADDON_NOT_BUILT',
      `fork() needs the fork engine, which is not built for Node ${process.versions.node} ` +
        `(no ${candidates('bidirectional_ipc_fork')[0]}; the install builds it and says why it could not). ` +
        REBUILD_ADVICE,
    );
  }
  const built = loaded.builtFor;
  if (!uvChecked(built.uv)) throw unsupportedNode(built.uv);
  if (built.modules !== Number(process.versions.modules) || built.uv !== process.versions.uv) {
    throw packageError(
      'ERR_ADDON_BUILT_FOR_OTHER_NODE',
      `fork() refused: the fork engine was compiled for Node ${built.node} ` +
        `(ABI ${built.modules}, libuv ${built.uv}) and this is Node ${process.versions.node} ` +
        `(ABI ${process.versions.modules}, libuv ${process.versions.uv}). ${REBUILD_ADVICE}`,
    );
  }
  loaded.setErrorClass(SyscallError);
  engine = loaded;
  return engine;
}

/** For the lessons and the tests only. */
export const nativeInternals: NativeInternals = {
  lessonBlockSignal: internal.lessonBlockSignal,
  bareFork: () => forkEngine().internal.bareFork(),
  dontforkRegionCount: () => forkEngine().internal.dontforkRegionCount(),
};

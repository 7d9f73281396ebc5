// The one description of each native call, for TypeScript: which addon
// exports it, the signature it takes there (before any wrapper's checks),
// and what the tracer makes of it. src/native.ts types both addons from it,
// tracer.ts's traced() takes only a name it marks traced, and the CLI's
// --trace accepts the names it lists. Its native twin is native/exports.h
// (the export lists); test/calls.test.ts holds the two together. It loads no
// addon: the CLI reads it before it loads one.

/** Any function an addon exports. */
type NativeFunction = (...args: never[]) => unknown;

type ErrorClass = new (message: string, code: string, errno: number, syscall: string) => Error;

/**
 * What the tracer makes of a call: 'listed' ones are reported to it by their
 * wrapper and are names that `--trace=CALLS` accepts; 'unlisted' ones are
 * reported (so `--trace` alone prints them) but not offered by name; 'none'
 * are never reported (they change nothing a reader of a trace follows).
 */
export type TraceKind = 'listed' | 'unlisted' | 'none';

interface Description {
  /**
   * The export object that holds it: the core's (native/addon.cc), the fork
   * engine's (native/engine.cc, loaded by the first fork()), or both.
   */
  readonly addon: 'core' | 'engine' | 'both';
  /** Under that object's `internal`: only the lessons and the tests call it. */
  readonly internal?: true;
  readonly trace: TraceKind;
}

/** A description, with the call's signature carried by its type only. */
type Described<F extends NativeFunction, D extends Description> = D & { readonly signature?: F };

/** describe<signature>()({ addon, trace }): one entry of {@link CALLS}. */
function describe<F extends NativeFunction>() {
  return <const D extends Description>(description: D): Described<F, D> => description;
}

/**
 * Every native call, keyed by the name both JavaScript and the trace events
 * use; the order is the one `--trace`'s list of calls shows.
 */
export const CALLS = {
  pipe: describe<(flags: number) => [number, number]>()({ addon: 'core', trace: 'listed' }),
  fork: describe<(keepFds?: number[]) => number>()({ addon: 'engine', trace: 'listed' }),
  read: describe<(fd: number, buffer: Uint8Array, offset: number, length: number) => number>()({
    addon: 'core',
    trace: 'listed',
  }),
  write: describe<(fd: number, buffer: Uint8Array, offset: number, length: number) => number>()({
    addon: 'core',
    trace: 'listed',
  }),
  close: describe<(fd: number) => void>()({ addon: 'core', trace: 'listed' }),
  waitpid: describe<(pid: number, options: number) => [number, number]>()({ addon: 'core', trace: 'listed' }),
  _exit: describe<(code: number) => never>()({ addon: 'core', trace: 'listed' }),
  sleep: describe<(milliseconds: number) => void>()({ addon: 'core', trace: 'listed' }),
  dup: describe<(fd: number) => number>()({ addon: 'core', trace: 'listed' }),
  dup2: describe<(oldfd: number, newfd: number) => number>()({ addon: 'core', trace: 'listed' }),
  execvp: describe<(file: string, args: string[]) => never>()({ addon: 'core', trace: 'listed' }),
  kill: describe<(pid: number, signal: number) => void>()({ addon: 'core', trace: 'listed' }),
  /** entries: [fd, events, revents] triples; fills revents, returns how many are set. */
  poll: describe<(entries: Int32Array, timeoutMs: number) => number>()({ addon: 'core', trace: 'listed' }),
  fcntl: describe<(fd: number, cmd: number, arg: number) => number>()({ addon: 'core', trace: 'listed' }),
  bytesQueued: describe<(fd: number) => number>()({ addon: 'core', trace: 'listed' }),
  mkfifo: describe<(path: string, mode: number) => void>()({ addon: 'core', trace: 'listed' }),
  /** prctl(PR_SET_PDEATHSIG, signal). */
  setParentDeathSignal: describe<(signal: number) => void>()({ addon: 'core', trace: 'listed' }),
  /** pidfd_open(pid, 0): a close-on-exec descriptor of the process. */
  pidfdOpen: describe<(pid: number) => number>()({ addon: 'core', trace: 'listed' }),
  getpid: describe<() => number>()({ addon: 'core', trace: 'none' }),
  getppid: describe<() => number>()({ addon: 'core', trace: 'none' }),
  /** Unix-domain sockets that carry descriptors (native/socket.cc). */
  socketpair: describe<(type: number, flags: number) => [number, number]>()({ addon: 'core', trace: 'listed' }),
  sendmsg: describe<
    (fd: number, buffer: Uint8Array, offset: number, length: number, fds: number[], flags: number) => number
  >()({ addon: 'core', trace: 'unlisted' }),
  /** [bytes read, descriptors received]. */
  recvmsg: describe<
    (
      fd: number,
      buffer: Uint8Array,
      offset: number,
      length: number,
      maxFds: number,
      flags: number,
    ) => [number, number[]]
  >()({ addon: 'core', trace: 'unlisted' }),
  shutdown: describe<(fd: number, how: number) => void>()({ addon: 'core', trace: 'listed' }),
  /** The class errno errors are made of; each addon keeps its own. */
  setErrorClass: describe<(errorClass: ErrorClass) => void>()({ addon: 'both', trace: 'none' }),
  /** pidfd_open(2) + a uv_poll_t: onExit() once the process has ended; returns a stop function. */
  watchPidExit: describe<(pid: number, onExit: () => void) => () => void>()({ addon: 'core', trace: 'none' }),
  /** Whether a child_process ChildProcess of this loop owns `pid`. */
  childProcessOwns: describe<(pid: number) => boolean>()({ addon: 'core', trace: 'none' }),
  /** fcntl(F_DUPFD_CLOEXEC) of a listening socket only (OwnedFd.fromServer). */
  duplicateListener: describe<(fd: number) => number>()({ addon: 'core', trace: 'none' }),
  /** pthread_sigmask(3) for one signal, for the sigchld lesson: blocks it (true) or unblocks it. */
  lessonBlockSignal: describe<(signal: number, block: boolean) => void>()({
    addon: 'core',
    internal: true,
    trace: 'none',
  }),
  /** sigaction(2) for SIGCHLD, for the no-zombies lesson: 0 the default, 1 SIG_IGN, 2 SA_NOCLDWAIT. */
  lessonSetSigchld: describe<(mode: 0 | 1 | 2) => void>()({ addon: 'core', internal: true, trace: 'none' }),
  /** prctl(PR_SET_CHILD_SUBREAPER, 1), for the parent-death lesson: orphaned descendants become its children. */
  lessonBecomeSubreaper: describe<() => void>()({ addon: 'core', internal: true, trace: 'none' }),
  /** Throws ERR_FORK_IO_URING, or an errno error without /proc; fork() calls it before any hook. */
  checkForkable: describe<() => void>()({ addon: 'engine', trace: 'none' }),
  /** In a forked child: the stdio descriptors given a file description of the child's own. */
  childStdioReopened: describe<() => number[]>()({ addon: 'engine', trace: 'none' }),
  /** In a forked child: the files whose inherited fs.watchFile watchers were stopped. */
  childInheritedWatchedFiles: describe<() => string[]>()({ addon: 'engine', trace: 'none' }),
  /** Bytes Node still has queued for stdout, stderr and `moreFds`: fork() refuses while any are. */
  stdioPendingBytes: describe<(moreFds?: number[]) => number>()({ addon: 'engine', trace: 'none' }),
  /** null when this V8's Math.random() state is where random.cc expects it, else what was found. */
  mathRandomLayoutCheck: describe<(mathRandom: () => number) => string | null>()({ addon: 'engine', trace: 'none' }),
  /** In a forked child: Math.random() of every context, and V8's seed of later ones, drawn from getrandom(2). */
  reseedMathRandom: describe<() => void>()({ addon: 'engine', trace: 'none' }),
  /** fork(2) alone, for the raw-fork lesson: the child cannot run JavaScript. */
  bareFork: describe<() => number>()({ addon: 'engine', internal: true, trace: 'none' }),
  /** How many mappings are now marked MADV_DONTFORK. */
  dontforkRegionCount: describe<() => number>()({ addon: 'engine', internal: true, trace: 'none' }),
};

/** The core's `constants` object: the flags and options the calls take (native/exports.h). */
export const CONSTANTS = [
  'O_CLOEXEC',
  'O_NONBLOCK',
  'WNOHANG',
  'WUNTRACED',
  'WCONTINUED',
  'F_GETFL',
  'F_SETFL',
  'F_GETFD',
  'F_SETFD',
  'F_GETPIPE_SZ',
  'F_SETPIPE_SZ',
  'FD_CLOEXEC',
  'POLLIN',
  'POLLOUT',
  'POLLERR',
  'POLLHUP',
  'POLLNVAL',
  'SOCK_STREAM',
  'SOCK_SEQPACKET',
  'SOCK_CLOEXEC',
  'SOCK_NONBLOCK',
  'MSG_DONTWAIT',
  'MSG_NOSIGNAL',
  'SHUT_RD',
  'SHUT_WR',
  'SHUT_RDWR',
] as const;

type Calls = typeof CALLS;
export type CallName = keyof Calls;
type SignatureOf<K extends CallName> = NonNullable<Calls[K]['signature']>;

/** The calls of one addon's export object (`internal`: of its `internal` object), typed. */
export type AddonCalls<A extends 'core' | 'engine', Internal extends boolean = false> = {
  [
    K in CallName as Calls[K] extends { addon: A | 'both' }
      ? (Calls[K] extends { internal: true } ? true : false) extends Internal
        ? K
        : never
      : never
  ]: SignatureOf<K>;
};

/** The names a wrapper reports to the tracer. */
export type TracedCall = { [K in CallName]: Calls[K]['trace'] extends 'none' ? never : K }[CallName];

/** The calls `--trace=CALLS` accepts, in {@link CALLS}'s order. */
export const LISTED_CALLS: readonly CallName[] = (Object.keys(CALLS) as CallName[]).filter(
  (name) => CALLS[name].trace === 'listed',
);

/** The names of one addon's calls (`internal`: of its `internal` object), in {@link CALLS}'s order. */
export function callsOf(addon: 'core' | 'engine', internal: boolean): CallName[] {
  return (Object.keys(CALLS) as CallName[]).filter((name) => {
    const call: Description = CALLS[name];
    return (call.addon === addon || call.addon === 'both') && (call.internal === true) === internal;
  });
}

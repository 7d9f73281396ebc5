import type { KernelNotice } from './kernel-notices';

// The recording's format: what `view --json FILE` writes and `view --from FILE`
// reads. Version it when a field changes meaning.

/** The format's name and version, checked when a recording is read back. */
export const RECORDING_FORMAT = 'bidirectional-ipc-view/2';

/** One descriptor of a process, from /proc/PID/fd and /proc/PID/fdinfo. */
export interface FdEntry {
  fd: number;
  /** The link's text: 'pipe:[1234]', '/dev/pts/0', 'anon_inode:[eventpoll]'... */
  target: string;
  /** The pipe's inode, for a pipe. */
  pipe?: number;
  end?: 'read' | 'write';
  nonblock?: boolean;
  cloexec?: boolean;
}

export interface ProcessSnapshot {
  pid: number;
  ppid: number;
  /** The command name from /proc/PID/stat ('node', or 'ls' after an exec). */
  comm: string;
  /** R running, S sleeping (blocked), T stopped, Z zombie, ... */
  state: string;
  /** The kernel function it waits in ('pipe_read', 'do_wait'), when blocked. */
  wchan: string;
  fds: FdEntry[];
  /** The signals it catches (a handler) and ignores, from /proc/PID/status SigCgt and SigIgn (hex masks). */
  caught?: string;
  ignored?: string;
  /**
   * In a recording read back: the descriptors that are neither 0-2 nor the
   * program's pipes (Node's event loop, its signal pipes...), summed up.
   */
  others?: string;
}

/** What the kernel showed at one moment, for the run's whole process tree. */
export interface Snapshot {
  time: number;
  processes: ProcessSnapshot[];
  /**
   * When each process's entries were read, from and to (ms, the events'
   * clock), in the order of `processes`: a look at the whole tree takes
   * milliseconds, and the page uses a process's table only where that
   * process's own calls say it held.
   */
  reads: [from: number, to: number][];
  /** Per pipe: bytes queued (FIONREAD) and capacity (F_GETPIPE_SZ); null where unknown. */
  pipes: { inode: number; queued: number | null; capacity: number | null }[];
}

/** A line of user code that led to a call. */
export interface SourceFrame {
  file: string;
  line: number;
  fn: string;
}

/** One line of the recording, as a process appends it. */
export interface RawEvent {
  /** A call's start or return; a watch while waitpid waits; the program's own output; a process's end. */
  kind: 'start' | 'end' | 'sample' | 'say' | 'exit' | 'signal' | 'ended' | 'interrupted';
  pid: number;
  ppid: number;
  /** ms since the epoch (performance.timeOrigin + performance.now(), one clock for all processes). */
  time: number;
  /** Per process: a call's start and end share it. */
  id?: number;
  call?: string;
  args?: unknown[];
  result?: unknown;
  error?: { code: string; message: string };
  frames?: SourceFrame[];
  text?: string;
  /** On a start and an end that stand for this many calls (or rounds of calls) of a loop (see foldRepeats). */
  repeat?: number;
  /** On the start of a folded polling loop: one round's calls, as made (see foldRepeats). */
  round?: { call: string; args?: unknown[]; result?: unknown; error?: { code: string; message: string } }[];
  /** A lesson's bookkeeping (a bounded wait, a polling loop), not what it teaches. */
  internal?: boolean;
  /** When the recorder itself was busy on this event (its looks at /proc): from, to. */
  recorder?: [from: number, to: number][];
  /** Absent on a quick call in a loop: the last one before it holds. */
  snapshot?: Snapshot;
  /** The pipe (inode) a read, write or close of a pipe descriptor acts on: added when the run is read back. */
  pipe?: number;
  /** On a signal, an end or an interrupted call: what the kernel reported to the tracer (see kernel-notices.ts). */
  notice?: KernelNotice;
}

/** A source file shown beside the run. */
export interface SourceFile {
  path: string;
  text: string;
}

/** The whole recording: what the page replays. */
export interface Recording {
  format: typeof RECORDING_FORMAT;
  /** 'demo' or 'lesson pipe-capacity'. */
  command: string;
  title: string;
  rootPid: number;
  startTime: number;
  /** Names for the ends of the pipes, in creation order ([] when the program has none). */
  pipeNames: [readEnd: string, writeEnd: string][];
  sources: SourceFile[];
  /** The Rust original, when the program has one. */
  rust: SourceFile | null;
  /** TypeScript line (as 'file:line') -> line of the Rust original. */
  rustLines: Record<string, number>;
  /** In the order they happened. */
  events: RawEvent[];
  /**
   * When the recorder was busy in any process (its looks at /proc), merged and
   * in order: the page's program time leaves these out.
   */
  recorderBusy: [from: number, to: number][];
  kernel: { release: string; node: string };
  /** How signals and ends were observed ('strace 6.1 (ptrace)'), or why they were not. */
  signals: { by: string } | { missing: string };
}

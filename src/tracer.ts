// The package's tracer: the one place the calls of its public functions are
// observed (by --trace, --diagram, the lessons and the web view's recorder).
// syscalls.ts and fork.ts report to it; with no tracer set, the cost is one
// null check per call.
import type { TracedCall } from './calls';
import { SyscallError } from './errors';
import { native } from './native';

/**
 * One call through the package's functions, as a tracer sees it: once when it starts
 * (`phase: 'start'`) and once when it returns or throws (`phase: 'end'`).
 *
 * A call that never returns (`_exit`, a successful `execvp`) has only its
 * start. `fork` has its start in the parent and an end in both processes (the
 * child's with result 0); the child inherits the numbering, so both ends carry
 * the start's `id`.
 */
export interface TraceEvent {
  phase: 'start' | 'end';
  /** Numbers the calls of one process; the start and end of a call share it. */
  id: number;
  call: string;
  args: readonly unknown[];
  /** The process that made (or, for fork's end, returned from) the call. */
  pid: number;
  /** Milliseconds since the epoch, `performance.timeOrigin + performance.now()`. */
  time: number;
  /** What the call returned (end only, when it did not throw). */
  result?: unknown;
  /** The errno error it threw (end only). */
  error?: SyscallError;
}

/** Receives every call made through the public functions, in the process that made it. */
export type Tracer = (event: TraceEvent) => void;

/** The installed tracer; read (not assigned) by the calls that report to it. */
export let tracer: Tracer | null = null;
let lastCallId = 0;

/** Installs (or, with null, removes) the tracer that receives every call of this process. */
export function setTracer(next: Tracer | null): void {
  tracer = next;
}

/** The clock of TraceEvent.time, which the tools that read events time their own records by. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Reports the start of a call; returns its id. Only called while a tracer is set. */
export function announce(observe: Tracer, call: TracedCall, args: readonly unknown[]): number {
  const id = ++lastCallId;
  observe({ phase: 'start', id, call, args, pid: native.getpid(), time: now() });
  return id;
}

/**
 * Runs `call` and reports its start and its end to the tracer (only called
 * when one is set); `name` is one that src/calls.ts marks traced.
 */
export function traced<T>(name: TracedCall, args: readonly unknown[], call: () => T): T {
  const observe = tracer!;
  const id = announce(observe, name, args);
  let result: T;
  try {
    result = call();
  } catch (error) {
    const end: TraceEvent = { phase: 'end', id, call: name, args, pid: native.getpid(), time: now() };
    if (error instanceof SyscallError) end.error = error;
    observe(end);
    throw error;
  }
  // After fork this runs in both processes, each with its own pid.
  observe({ phase: 'end', id, call: name, args, pid: native.getpid(), time: now(), result });
  return result;
}

/** Whether a tracer is installed (fork.ts traces its own call). */
export function tracing(): boolean {
  return tracer !== null;
}

// fork(2) for a Node process, and the hooks that run around it.
//
// The rules of a forked child (like nix's `fork` safety notes):
//  - Only the thread that called fork() exists in the child. V8's background
//    tasks never run there: garbage collection still works (the main thread
//    does all of it), but asynchronous WebAssembly compilation does not, and
//    is made to fail with a clear error instead of waiting for ever.
//  - worker_threads Workers started before the fork are not in the child;
//    their objects remain but no thread answers them. Start Workers after it.
//  - Work that was in flight on libuv's thread pool at the fork (an fs or dns
//    callback not yet called) completes in the parent only.
//  - The child leaves through _exit(2): process.exit(n), an uncaught exception
//    and the natural end (the event loop runs dry) give the usual statuses and
//    'exit' events, but skip Node's teardown, which needs the missing threads.
//  - Output the parent had queued for stdout/stderr but not yet written would
//    be written twice; fork() refuses to run until it has drained.
import { isMainThread } from 'node:worker_threads';
import { checkBuiltForThisNode, native } from './native';
import { invalidType } from './errors';
import { getpid, getppid, traced, tracing } from './syscalls';

/** Callbacks run around every {@link fork}, like Python's `os.register_at_fork`. */
export interface ForkHooks {
  /** In the parent, just before the fork; the last registered runs first. */
  before?: () => void;
  /** In the parent, just after the fork; in registration order. */
  afterInParent?: () => void;
  /** In the child, just after the fork; in registration order. */
  afterInChild?: () => void;
}

const hooks: ForkHooks[] = [];

/**
 * Registers callbacks to run around every {@link fork}. Returns a function
 * that unregisters them. An exception from a hook propagates out of fork().
 */
export function registerAtFork(callbacks: ForkHooks): () => void {
  if (callbacks === null || typeof callbacks !== 'object') {
    throw invalidType('callbacks', 'of type object', callbacks);
  }
  for (const key of ['before', 'afterInParent', 'afterInChild'] as const) {
    if (callbacks[key] !== undefined && typeof callbacks[key] !== 'function') {
      throw invalidType(`callbacks.${key}`, 'of type function', callbacks[key]);
    }
  }
  const entry = { ...callbacks };
  hooks.push(entry);
  return () => {
    const at = hooks.indexOf(entry);
    if (at !== -1) hooks.splice(at, 1);
  };
}

interface StreamHandle {
  setBlocking?: (blocking: boolean) => number;
}

function handleOf(stream: NodeJS.WriteStream): StreamHandle | undefined {
  return (stream as unknown as { _handle?: StreamHandle })._handle;
}

/** Called by the addon in the child when its event loop has nothing left. */
function onChildIdle(phase: 'beforeExit' | 'exit'): void {
  if (phase === 'beforeExit') {
    process.emit('beforeExit', Number(process.exitCode ?? 0));
  } else {
    process.exit();
  }
}

function rejectInChild(): never {
  const error = new Error(
    'asynchronous WebAssembly compilation needs V8 background threads, which a forked ' +
      'child does not have; use new WebAssembly.Module() (synchronous) in the child',
  ) as Error & { code: string };
  error.code = 'ERR_FORKED_CHILD_NO_THREADS';
  throw error;
}

function setUpChild(): void {
  Object.defineProperty(process, 'pid', { value: getpid(), enumerable: true, configurable: true });
  Object.defineProperty(process, 'ppid', {
    get: getppid,
    enumerable: true,
    configurable: true,
  });
  // The addon gave these pipes a file description of the child's own, so
  // blocking writes here leave the parent's non-blocking one as it was, and
  // nothing is left queued when the child calls _exit.
  for (const fd of native.childStdioReopened()) {
    handleOf(fd === 1 ? process.stdout : process.stderr)?.setBlocking?.(true);
  }
  const wasm = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
  const { instantiate, Module } = wasm as {
    instantiate: (module: unknown, imports?: unknown) => Promise<unknown>;
    Module: new (bytes: unknown) => unknown;
  };
  for (const name of ['compile', 'compileStreaming', 'instantiateStreaming']) {
    wasm[name] = async () => rejectInChild();
  }
  // Instantiating an already compiled module needs no background thread.
  wasm.instantiate = async (source: unknown, imports?: unknown) =>
    source instanceof Module ? instantiate(source, imports) : rejectInChild();
}

/**
 * Runs `childMain` as the whole life of the child: an exception ends the child
 * as an uncaught one would (the error on stderr, status 1), a normal return
 * ends it as process.exit() would. Either way control never gets back to the
 * code that called fork(), which in the parent goes on after the call.
 */
function runChildMain(childMain: () => unknown): never {
  process.exitCode = undefined; // the child's life starts here, not with the parent's status
  let result: unknown;
  try {
    result = childMain();
  } catch (error) {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  }
  if (result !== null && typeof (result as Promise<unknown>)?.then === 'function') {
    process.stderr.write(
      'bidirectional-ipc: fork(childMain): childMain returned a promise; it must be synchronous ' +
        '(the child would otherwise go back into the caller to wait for it)\n',
    );
    process.exit(1);
  }
  process.exit();
}

/**
 * Creates a child process, a copy of this one. See fork(2).
 *
 * Returns the child's pid in the parent and 0 in the child; both go on from
 * here with the same memory (copy-on-write) and the same file descriptors. The
 * child is a working Node process: timers, promises, fs, console, garbage
 * collection; `process.pid` is its own. It ends like any Node process, by
 * `process.exit(n)`, an uncaught exception (status 1) or when its event loop
 * runs dry (status 0), and never runs Node's teardown. Read the rules at the
 * top of this file. Throws ERR_FORK_PENDING_OUTPUT if stdout/stderr still
 * hold queued output, ERR_FORK_NOT_MAIN_THREAD in a Worker, and a
 * SyscallError (EAGAIN, ENOMEM) if fork(2) fails.
 *
 * With `childMain`, the child runs that function instead of returning: an
 * exception in it ends the child with status 1 (the error on stderr), a return
 * with process.exit(). A `try`/`catch` of the caller (a test runner's, say)
 * never sees the child. Only the parent returns from this call.
 */
export function fork(childMain?: () => void): number {
  if (childMain !== undefined && typeof childMain !== 'function') throw invalidType('childMain', 'of type function', childMain);
  checkBuiltForThisNode();
  if (!isMainThread) {
    // The child would have this Worker's thread and no main thread at all.
    throw Object.assign(new Error('fork() must be called from the main thread, not from a Worker'), {
      code: 'ERR_FORK_NOT_MAIN_THREAD',
    });
  }
  const pending = native.stdioPendingBytes();
  if (pending > 0) {
    const error = new Error(
      `${pending} bytes written to stdout/stderr are still queued; forking now would ` +
        "make the child write them again. Wait for the stream's 'drain' event first.",
    ) as Error & { code: string };
    error.code = 'ERR_FORK_PENDING_OUTPUT';
    throw error;
  }
  for (let i = hooks.length - 1; i >= 0; i--) hooks[i].before?.();
  const pid = tracing() ? traced('fork', [], () => native.fork(onChildIdle)) : native.fork(onChildIdle);
  if (pid === 0) {
    setUpChild();
    for (const hook of [...hooks]) hook.afterInChild?.();
    if (childMain) runChildMain(childMain);
  } else {
    for (const hook of [...hooks]) hook.afterInParent?.();
  }
  return pid;
}

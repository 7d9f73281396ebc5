// fork(2) for a Node process, the per-fork choice of inherited handles, and
// the hooks that run around it. The rules of a forked child are in fork()'s
// documentation below and, with the full inheritance table, in docs/fork.md.
import type * as Crypto from 'node:crypto';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import type * as Http from 'node:http';
import { fstatSync, writeSync, type Stats } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { isMainThread, Worker } from 'node:worker_threads';
import { type ForkEngine, forkEngine, native } from './native';
import { invalidArgument, invalidType, packageError } from './errors';
import { releaseInheritedWatchers } from './internal/child-loop';
import {
  endInheritedRandomIntRefill,
  followRandomIntRefills,
  RANDOM_INT_CACHE_ENTRIES,
  RANDOM_INT_MAX,
  unfollowedRandomIntRefill,
} from './internal/random-int-refill';
import { traced, tracing } from './tracer';

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
 * that unregisters them. An exception thrown by a hook never leaves fork():
 * it is reported on stderr, as CPython reports one from an
 * `os.register_at_fork` callback ("exception ignored in a registerAtFork
 * 'before' hook", then its stack), and the other hooks and the fork go on:
 * the parent gets the pid, the child runs `childMain` or returns 0. A fork()
 * that refuses throws before any hook runs; when fork(2) itself fails, the
 * 'afterInParent' hooks run after the 'before' ones all the same.
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

/**
 * Bytes that the stdout and stderr streams hold in JavaScript, not yet given
 * to libuv or the kernel: written while cork()ed, or queued behind a write in
 * flight. Both processes would write them. Asked without creating either
 * stream where creating it would change the descriptor (a pipe or socket is
 * made non-blocking, for every process that shares it): such a stream has a
 * live handle, found among the active ones (Node marks stdio streams
 * `_isStdio`, with `fd`). On a regular file the stream writes synchronously
 * and is created if need be. (On /dev/null, twice is as good as once.)
 */
function stdioBufferedBytes(): number {
  type Stdio = { _isStdio?: boolean; fd?: number; writableLength?: number };
  let bytes = 0;
  const active = (process as unknown as { _getActiveHandles(): Stdio[] })._getActiveHandles();
  for (const stream of active) {
    if (stream?._isStdio === true && (stream.fd === 1 || stream.fd === 2)) bytes += stream.writableLength ?? 0;
  }
  for (const [fd, name] of [
    [1, 'stdout'],
    [2, 'stderr'],
  ] as const) {
    let kind: Stats;
    try {
      kind = fstatSync(fd);
    } catch {
      continue; // closed
    }
    if (kind.isFile()) bytes += process[name].writableLength;
  }
  return bytes;
}

/** Runs one hook; what it throws is reported on stderr, never raised (see {@link registerAtFork}). */
function runHook(entry: ForkHooks, kind: keyof ForkHooks): void {
  if (entry[kind] === undefined) return;
  try {
    entry[kind]();
  } catch (error) {
    const shown = (error as Error | null)?.stack ?? String(error);
    try {
      // Written at once: stderr's stream could queue it for the child to write again.
      writeSync(2, `bidirectional-ipc: exception ignored in a registerAtFork '${kind}' hook:\n${shown}\n`);
    } catch {
      // stderr closed or full: the report is lost, the fork is not
    }
  }
}

interface StreamHandle {
  setBlocking?: (blocking: boolean) => number;
}

function handleOf(stream: NodeJS.WriteStream): StreamHandle | undefined {
  return (stream as unknown as { _handle?: StreamHandle })._handle;
}

/** The error of everything a forked child cannot do for want of threads. */
function noThreads(message: string): Error & { code: string } {
  return packageError('ERR_FORKED_CHILD_NO_THREADS', message);
}

/** The Workers started in this process since the package was loaded, weakly: a forked child unrefs its copies. */
const started = new Set<WeakRef<Worker>>();
let startedPurgeAt = 64;

/**
 * Whether Node may still hold calls queued in this process that join threads
 * of the parent's Workers (pthread_join). When a Worker's thread ends, Node
 * queues that call on the main thread's loop (a thread-safe native immediate,
 * node_worker.cc), and a child forked before it ran has it queued too. In the
 * child, glibc has put the dead thread's stack in its cache and gives it to
 * the next thread that asks for the same size, a Worker's: the inherited call
 * would join the child's own Worker instead, and that Worker's own join would
 * abort Node (Worker::JoinThread's check). True in a child forked while
 * Workers had not emitted 'exit', until its loop's first turn has run them.
 */
let parentJoinsQueued = false;

/** Thread starts of Workers created while {@link parentJoinsQueued}, run once it is not. */
const deferredThreadStarts: (() => void)[] = [];

/**
 * Whether a Worker of this process's parent (or of a forebear's, for a child
 * of a child) was still starting at the fork: not yet 'online'. Its thread was
 * then creating an isolate and an environment, under process-wide locks that
 * starting a Worker takes too (Node's options, its builtin modules' code,
 * V8's wasm engine) and that no thread in the child will ever release; a
 * Worker started here would wait for them for ever, so new Worker() throws.
 */
let parentWorkerStarting = false;

/**
 * Sees each new Worker before its thread starts: Node's Worker constructor
 * assigns `this.performance` and then calls `this[kHandle].startThread()`
 * (lib/internal/worker.js, Node 20 to 26), so a setter on the prototype runs
 * first. Installed with the fork engine, so it is in every forked child. In a
 * child whose parent had a Worker starting, it refuses; in a child whose parent's
 * joins may still be queued, it defers that start to the loop's first turn:
 * the queued joins run first (Environment::CheckImmediate runs native
 * immediates before JavaScript ones), on stacks no thread has taken yet.
 */
function watchNewWorkers(): void {
  Object.defineProperty(Worker.prototype, 'performance', {
    configurable: true,
    get: () => undefined,
    set(this: Worker, value: unknown) {
      if (parentWorkerStarting) {
        throw noThreads(
          "new Worker() in a forked child whose parent had a Worker starting (not yet 'online') at the fork: " +
            'that thread held locks that starting a Worker needs, and no thread here releases them. ' +
            "Fork once the parent's Workers are online.",
        );
      }
      if (parentJoinsQueued) deferThreadStart(this);
      Object.defineProperty(this, 'performance', { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

/**
 * Records each new Worker, so that a forked child can tell the parent's
 * Workers from its own: Node publishes every Worker its constructor has
 * started on the 'worker_threads' diagnostics channel (Node 20 to 26). A
 * subscription is all the package leaves in a program that never forks; the
 * setter above, which must run before a thread starts, comes with the engine.
 */
function recordWorker(message: unknown): void {
  if (started.size >= startedPurgeAt) {
    for (const ref of started) if ((ref.deref()?.threadId ?? -1) === -1) started.delete(ref); // ended
    startedPurgeAt = Math.max(64, started.size * 2);
  }
  started.add(new WeakRef((message as { worker: Worker }).worker));
}
diagnosticsChannel.subscribe('worker_threads', recordWorker);

/** A Worker's field that lib/internal/worker.js (Node 20 to 26) keeps under a symbol of this name. */
function internalField(worker: Worker, name: 'kHandle' | 'kIsOnline'): unknown {
  const key = Object.getOwnPropertySymbols(worker).find((symbol) => symbol.description === name);
  return key === undefined ? undefined : (worker as unknown as Record<symbol, unknown>)[key];
}

/**
 * Makes the constructor's `startThread()` queue the start for
 * {@link startDeferredThreads}; a `terminate()` before then (`stopThread()`)
 * stops the thread right after it starts, as it would have without the wait.
 */
function deferThreadStart(worker: Worker): void {
  type Handle = { startThread?: () => void; stopThread?: () => void };
  const handle = internalField(worker, 'kHandle') as Handle | undefined;
  if (typeof handle?.startThread !== 'function' || typeof handle.stopThread !== 'function') {
    throw noThreads(
      "new Worker() in a forked child whose parent had Workers running: this Node's Worker has no " +
        "kHandle.startThread to defer until the parent's Worker threads are joined. Start it after a setImmediate().",
    );
  }
  let stopRequested = false;
  const own = (name: keyof Handle, value: () => void): void => {
    Object.defineProperty(handle, name, { value, configurable: true, writable: true });
  };
  own('stopThread', () => {
    stopRequested = true;
  });
  own('startThread', () => {
    deferredThreadStarts.push(() => {
      delete handle.startThread; // the prototype's again
      delete handle.stopThread;
      handle.startThread!();
      if (stopRequested) handle.stopThread!();
    });
  });
}

function startDeferredThreads(): void {
  parentJoinsQueued = false;
  for (const start of deferredThreadStarts.splice(0)) start();
}

/** ERR_FORK_PENDING_OUTPUT while stdout, stderr or a kept socket holds bytes the child would write again; else null. */
function pendingOutputError(engine: ForkEngine, keep: number[]): Error | null {
  const corked = stdioBufferedBytes();
  if (corked > 0) {
    return packageError(
      'ERR_FORK_PENDING_OUTPUT',
      `${corked} bytes written to stdout/stderr are still held by the stream (cork()ed, or behind a write ` +
        "in progress); forking now would make the child write them again. uncork() it and wait for its 'drain' event first.",
    );
  }
  const pending = engine.stdioPendingBytes(keep);
  if (pending > 0) {
    return packageError(
      'ERR_FORK_PENDING_OUTPUT',
      `${pending} bytes written to stdout/stderr${keep.length ? ' or a kept socket' : ''} are still ` +
        "queued; forking now would make the child write them again. Wait for the stream's 'drain' event first.",
    );
  }
  return null;
}

let engine: ForkEngine | undefined;

/**
 * The fork engine, loaded (and checked) by the first fork(). Loading it
 * prepares the parent for forks, so that a program that never forks has none
 * of this: Worker.prototype gets the setter of {@link watchNewWorkers}, the
 * engine's Init starts the CPU-clock measurement (native/fork.cc), crypto's
 * refills of randomInt()'s cache are followed where crypto is loaded
 * (followRandomIntRefills), and one Error is made. V8 looks a trace category up under a process-wide lock the
 * first time each of its trace sites runs
 * (TracingController::GetCategoryGroupEnabled), and a parent's Worker thread
 * starting or ending at the fork can hold that lock, for ever in the child: a
 * child's first Error waited on it. Making one here runs those sites in the
 * parent, so no child is the first.
 */
function loadEngine(): ForkEngine {
  if (engine !== undefined) return engine;
  const loaded = forkEngine();
  watchNewWorkers();
  followRandomIntRefills();
  void new Error('warms the trace sites of Error construction').stack;
  engine = loaded;
  return engine;
}

/**
 * Loads and checks the fork engine now, which the first {@link fork} does
 * otherwise. The engine takes over how libuv calls finished thread-pool work
 * back (fs, dns, crypto, zlib) only from its load on: a fork() inside a batch
 * of those callbacks that libuv had begun before gives a child that runs the
 * rest of that batch. A program whose first fork() may come from such a
 * callback calls this at start-up. Throws what the first fork() would
 * (ERR_FORK_UNSUPPORTED_NODE, ERR_ADDON_NOT_BUILT...).
 */
export function prepareFork(): void {
  loadEngine();
}

/** Math.random as Node made it: a program may replace the property with its own. */
const builtinMathRandom = Math.random;

/**
 * Before each fork: refuses to fork on a V8 where the addon cannot find
 * Math.random()'s state (the main context's, checked at the first fork; that
 * of every vm context, checked at the first fork that has one), since the
 * child would draw the parent's numbers.
 */
function checkMathRandomLayout(engine: ForkEngine): void {
  const why = engine.mathRandomLayoutCheck(builtinMathRandom);
  if (why !== null) {
    throw packageError(
      'ERR_FORK_UNSUPPORTED_NODE',
      `fork() cannot give a child its own Math.random() on Node ${process.version} (V8 ` +
        `${process.versions.v8}): ${why}. Use child_process to start new processes on this Node.`,
    );
  }
}

/**
 * Node's crypto module keeps random bytes drawn in the parent in caches of its
 * own (lib/internal/crypto/random.js): randomUUID() a batch of 128 UUIDs,
 * refilled when its index comes round to 0, randomInt() 1,024 six-byte values,
 * refilled when the last is used. OpenSSL reseeds itself in a forked child,
 * but those caches are copies. 128 randomUUID() calls pass index 0 exactly
 * once, and 1,025 randomInt() calls over the full 48-bit range (6 bytes each)
 * empty any cache and refill it: what either hands out after that was drawn
 * in the child. Only done where the module was loaded (the caches exist).
 */
const UUID_BATCH = 128;

/**
 * Whether Node is emitting 'beforeExit' now. A child forked in a listener
 * goes back into Node's loop, which then finds the child's own watch on it
 * (child.cc) and turns once more, emitting 'beforeExit' again where Node
 * would go on to 'exit' if the listener scheduled nothing. The first listener
 * sets this, and the emit's own tick queue, run right after the listeners,
 * clears it.
 */
let emittingBeforeExit = false;
process.prependListener('beforeExit', () => {
  emittingBeforeExit = true;
  process.nextTick(() => {
    emittingBeforeExit = false;
  });
});

/**
 * In a child forked while 'beforeExit' was being emitted: if the loop has
 * run nothing when 'beforeExit' comes again, the child exits as Node would
 * have, before any listener runs. An unref'd immediate tells whether the
 * loop turned (it runs at the first turn that does anything), without
 * keeping the loop alive itself.
 */
function exitInsteadOfSecondBeforeExit(): void {
  let loopTurned = false;
  setImmediate(() => {
    loopTurned = true;
  }).unref();
  process.prependOnceListener('beforeExit', () => {
    if (!loopTurned) process.exit();
  });
}

/** The agents whose pooled sockets this child has dropped; undefined until a child first needs it. */
let agentsPurged: WeakSet<object> | undefined;

/**
 * In a child: an http(s) Agent's free sockets are the parent's connections,
 * detached here (their descriptors are inert sockets), and the agent would
 * hand them out to the child's requests, which would fail with EPIPE. Each
 * agent, at the child's first request through it, destroys those sockets in
 * the child (the parent's connections are untouched) and takes them out of
 * its free lists at once; their 'close', a turn later, does the rest of the
 * agent's bookkeeping (lib/_http_agent.js onClose, removeSocket).
 * Every free socket is the parent's then: only a finished request of the
 * child's could have added one since the fork.
 */
function dropInheritedPooledSockets(Agent: typeof Http.Agent): void {
  agentsPurged = new WeakSet();
  type Pools = { freeSockets: Record<string, { destroy(): void }[]> };
  const prototype = Agent.prototype as unknown as Record<string, unknown>;
  if ((prototype.addRequest as { dropsParentSockets?: true }).dropsParentSockets) return; // a child's child
  const addRequest = prototype.addRequest as (...args: unknown[]) => unknown;
  const wrapped = function (this: Pools, ...args: unknown[]): unknown {
    if (agentsPurged !== undefined && !agentsPurged.has(this)) {
      agentsPurged.add(this);
      for (const [name, sockets] of Object.entries(this.freeSockets ?? {})) {
        for (const socket of sockets) socket.destroy();
        delete this.freeSockets[name];
      }
    }
    return addRequest.apply(this, args);
  };
  prototype.addRequest = Object.assign(wrapped, { dropsParentSockets: true as const });
}

/** What the package's own modules do after each fork, in both processes: see {@link afterFork}. */
const forkSteps: ((inChild: boolean) => void)[] = [];

/**
 * Adds a step that every fork() runs after fork(2) in both processes, with
 * `inChild` saying which (the package's modules use it to drop what the
 * parent owns; programs use {@link registerAtFork}). Running it in the parent
 * too keeps its bytecode there for the child, as afterFork explains.
 */
export function onEachFork(step: (inChild: boolean) => void): void {
  forkSteps.push(step);
}

/**
 * What fork() does once fork(2) has returned, in both processes; `pid` is
 * fork's result. The child's part is written out here, calling only the addon,
 * builtins and the steps: a function that only a child ever runs has no
 * bytecode, and compiling it there faults V8's parser in from node's text page
 * by page (fork(2) copies no page-table entries of file mappings), about 100
 * minor faults per child. The parent runs this same function at every fork,
 * and the parentheses make V8 compile it when the module loads, for the first
 * child too.
 */
// prettier-ignore
const afterFork = (function afterFork(pid: number, childMain: (() => unknown) | undefined): void {
  const inChild = pid === 0;
  for (const step of forkSteps) step(inChild);
  releaseInheritedWatchers(inChild);
  if (!inChild) {
    for (const hook of [...hooks]) runHook(hook, 'afterInParent');
    return;
  }
  // Randomness first: no code of the program runs in the child before it is its own.
  engine!.reseedMathRandom();
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  if (loaded.includes('NativeModule internal/crypto/random')) {
    endInheritedRandomIntRefill();
    const { randomUUID, randomInt } = require('node:crypto') as typeof Crypto;
    for (let i = 0; i < UUID_BATCH; i++) randomUUID();
    for (let i = 0; i <= RANDOM_INT_CACHE_ENTRIES; i++) randomInt(0, RANDOM_INT_MAX);
  }
  if (loaded.includes('NativeModule _http_agent')) {
    dropInheritedPooledSockets((require('node:http') as typeof Http).Agent);
  }
  Object.defineProperty(process, 'pid', { value: native.getpid(), enumerable: true, configurable: true });
  Object.defineProperty(process, 'ppid', { get: native.getppid, enumerable: true, configurable: true });
  // process.exit() ends with process.reallyExit(), which runs Node's AtExit
  // hooks (the inspector's among them: they signal threads that do not exist
  // here) before the exit handler that child.cc routes to _exit(2).
  (process as unknown as { reallyExit: (code: number) => void }).reallyExit = (code) => native._exit(Number(code) | 0);
  // The addon gave these pipes a file description of the child's own, so
  // blocking writes here leave the parent's non-blocking one as it was, and
  // nothing is left queued when the child calls _exit. It made the streams
  // the parent had created blocking; one the child creates is made blocking
  // when first used (creating it now would cost every child ~2 ms).
  for (const fd of engine!.childStdioReopened()) {
    const name = fd === 1 ? 'stdout' : 'stderr';
    const lazy = Object.getOwnPropertyDescriptor(process, name);
    if (lazy?.get === undefined || !lazy.configurable) continue;
    const create = lazy.get;
    let blocked = false;
    Object.defineProperty(process, name, {
      ...lazy,
      get() {
        const stream = create.call(process) as NodeJS.WriteStream;
        if (!blocked) {
          blocked = true;
          handleOf(stream)?.setBlocking?.(true);
        }
        return stream;
      },
    });
  }
  // The parent's Workers: their threads are not here, and their C++ side
  // belongs to the parent, so their methods fail at once, and their events
  // (a message queued at the fork, the 'exit' of an inherited join) are the
  // parent's and are not emitted here. Each one that kept
  // the parent alive also holds a count in the environment's keep-alive
  // (Environment::add_refs), taken again whenever another Worker's end is
  // processed: under a parent's Worker churn, 7 to 12 children in 100 never
  // ended until they were unref'd here.
  for (const ref of started) {
    const worker = ref.deref();
    if (worker === undefined || worker.threadId === -1) continue;
    parentJoinsQueued = true;
    if (internalField(worker, 'kIsOnline') !== true) parentWorkerStarting = true;
    worker.unref();
    Object.defineProperty(worker, 'emit', { value: () => false, writable: true, configurable: true });
    for (const method of ['postMessage', 'terminate', 'getHeapSnapshot']) {
      const refuse = (): never => {
        throw noThreads(
          `Worker.${method}(): this Worker was started by the parent before fork(); its thread ` +
            'does not exist in the forked child.',
        );
      };
      const value = method === 'postMessage' ? refuse : async () => refuse();
      Object.defineProperty(worker, method, { value, writable: true, configurable: true });
    }
  }
  started.clear();
  if (emittingBeforeExit) exitInsteadOfSecondBeforeExit();
  // A Worker that a parent had deferred is the parent's: its thread never starts here.
  deferredThreadStarts.length = 0;
  if (parentJoinsQueued) setImmediate(startDeferredThreads);
  for (const hook of [...hooks]) runHook(hook, 'afterInChild');
  if (childMain === undefined) return;
  // childMain is the whole life of the child: an exception ends it as an
  // uncaught one would (the error on stderr, status 1), a return as
  // process.exit() would. Control never gets back to fork()'s caller.
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
});

/** Something whose descriptor stays live in the child: see {@link ForkOptions.keep}. */
export type ForkKeepable = Server | Socket | number;

/** How {@link fork} treats what the child inherits. */
export interface ForkOptions {
  /**
   * Inherited handles that stay live in the child: a listening `net.Server`
   * (a prefork server's workers all accept on it), a connected `net.Socket`,
   * or a raw descriptor number whose libuv handle should be kept. Every other
   * inherited socket, pipe, server, UDP socket and poll handle is detached in
   * the child (never read, accepted on or written there; its descriptor
   * closed). Default: `[]`, a clean child.
   */
  keep?: readonly ForkKeepable[];
}

function keptFds(options: ForkOptions | undefined): number[] {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object') throw invalidType('options', 'of type object', options);
  const { keep = [] } = options;
  if (!Array.isArray(keep)) throw invalidType('options.keep', 'an instance of Array', keep);
  return keep.map((entry: unknown, i) => {
    const fd = typeof entry === 'number' ? entry : (entry as { _handle?: { fd?: unknown } | null } | null)?._handle?.fd;
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
      throw invalidArgument(
        'ERR_INVALID_ARG_VALUE',
        `The "options.keep[${i}]" argument must be a listening net.Server, a connected ` +
          `net.Socket or a descriptor number; it has no open descriptor`,
      );
    }
    if (typeof entry === 'number') {
      try {
        fstatSync(fd);
      } catch {
        throw invalidArgument(
          'ERR_INVALID_ARG_VALUE',
          `The "options.keep[${i}]" argument, descriptor ${fd}, is not open in this process`,
        );
      }
    }
    return fd;
  });
}

/**
 * Creates a child process, a copy of this one. See fork(2).
 *
 * Returns the child's pid in the parent and 0 in the child; both go on from
 * here with the same memory (copy-on-write) and the same file descriptors. The
 * child is a working Node process: timers, promises, fs, console, garbage
 * collection; `process.pid` is its own. With `childMain`, the child runs that
 * function instead of returning: an exception in it ends the child with
 * status 1 (the error on stderr), a return ends it as `process.exit()` would.
 * Only the parent returns from that form.
 *
 * The rules of a forked child (the full table is in docs/fork.md):
 *  - Only the calling thread is copied into the child. V8's background work
 *    (GC, compilation, async WebAssembly) runs there on threads of the
 *    child's own, started when first needed.
 *  - Requests in flight at the fork (thread-pool fs, dns, crypto, zlib) call
 *    back in the parent only; the child's own requests always complete.
 *  - Inherited sockets, pipes, servers and the IPC channel to this process's
 *    parent are detached in the child unless named in `options.keep`; stdin
 *    is no longer read there; stdout and stderr stay.
 *  - Processes the parent spawned are inert in the child: not waited for,
 *    not reaped, `kill()` reaches nothing. Inherited Workers throw or reject
 *    with `ERR_FORKED_CHILD_NO_THREADS` and emit no events. The child can
 *    start Workers of its own, unless one of this process's was still
 *    starting (not yet 'online') at the fork.
 *  - Timers, immediates, promises and signal listeners are inherited: they
 *    are the program's own state, and run in the child.
 *  - A signal sent to the child any time after its pid is known is handled
 *    by the child.
 *  - The child ends like Node (`process.exit(n)`, an uncaught exception,
 *    the loop running dry, 'beforeExit' and 'exit' events) but through
 *    _exit(2), without Node's teardown.
 *  - The child's randomness is its own: `Math.random()`, `crypto.randomUUID()`,
 *    `randomInt()` and `randomBytes()` differ from the parent's and every
 *    sibling's.
 *  - Hooks from {@link registerAtFork} that throw are reported on stderr and
 *    ignored; they never change what fork() returns or where the child runs.
 *
 * # Safety
 *
 * fork(2) copies one thread of a multi-threaded process. What the child of a
 * busy program can rely on: the rules above, in each state a row of
 * docs/fork.md's table names (each row backed by a test): timers, promises
 * and listeners pending (fork() inside a 'beforeExit' listener too);
 * sockets, servers, keep-alive agents, spawned processes and steadily
 * running Workers alive; output on a pipe, a file or a terminal. What it
 * cannot rely on:
 *  - Locks held by another thread at the instant of fork(2) stay held for
 *    ever in the child. The package parks V8's platform threads and takes
 *    libuv's queue lock across the fork, but Node offers no way to stop a
 *    Worker thread at a safe point: under constant Worker churn (Workers
 *    starting and ending every few milliseconds) about 1 child in 900 never
 *    ends (7 of 6,400 measured, docs/fork.md). Forking while Workers run
 *    steadily showed no hang (200 of 200 per Node line).
 *  - Work in flight on another thread (thread-pool fs, dns, crypto, zlib; a
 *    Worker's message) completes in the parent only.
 *  - On a `node` without a symbol table (a stripped build), `vm` contexts
 *    made in sibling children draw the same `Math.random()` sequence (those
 *    alive at the fork are reseeded all the same).
 *  - A V8 whose `Math.random()` state the addon has not been checked against
 *    makes the first fork() throw `ERR_FORK_UNSUPPORTED_NODE`, rather than
 *    give children the parent's numbers.
 * A busy program (Workers starting and stopping, requests in flight in the
 * thread pool) should fork from the fork server, `startForkServer()`: its
 * children come from a process that holds none of that state.
 *
 * @throws `ERR_FORK_PENDING_OUTPUT` while stdout, stderr or a kept socket
 *   holds queued writes, or stdout/stderr holds bytes written while
 *   `cork()`ed (the child would write them again), `ERR_FORK_EXITING`
 *   inside an 'exit' listener, `ERR_FORK_NOT_MAIN_THREAD` in a Worker,
 *   `ERR_FORK_IO_URING` where libuv reads files on an io_uring (Node 20 with
 *   UV_USE_IO_URING=1), `ERR_FORK_RANDOM_INT_PENDING` while async
 *   `crypto.randomInt()` calls wait for a refill of its cache that crypto
 *   began before fork() could follow it (see docs/fork.md),
 *   `ERR_FORK_UNSUPPORTED_NODE` (see Safety): all before
 *   any registerAtFork hook runs. After the hooks, with each 'before' undone
 *   by its 'afterInParent': `ERR_FORK_PENDING_OUTPUT` if a 'before' hook left
 *   output queued, a `SyscallError` (EAGAIN, ENOMEM) if fork(2) fails (see
 *   {@link registerAtFork}).
 *
 * @example
 * ```ts
 * import * as net from 'node:net';
 * import { fork, waitpid } from 'bidirectional-ipc';
 *
 * const server = net.createServer((c) => c.end(`served by ${process.pid}\n`));
 * server.listen(8080, () => {
 *   // Each worker accepts on the parent's listening socket; nothing else is shared.
 *   for (let i = 0; i < 4; i++) fork({ keep: [server] });
 * });
 * ```
 */
export function fork(childMain?: () => void, options?: ForkOptions): number;
export function fork(options: ForkOptions): number;
export function fork(first?: (() => void) | ForkOptions, second?: ForkOptions): number {
  const firstIsOptions = first !== undefined && first !== null && typeof first === 'object';
  const childMain = firstIsOptions ? undefined : (first as (() => void) | undefined);
  const options = firstIsOptions ? (first as ForkOptions) : second;
  if (childMain !== undefined && typeof childMain !== 'function')
    throw invalidType('childMain', 'of type function', childMain);
  // fork(options, childMain), reversed: childMain would be ignored and the child would return.
  if (firstIsOptions && second !== undefined) throw invalidType('childMain', 'of type function', first);
  const keep = keptFds(options);
  if (!isMainThread) {
    // The child would have this Worker's thread and no main thread at all.
    throw packageError('ERR_FORK_NOT_MAIN_THREAD', 'fork() must be called from the main thread, not from a Worker');
  }
  if ((process as unknown as { _exiting?: boolean })._exiting) {
    // The child would go on into Node's teardown, which needs the threads it lacks.
    throw packageError(
      'ERR_FORK_EXITING',
      "fork() cannot be called once the process is exiting (in an 'exit' listener)",
    );
  }
  const engine = loadEngine();
  checkMathRandomLayout(engine);
  followRandomIntRefills();
  if (unfollowedRandomIntRefill()) {
    throw packageError(
      'ERR_FORK_RANDOM_INT_PENDING',
      'fork() refused: async crypto.randomInt() calls wait for a refill of its cache that crypto began ' +
        'before fork() could follow it (the first fork() or prepareFork() after crypto is loaded follows ' +
        'the next ones); a child forked now would never see it end, and its own async randomInt() calls ' +
        'would stop after 1,023 values. Fork once those callbacks have run (from a later callback), use ' +
        'the synchronous randomInt(min, max), or fork from startForkServer().',
    );
  }
  const unsent = pendingOutputError(engine, keep);
  if (unsent !== null) throw unsent;
  // The last refusals (io_uring, no /proc): every one comes before a hook runs.
  engine.checkForkable();
  for (const hook of [...hooks].reverse()) runHook(hook, 'before');
  // A 'before' hook that wrote output left it to be written twice: undone as after a failed fork(2).
  const queuedByHook = pendingOutputError(engine, keep);
  if (queuedByHook !== null) {
    for (const hook of [...hooks]) runHook(hook, 'afterInParent');
    throw queuedByHook;
  }
  let pid: number;
  try {
    pid = tracing() ? traced('fork', [], () => engine.fork(keep)) : engine.fork(keep);
  } catch (error) {
    // fork(2) failed (EAGAIN, ENOMEM): what a 'before' hook did is undone, as after a fork that worked.
    for (const hook of [...hooks]) runHook(hook, 'afterInParent');
    throw error;
  }
  afterFork(pid, childMain);
  return pid;
}

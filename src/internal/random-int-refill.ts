// crypto.randomInt()'s refill of its cache, followed so that a forked child
// can end the one it inherits.
//
// Node answers async randomInt() calls from a cache of 1,024 values
// (lib/internal/crypto/random.js, Node 20 to 26). When it is empty, the call
// is queued in the module and asyncRefillRandomIntCache() sets a flag and
// starts one randomFill() of the cache: a RandomBytesJob whose `ondone` (a
// bound onJobDone) clears the flag, rewinds the cache and calls randomInt()
// again for each queued call. A child forked while that job runs never gets
// its callback (work in flight on the pool calls back in the parent only),
// so the flag stays set there and the child's own async calls, once they
// have used up the cache, would queue for ever. What is mirrored here, and
// checked by test/fork-random.test.ts on each of those Node lines: the job's
// `run` is a writable method of its prototype, `ondone` is set before
// `run()`, the refill calls randomFill() from a function of that name, and
// randomInt() answers each call with process.nextTick().
//
// A refill crypto began before the package followed them cannot be ended in
// a child (its job is out of reach); the package can only tell that one runs
// (probeForUnfollowedRefill), and fork() refuses while it does.
import { createHook } from 'node:async_hooks';
import type * as Crypto from 'node:crypto';

type Ondone = (this: RandomBytesJob, ...results: unknown[]) => unknown;
interface RandomBytesJob {
  ondone?: Ondone;
  run(...args: unknown[]): unknown;
}

/** The refill running now, with the `ondone` crypto gave its job; undefined when none runs. */
let refill: { job: RandomBytesJob; ondone: Ondone } | undefined;

/** Whether refills are followed (from the first fork, or prepareFork(), after crypto was loaded). */
let following = false;

/** Set while a refill crypto began before it was followed may be running. */
let unfollowedRefill = false;

/** randomInt()'s 1,024 cached values, and the largest range it takes (6 bytes a value). */
export const RANDOM_INT_CACHE_ENTRIES = 1024;
export const RANDOM_INT_MAX = 2 ** 48 - 1;

/** RandomBytesJob's prototype, taken from the job of a randomFill() that is never run. */
function randomBytesJobPrototype({ randomFill }: typeof Crypto): RandomBytesJob | undefined {
  let prototype: RandomBytesJob | undefined;
  let probe: object | undefined;
  const hook = createHook({
    init(_id, type, _trigger, resource: object) {
      if (type !== 'RANDOMBYTESREQUEST' || probe !== undefined) return;
      probe = resource;
      const found = Object.getPrototypeOf(resource) as RandomBytesJob;
      const run = found.run;
      // An exception in an async hook ends the process: a `run` that cannot be replaced is left alone.
      if (typeof run !== 'function' || !Object.getOwnPropertyDescriptor(found, 'run')?.writable) return;
      prototype = found;
      // The probe's own run() does nothing: it would start the thread pool.
      found.run = function probeRun(this: RandomBytesJob, ...args: unknown[]): unknown {
        found.run = run;
        return this === probe ? undefined : run.apply(this, args);
      };
    },
  });
  hook.enable();
  try {
    randomFill(new Uint8Array(1), () => {});
  } finally {
    hook.disable();
  }
  return prototype;
}

/**
 * Whether the caller of the job's run() is crypto's refill of randomInt()'s
 * cache. False where the program froze Error (the stack cannot be asked).
 */
function calledByRandomIntRefill(run: (...args: unknown[]) => unknown): boolean {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  try {
    Error.stackTraceLimit = 2; // randomFill, then its caller
    Error.prepareStackTrace = (_error, sites) => sites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, run);
    return holder.stack?.[1]?.getFunctionName() === 'asyncRefillRandomIntCache';
  } catch {
    return false;
  } finally {
    if (Error.stackTraceLimit !== limit) Error.stackTraceLimit = limit;
    if (Error.prepareStackTrace !== prepare) Error.prepareStackTrace = prepare;
  }
}

/**
 * Follows each refill of randomInt()'s cache from now on, in this process and
 * its forked children: the job is remembered from its run() until its
 * `ondone` is called. Called when the fork engine loads and at each fork();
 * acts once, the first time crypto's random functions are loaded (a program
 * that never loads them pays nothing, in the parent or in its children).
 * Does nothing on a Node whose randomInt() is not made as described above.
 */
export function followRandomIntRefills(): void {
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  if (following || !loaded.includes('NativeModule internal/crypto/random')) return;
  following = true;
  const crypto = require('node:crypto') as typeof Crypto;
  const source = crypto.randomInt.toString();
  if (!source.includes('asyncRefillRandomIntCache()') || !source.includes('process.nextTick(callback')) return;
  const prototype = randomBytesJobPrototype(crypto);
  if (prototype === undefined) return;
  const run = prototype.run;
  prototype.run = function followedRun(this: RandomBytesJob, ...args: unknown[]): unknown {
    const ondone = this.ondone;
    if (ondone !== undefined && calledByRandomIntRefill(followedRun)) {
      // A refill starts only once the one before has ended.
      unfollowedRefill = false;
      refill = { job: this, ondone };
      // Forgotten before crypto's callback runs: that may start the next refill.
      this.ondone = function (this: RandomBytesJob, ...results: unknown[]) {
        if (refill?.job === this) refill = undefined;
        return ondone.apply(this, results);
      };
    }
    return run.apply(this, args);
  };
  probeForUnfollowedRefill(crypto.randomInt);
}

/**
 * Finds out whether a refill crypto began before it was followed still runs:
 * async calls take the cache's values (their answers are dropped) until one
 * is queued for a refill. If none was running, that call starts one, which
 * is followed; if one was, the call waits for it, and its callback, run when
 * that refill ends in this process, says so.
 */
function probeForUnfollowedRefill(randomInt: typeof Crypto.randomInt): void {
  const nextTick = process.nextTick;
  let answered = true;
  process.nextTick = () => {
    answered = true;
  };
  try {
    for (let i = 0; i <= RANDOM_INT_CACHE_ENTRIES && answered; i++) {
      answered = false;
      randomInt(0, RANDOM_INT_MAX, () => {
        unfollowedRefill = false;
      });
    }
  } finally {
    process.nextTick = nextTick;
  }
  if (!answered && refill === undefined) unfollowedRefill = true;
}

/**
 * Whether a refill crypto began before it was followed may still run: a
 * child forked now would keep crypto's flag set for ever.
 */
export function unfollowedRandomIntRefill(): boolean {
  return unfollowedRefill;
}

/** Thrown by the stand-in for process.nextTick while the child ends the parent's refill. */
const parentCallDropped = Symbol('a call queued in the parent, dropped');

/**
 * In a forked child: ends the refill the parent was running at the fork, as
 * its completion would, without answering the calls the parent had queued
 * for it (those are the parent's, answered there). crypto's callback clears
 * its flag, rewinds the cache, takes every queued call off its queue and
 * calls randomInt() again for each; the first of those answers with
 * process.nextTick(), which throws here, so that it and the rest never run.
 * The value the first took from the cache is the parent's, and so is the
 * rest of the cache: the child's draw-through that follows replaces it all.
 */
export function endInheritedRandomIntRefill(): void {
  if (refill === undefined) return;
  const { job, ondone } = refill;
  refill = undefined;
  const nextTick = process.nextTick;
  process.nextTick = () => {
    throw parentCallDropped;
  };
  try {
    ondone.call(job);
  } catch (error) {
    if (error !== parentCallDropped) throw error;
  } finally {
    process.nextTick = nextTick;
  }
}

// The watchdog of the commands that run the demo or a lesson: in front of a
// class a command must never hang in silence. Past its bound it says which
// processes it started are still there and what each is blocked in
// (/proc/PID/stat and /proc/PID/wchan), kills them (SIGKILL), and then this
// process: the command ends by SIGKILL (status 137 in a shell), never with 0.
//
// It is a Worker thread, not a timer: the demo and the lessons block the main
// thread in read(), write() and waitpid(), where no timer of the main thread
// can run. Not a helper process either: `compare` runs the demo under
// `strace -f` and takes its first fork for the tutorial's. The command starts
// only once the Worker is online: a child forked while a Worker is still
// starting could inherit a lock that thread holds (docs/fork.md).
import * as fs from 'node:fs';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { childrenOf, readStat, wchan } from '../internal/proc';

/** How long a command may run: far more than any lesson needs, even traced on a busy machine. */
export const WATCHDOG_DEFAULT_MS = 120_000;

/** What the watchdog thread is given. */
interface Watch {
  watchdog: true;
  pid: number;
  command: string;
  ms: number;
  /** Set to 1 when the watchdog fires (shared with the main thread). */
  fired: Int32Array;
}

/** The bound in ms: BIDIRECTIONAL_IPC_WATCHDOG_MS if it is a positive number, else the default. */
export function watchdogBound(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.BIDIRECTIONAL_IPC_WATCHDOG_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : WATCHDOG_DEFAULT_MS;
}

/** `pid` and every process below it, parents before their children. */
function tree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]));
  return all;
}

/** One line per process: pid, parent, state and where it waits. */
function describe(pids: number[]): string[] {
  return pids.flatMap((pid) => {
    try {
      const { comm, state, ppid } = readStat(pid);
      const where = wchan(pid) || (state === 'R' ? 'running' : '?');
      return [`  pid ${pid} (${comm}, parent ${ppid}): state ${state}, in ${where}`];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** The watchdog thread: sleeps out the bound, then reports and ends the command. */
function watch({ pid, command, ms, fired }: Watch): void {
  setTimeout(() => {
    const pids = tree(pid);
    const lines = [
      `watchdog: \`${command}\` has not ended after ${ms / 1000} s; what is still there, from /proc:`,
      ...describe(pids),
      `watchdog: killing ${pids.length === 1 ? 'it' : `these ${pids.length} processes`} (SIGKILL); exit status 137.`,
    ];
    fs.writeSync(2, `${lines.join('\n')}\n`);
    Atomics.store(fired, 0, 1);
    for (const p of pids.slice(1).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.kill(pid, 'SIGKILL');
  }, ms);
}

if (!isMainThread && (workerData as Watch | null)?.watchdog === true) watch(workerData as Watch);

/**
 * Starts the watchdog for `command` (as the user typed it) and resolves once
 * it is running; the command should start then. It never keeps the process
 * alive, and a forked child does not inherit it (its thread is not copied).
 */
export function startWatchdog(command: string, ms = watchdogBound()): Promise<void> {
  const fired = new Int32Array(new SharedArrayBuffer(4));
  const data: Watch = { watchdog: true, pid: process.pid, command, ms, fired };
  // Its SIGKILL follows the children's at once; should this process reach its exit in between
  // (a child's death can unblock it), it still does not end with 0.
  process.on('exit', () => {
    if (Atomics.load(fired, 0) === 1) process.exitCode = 137;
  });
  const worker = new Worker(__filename, { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('online', () => {
      worker.unref();
      resolve();
    });
    worker.once('error', reject);
  });
}

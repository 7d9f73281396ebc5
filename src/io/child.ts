// waitExit(pid): a promise for a child's exit, waitpid's asynchronous form.
//
// How it waits, costing no thread and no timer:
//  - Linux >= 5.3: pidfd_open(2) gives a descriptor that becomes readable when
//    the process ends; a libuv poll handle on it puts it in the event loop's
//    own epoll (native/io.cc). When it fires, waitpid(pid, WNOHANG) reaps the
//    child and gives the status.
//  - Older kernels (pidfd_open fails with ENOSYS): a SIGCHLD listener, and
//    waitpid(pid, WNOHANG) for each waiting pid whenever the signal comes.
//
// Whose children: any child of this process (from this package's fork(), or
// an addon's fork/posix_spawn), except those of child_process. libuv reaps
// those itself with waitpid(pid) when SIGCHLD arrives; reaping one here would
// take its exit status from the ChildProcess's 'exit' event, and waiting
// without reaping (waitid WNOWAIT) would race with libuv's reaping. So a pid
// owned by a ChildProcess of this loop (found by walking the loop's
// uv_process_t handles) is refused with ERR_CHILD_PROCESS_OWNED.
//
// In a child made by fork(), the waits inherited from the parent are dropped
// (their handles closed, their promises left pending): the parent's children
// are not the child's to reap.
//
// Man pages: pidfd_open(2), waitpid(2), signal(7) (SIGCHLD), epoll(7).
import { checkInt, isSyscallError, packageError } from '../errors';
import { onEachFork } from '../fork';
import { native } from '../native';
import { waitpid, WNOHANG, type WaitStatus } from '../syscalls';

/** How a pending wait learns that its child may have ended. */
export type ExitWatch = 'pidfd' | 'sigchld';

interface Waiter {
  /** Reaps the child if it has ended; true once the promise is settled. */
  check: () => boolean;
  /** Stops the pidfd watch; null for a waiter woken by SIGCHLD. */
  stopPidfd: (() => void) | null;
}

const waiters = new Set<Waiter>();
/** The wait pending for each pid: only one waitpid() can reap a child, so later waits share it. */
const pendingByPid = new Map<number, Promise<WaitStatus>>();
let pidfdMissing = false;

function onSigchld(): void {
  for (const waiter of [...waiters]) {
    if (waiter.stopPidfd === null && waiter.check()) waiters.delete(waiter);
  }
  updateSigchldListener();
}

/** Listens to SIGCHLD exactly while some waiter needs it. */
function updateSigchldListener(): void {
  const wanted = [...waiters].some((waiter) => waiter.stopPidfd === null);
  const listening = process.listeners('SIGCHLD').includes(onSigchld);
  if (wanted && !listening) process.on('SIGCHLD', onSigchld);
  if (!wanted && listening) process.off('SIGCHLD', onSigchld);
}

onEachFork((inChild) => {
  if (!inChild) return;
  pendingByPid.clear();
  if (waiters.size === 0) return;
  for (const waiter of waiters) waiter.stopPidfd?.();
  waiters.clear();
  updateSigchldListener();
});

function ownedError(pid: number): Error {
  return packageError(
    'ERR_CHILD_PROCESS_OWNED',
    `pid ${pid} is a child_process child: Node reaps it itself; use its ChildProcess's 'exit' event`,
  );
}

/**
 * Resolves with the {@link WaitStatus} of child `pid` once it has ended,
 * reaping it (as `waitpid(pid)` would, without blocking). Costs no thread and
 * no polling: a pidfd in the event loop (Linux >= 5.3), else SIGCHLD. While
 * pending it keeps the event loop alive, as a ChildProcess does.
 *
 * Rejects with ECHILD if `pid` is not a child of this process (or was reaped
 * by someone else first), and with ERR_CHILD_PROCESS_OWNED for a child of
 * child_process, which Node reaps itself. Waits for the same child made while
 * one is pending share its promise.
 */
export function waitExit(pid: number): Promise<WaitStatus> {
  return waitExitWith(pid, pidfdMissing ? 'sigchld' : 'pidfd');
}

/** waitExit with the way of watching chosen (tests run the SIGCHLD fallback on kernels with pidfds). */
export function waitExitWith(pid: number, how: ExitWatch): Promise<WaitStatus> {
  try {
    checkInt('pid', pid, 1);
  } catch (error) {
    return Promise.reject(error);
  }
  if (native.childProcessOwns(pid)) return Promise.reject(ownedError(pid));
  const shared = pendingByPid.get(pid);
  if (shared !== undefined) return shared;
  const wait = new Promise<WaitStatus>((resolve, reject) => {
    const waiter: Waiter = {
      check() {
        let status: WaitStatus;
        try {
          status = waitpid(pid, WNOHANG);
        } catch (error) {
          reject(error); // ECHILD: not a child, or reaped elsewhere
          return true;
        }
        if (status.pid === 0) return false;
        resolve(status);
        return true;
      },
      stopPidfd: null,
    };
    if (waiter.check()) return; // already ended, or not ours
    try {
      watch(pid, waiter, how);
    } catch (error) {
      reject(error);
    }
  });
  pendingByPid.set(pid, wait);
  const forget = (): void => {
    if (pendingByPid.get(pid) === wait) pendingByPid.delete(pid);
  };
  wait.then(forget, forget);
  return wait;
}

function watch(pid: number, waiter: Waiter, how: ExitWatch): void {
  if (how === 'pidfd' && !pidfdMissing) {
    try {
      waiter.stopPidfd = native.watchPidExit(pid, () => {
        waiters.delete(waiter);
        // A pidfd is readable only once the process has ended, so this reaps
        // it; the retry guards against a kernel that says so early.
        const retryMs = 1;
        if (!waiter.check()) setTimeout(() => waiter.check() || watch(pid, waiter, how), retryMs);
      });
    } catch (error) {
      if (!isSyscallError(error, 'ENOSYS')) throw error;
      pidfdMissing = true; // Linux < 5.3: SIGCHLD from now on
    }
  }
  waiters.add(waiter);
  updateSigchldListener();
  // A SIGCHLD that came between the first check and the listener is not
  // delivered again: look once more.
  if (waiter.stopPidfd === null && waiter.check()) {
    waiters.delete(waiter);
    updateSigchldListener();
  }
}

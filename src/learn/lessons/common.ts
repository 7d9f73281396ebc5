// What the lessons share: how a lesson is described, and bounded waiting.
import * as fs from 'node:fs';
import { kill, sleep, waitpid, WNOHANG, type WaitStatus } from '../../index';
import { quietly } from '../trace';

export type Say = (text: string) => void;

export interface Lesson {
  name: string;
  title: string;
  /** Runs the mistake and the fix; returns what it observed (the tests check it). */
  run(say: Say): Record<string, unknown>;
}

/** Waits for `pid` at most `ms`; null if it is still running then. (Hidden from --trace unless asked.) */
export function waitBounded(pid: number, ms: number): WaitStatus | null {
  return quietly(() => {
    const deadline = Date.now() + ms;
    for (;;) {
      const status = waitpid(pid, WNOHANG);
      if (status.pid !== 0) return status;
      if (Date.now() >= deadline) return null;
      sleep(5);
    }
  });
}

/** Polls `condition` every 5 ms for at most `ms`; whether it became true. (Hidden from --trace unless asked.) */
export function waitUntil(condition: () => boolean, ms: number): boolean {
  return quietly(() => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (condition()) return true;
      if (Date.now() >= deadline) return false;
      sleep(5);
    }
  });
}

/** Kills a child that a lesson has shown to be stuck, and reaps it. */
export function killAndReap(pid: number): WaitStatus {
  kill(pid, 'SIGKILL');
  return waitpid(pid);
}

/** The process state letter from /proc/<pid>/stat: R, S, D, Z, T... */
export function processState(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
}

/** What the kernel says a process is blocked in, from /proc/<pid>/wchan. */
export function blockedIn(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/wchan`, 'utf8').trim() || '?';
  } catch {
    return '?';
  }
}

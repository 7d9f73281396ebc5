// What the lessons share: how a lesson is described, and bounded waiting.
import { kill, read, sleep, waitpid, WNOHANG, type WaitStatus } from '../../index';
import { wchan } from '../../internal/proc';
import { quietly } from '../trace-printer';

/** POSIX: writes of at most PIPE_BUF bytes to a pipe are atomic; PIPE_BUF is 4096 on Linux, at least 512 by POSIX. */
export const PIPE_BUF = 4096;

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

/** What the kernel says a process is blocked in, from /proc/<pid>/wchan; '?' when it does not say. */
export function blockedIn(pid: number): string {
  return wchan(pid) || '?';
}

/** Reads `fd` up to the end of the first line (or end of file); the line without its newline. */
export function readLine(fd: number): string {
  const byte = Buffer.alloc(1);
  const bytes: number[] = [];
  // One byte at a time: what follows the newline stays in the pipe for the next reader.
  while (read(fd, byte) === 1 && byte[0] !== 0x0a) bytes.push(byte[0]);
  return Buffer.from(bytes).toString('utf8');
}

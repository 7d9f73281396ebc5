// A process's private memory, as the examples and their benchmark report it:
// Private_Clean + Private_Dirty of /proc/PID/smaps_rollup (proc(5)), i.e. the
// pages no other process shares. For a child of fork() that is what
// copy-on-write has had to copy so far; for a fresh process it is nearly all
// of its memory.
import { readFileSync } from 'node:fs';

export function privateKiB(pid: number | 'self' = 'self'): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  let total = 0;
  for (const [, kib] of rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB$/gm)) total += Number(kib);
  return total;
}

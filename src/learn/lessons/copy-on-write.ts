// After fork, parent and child share their memory pages until one of them writes.
import * as fs from 'node:fs';
import { fork, getpid, kill, waitpid, WUNTRACED } from '../../index';
import { killAndReap, type Lesson } from './common';

const MiB = 1 << 20;
const SIZE = 64 * MiB;
const PAGE = 4096;

/** Private_Dirty of `pid` in kB, from /proc/<pid>/smaps_rollup: pages that only this process has written. */
function privateDirtyKiB(pid: number): number {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Private_Dirty:\s+(\d+) kB/m.exec(rollup)![1]);
}

export const copyOnWrite: Lesson = {
  name: 'copy-on-write',
  title: 'fork() copies no memory: pages are shared until written (Private_Dirty in smaps_rollup)',
  run(say) {
    const heap = Buffer.alloc(SIZE, 1); // written here, so every page is resident before the fork
    say(
      `The parent fills a ${SIZE / MiB} MiB buffer, then forks. The child stops itself (SIGSTOP) before and after\n` +
        'it writes one byte in every page of that buffer; the parent reads /proc/<child>/smaps_rollup meanwhile.\n',
    );
    const pid = fork(() => {
      kill(getpid(), 'SIGSTOP');
      for (let at = 0; at < SIZE; at += PAGE) heap[at] = 2;
      kill(getpid(), 'SIGSTOP');
    });
    const stopped = () => {
      const status = waitpid(pid, WUNTRACED);
      if (!status.stopped) throw new Error(`the child ended early: ${JSON.stringify(status)}`);
    };
    stopped();
    const before = privateDirtyKiB(pid);
    kill(pid, 'SIGCONT');
    stopped();
    const after = privateDirtyKiB(pid);
    kill(pid, 'SIGCONT');
    const status = waitpid(pid);
    if (status.pid === 0) killAndReap(pid);
    const grownMiB = Math.round((after - before) / 1024);
    say(
      `  right after fork the child's Private_Dirty is ${Math.round(before / 1024)} MiB: the buffer's pages are still the parent's.\n` +
        `  after it wrote to every page: ${Math.round(after / 1024)} MiB, ${grownMiB} MiB more: each page was copied when first written.\n`,
    );
    const unchanged = heap.every((b) => b === 1);
    say(`  the parent's buffer still holds only 1s: ${unchanged}. Each process sees its own copy once it writes.\n`);
    say(
      'The fix, if this surprises you: nothing is wrong; fork is cheap because of it. But a child that\n' +
        'touches a big heap (a garbage collector does) pays for the copies: preload, then fork, then touch little.\n',
    );
    return { beforeMiB: Math.round(before / 1024), grownMiB, parentUnchanged: unchanged, exitCode: status.exitCode };
  },
};

// fork copies the mappings and page tables, not the pages: parent and child
// share the pages until one of them writes (fork(2) NOTES).
import * as fs from 'node:fs';
import { fork, getpid, kill, waitpid, WUNTRACED } from '../../index';
import { killAndReap, type Lesson } from './common';

const MiB = 1 << 20;
const SIZE = 64 * MiB;
const PAGE = 4096;

/** Shared_Dirty and Private_Dirty of `pid` in KiB, from /proc/<pid>/smaps_rollup: written pages that others map too, and that only it maps. */
function dirtyKiB(pid: number): { shared: number; private: number } {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)![1]);
  return { shared: field('Shared_Dirty'), private: field('Private_Dirty') };
}

export const copyOnWrite: Lesson = {
  name: 'copy-on-write',
  title: 'fork() copies page tables, not pages: pages are shared until written (smaps_rollup)',
  run(say) {
    const heap = Buffer.alloc(SIZE, 1); // written here, so every page is resident before the fork
    say(
      `The parent fills a ${SIZE / MiB} MiB buffer, then forks. The child stops itself (SIGSTOP)\n` +
        'before and after it writes one byte in every page of that buffer; the parent\n' +
        'reads /proc/<child>/smaps_rollup meanwhile.\n',
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
    const before = dirtyKiB(pid);
    kill(pid, 'SIGCONT');
    stopped();
    const after = dirtyKiB(pid);
    kill(pid, 'SIGCONT');
    const status = waitpid(pid);
    if (status.pid === 0) killAndReap(pid);
    const MiBs = (kib: number) => Math.round(kib / 1024);
    const grownMiB = MiBs(after.private - before.private);
    say(
      `  right after fork the child's Shared_Dirty is ${MiBs(before.shared)} MiB and its Private_Dirty\n` +
        `  ${MiBs(before.private)} MiB: fork copied the mappings and page tables (fork(2) NOTES), and\n` +
        '  both processes map the same pages.\n' +
        `  after it wrote to every page: Private_Dirty ${MiBs(after.private)} MiB, ${grownMiB} MiB more,\n` +
        `  Shared_Dirty ${MiBs(after.shared)} MiB: each page was copied when first written.\n`,
    );
    const unchanged = heap.every((b) => b === 1);
    say(
      `  the parent's buffer still holds only 1s: ${unchanged}. Each process sees its\n` +
        '  own copy once it writes.\n',
    );
    say(
      'The fix, if this surprises you: nothing is wrong; fork is cheap because of\n' +
        'it. But a child that touches a big heap (a garbage collector does) pays for\n' +
        'the copies: preload, then fork, then touch little.\n' +
        'Cheap is not free: the page tables are copied at fork, so its cost grows\n' +
        'with the mappings (docs/benchmarks.md).\n',
    );
    return {
      beforeMiB: MiBs(before.private),
      sharedBeforeMiB: MiBs(before.shared),
      sharedAfterMiB: MiBs(after.shared),
      grownMiB,
      parentUnchanged: unchanged,
      exitCode: status.exitCode,
    };
  },
};

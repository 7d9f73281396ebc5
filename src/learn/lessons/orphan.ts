// A process whose parent exits is adopted by init (pid 1) or the nearest subreaper.
import * as fs from 'node:fs';
import { close, fork, getppid, pipe, read, waitpid, write } from '../../index';
import { readStat } from '../../internal/proc';
import { type Lesson } from './common';

/** This process's ancestors, from /proc/<pid>/stat: the candidates for a subreaper. */
function ancestors(): number[] {
  const chain: number[] = [];
  for (let pid = process.pid; pid > 1;) {
    pid = readStat(pid).ppid;
    chain.push(pid);
  }
  return chain;
}

function readLine(fd: number): string {
  const buf = Buffer.alloc(256);
  let text = '';
  for (let n; !text.includes('\n') && (n = read(fd, buf)) > 0;) text += buf.toString('utf8', 0, n);
  return text.trim();
}

export const orphan: Lesson = {
  name: 'orphan',
  title: 'When a parent exits first, its child is adopted by pid 1 or the nearest subreaper',
  run(say) {
    say(
      'The child forks a grandchild and exits. The grandchild reports its parent pid\n' +
        'before and after; to have no race it waits for a "go" that this process sends\n' +
        'only once waitpid says the child is gone.\n',
    );
    const [reportR, reportW] = pipe();
    const [goR, goW] = pipe();
    const child = fork(() => {
      close(reportR);
      const [readyR, readyW] = pipe();
      fork(() => {
        close(goW);
        close(readyR);
        write(reportW, `${process.pid} ${getppid()}\n`);
        close(readyW); // the child may exit now
        readLine(goR); // the go
        write(reportW, `${getppid()}\n`);
      });
      close(readyW);
      readLine(readyR); // end of file once the grandchild has reported its parent
    });
    close(reportW);
    close(goR);
    const [grandchild, parentBefore] = readLine(reportR).split(' ').map(Number);
    const childStatus = waitpid(child); // returns once the kernel has reparented the grandchild
    write(goW, 'go\n');
    close(goW);
    const parentAfter = Number(readLine(reportR));
    close(reportR);
    const comm = fs.existsSync(`/proc/${parentAfter}`) ? readStat(parentAfter).comm : '?';
    const adoptedBy =
      parentAfter === 1
        ? 'init (pid 1)'
        : ancestors().includes(parentAfter)
          ? `a subreaper among our ancestors (${comm})`
          : comm;
    say(
      `  grandchild ${grandchild}: parent ${parentBefore} (the child) before; the child exited ${childStatus.exitCode};\n` +
        `  after: parent ${parentAfter}, ${adoptedBy}.\n`,
    );
    say(
      'The fix, for a child that must learn that its parent has died:\n' +
        'prctl(PR_SET_PDEATHSIG) has the kernel send it a signal then; a pidfd of the\n' +
        'parent (pidfd_open(2)) polls readable when it exits; or it polls getppid()\n' +
        'for a change, as the grandchild above saw. A supervisor that must wait for\n' +
        "its descendants' orphans calls prctl(PR_SET_CHILD_SUBREAPER) to be the one\n" +
        'that adopts them.\n',
    );
    return {
      childPid: child,
      parentBefore,
      parentAfter,
      adoptedByAncestor: parentAfter === 1 || ancestors().includes(parentAfter),
    };
  },
};

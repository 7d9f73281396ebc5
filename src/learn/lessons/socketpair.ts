// The tutorial's two pipes against one socketpair(2): one descriptor per side
// that both reads and writes, and shutdown(2) to end one direction only.
import * as fs from 'node:fs';
import { close, fork, isSyscallError, pipe, read, shutdown, SHUT_WR, socketpair, write } from '../../index';
import { readAll } from '../../internal/io-loops';
import { maskHas, openFds, processState, signalMasks } from '../../internal/proc';
import { blockedIn, killAndReap, waitBounded, waitUntil, type Lesson } from './common';

const REQUEST = 'a request';

/** How many descriptors `pid` holds of the files with these inodes (pipes or sockets), from /proc/PID/fd. */
function held(pid: number | 'self', inodes: number[]): number {
  return openFds(pid).filter((f) => inodes.some((ino) => f.target.endsWith(`:[${ino}]`))).length;
}

/** The tutorial's layout: pipe 1 parent to child, pipe 2 back; each side closes the ends it does not use. */
function twoPipes(): { parent: number; child: number } {
  const [p1r, p1w] = pipe();
  const [p2r, p2w] = pipe();
  const inodes = [p1r, p2r].map((fd) => fs.fstatSync(fd).ino);
  const pid = fork(() => {
    close(p1w);
    close(p2r);
    read(p1r, Buffer.alloc(1)); // until the parent closes its write end
  });
  close(p1r);
  close(p2w);
  waitUntil(() => held(pid, inodes) === 2, 2000);
  const counts = { parent: held('self', inodes), child: held(pid, inodes) };
  close(p1w);
  close(p2r);
  if (waitBounded(pid, 5000) === null) killAndReap(pid);
  return counts;
}

export const socketpairLesson: Lesson = {
  name: 'socketpair',
  title: 'One socketpair instead of two pipes; shutdown ends one way',
  run(say) {
    const pipes = twoPipes();
    say(
      "The tutorial's two pipes, one per direction: once each side has closed the\n" +
        `ends it does not use, this process holds ${pipes.parent} descriptors of them and the child\n` +
        `${pipes.child} (/proc/PID/fd): ${pipes.parent + pipes.child} in all.\n`,
    );

    const [mine, theirs] = socketpair();
    const inodes = [mine, theirs].map((fd) => fs.fstatSync(fd).ino);
    const pid = fork(() => {
      close(mine);
      const buf = Buffer.alloc(64);
      const reads: number[] = [];
      let text = '';
      for (let n; (n = read(theirs, buf)) > 0;) {
        reads.push(n);
        text += buf.toString('utf8', 0, n);
      }
      reads.push(0);
      write(theirs, `got "${text}", reads returned ${reads.join(', ')}`);
    });
    close(theirs);
    const blocked = waitUntil(
      () => processState(pid) === 'S' && /unix_stream/.test(blockedIn(pid)) && held(pid, inodes) === 1,
      2000,
    );
    const state = `${processState(pid)} in ${blockedIn(pid)}`;
    const counts = { parent: held('self', inodes), child: held(pid, inodes) };
    const links = [
      `/proc/self/fd/${mine}`,
      ...openFds(pid)
        .filter((f) => f.fd === theirs)
        .map((f) => f.target),
    ];
    const ownLink = fs.readlinkSync(links[0]);
    say(
      `The fix: socketpair(AF_UNIX, SOCK_STREAM): ${counts.parent} descriptor here, ${counts.child} in the\n` +
        `child, each both read and written. Here /proc/self/fd/${mine} is ${ownLink};\n` +
        `the child's fd ${theirs} is ${links[1]}, not pipe:[...]. The child reads:\n` +
        `  state ${state}.\n`,
    );

    write(mine, REQUEST);
    shutdown(mine, SHUT_WR);
    let afterShutdown = 'no error';
    try {
      write(mine, 'more');
    } catch (error) {
      if (!isSyscallError(error)) throw error;
      afterShutdown = error.code;
    }
    const sigpipeIgnored = maskHas(signalMasks('/proc/self/status').SigIgn, 'SIGPIPE');
    const reply = readAll(mine);
    close(mine);
    const status = waitBounded(pid, 5000) ?? killAndReap(pid);
    say(
      `This process writes ${REQUEST.length} bytes, then shutdown(SHUT_WR): its next write raises\n` +
        `SIGPIPE (${sigpipeIgnored ? 'ignored' : 'not ignored'} here: SigIgn, /proc/self/status) ` +
        `and fails with ${afterShutdown};\n` +
        "the child's read returns 0 (EOF), and its reply comes back on the same socket:\n" +
        `  ${reply}\n` +
        `The child exited ${status.exitCode}. Closing the descriptor instead of shutdown would have\n` +
        'left none to read the reply with.\n',
    );
    return {
      pipeDescriptors: pipes,
      socketDescriptors: counts,
      ownLink,
      childLink: links[1],
      inodes,
      childState: blocked ? 'S' : state,
      childWchan: state.split(' in ')[1],
      afterShutdown,
      sigpipeIgnored,
      reply,
      exitCode: status.exitCode,
    };
  },
};

// One parent, two children, a pipe from each: poll(2) serves whichever has
// data (or its end of file) first; a blocking read of one pipe first waits
// for that child, however much the other has sent.
import { bytesQueued, close, fork, pipe, poll, POLLIN, read, write } from '../../index';
import { processState } from '../../internal/proc';
import { pollEventsText } from '../trace-printer';
import { blockedIn, killAndReap, waitBounded, waitUntil, type Lesson } from './common';

const FROM_A = 'A: done\n';
const FROM_B = ['B: first\n', 'B: second\n'];

/** What the parent saw on one pipe in one poll: the revents, and what the read then returned. */
interface Served {
  child: 'A' | 'B';
  revents: string;
  bytes: number;
}

export const pollBothPipes: Lesson = {
  name: 'poll-both-pipes',
  title: "poll() serves two children's pipes, each when it is ready",
  run(say) {
    const [aRead, aWrite] = pipe();
    const [bRead, bWrite] = pipe();
    const [goRead, goWrite] = pipe();
    // A writes once told to; B writes at once. Each closes what it does not use.
    const a = fork(() => {
      [aRead, bRead, bWrite, goWrite].forEach((fd) => close(fd));
      read(goRead, Buffer.alloc(1));
      write(aWrite, FROM_A);
    });
    const b = fork(() => {
      [aRead, aWrite, bRead, goRead, goWrite].forEach((fd) => close(fd));
      FROM_B.forEach((text) => write(bWrite, text));
    });
    [aWrite, bWrite, goRead].forEach((fd) => close(fd));
    const bStatus = waitBounded(b, 5000) ?? killAndReap(b);
    say(
      'Two children, A and B, each with a pipe to this process. B writes two lines and\n' +
        'exits; A writes one line when this process tells it to, through a third pipe.\n',
    );

    say('The mistake: read A first, with a blocking read (here in a child, bounded):\n');
    const reader = fork(() => {
      [bRead, goWrite].forEach((fd) => close(fd));
      read(aRead, Buffer.alloc(64));
    });
    const blocked = waitUntil(() => processState(reader) === 'S' && /pipe/.test(blockedIn(reader)), 2000);
    const stuck = waitBounded(reader, 300) === null;
    const readerState = `${processState(reader)} in ${blockedIn(reader)}`;
    const waitingInB = bytesQueued(bRead);
    say(
      `  300 ms later the reader still waits (${stuck}), state ${readerState},\n` +
        `  while B has exited ${bStatus.exitCode} and its pipe holds ${waitingInB} bytes (FIONREAD).\n`,
    );
    killAndReap(reader);

    say(
      'The fix: poll() both read ends for POLLIN, read the ones it reports, and close\n' +
        'each at its EOF (read returns 0; POLLHUP: no writer left). A is told to go now.\n',
    );
    write(goWrite, 'g');
    close(goWrite);
    const names = new Map<number, 'A' | 'B'>([
      [aRead, 'A'],
      [bRead, 'B'],
    ]);
    const received = { A: '', B: '' };
    const served: Served[] = [];
    const buf = Buffer.alloc(4096);
    while (names.size > 0) {
      const ready = poll(
        [...names.keys()].map((fd) => ({ fd, events: POLLIN })),
        5000,
      ).filter((p) => p.revents !== 0);
      if (ready.length === 0) break; // nothing in 5 s: the children are gone wrong
      for (const p of ready) {
        const child = names.get(p.fd)!;
        const n = read(p.fd, buf);
        served.push({ child, revents: pollEventsText(p.revents), bytes: n });
        if (n > 0) received[child] += buf.toString('utf8', 0, n);
        else {
          close(p.fd);
          names.delete(p.fd);
        }
      }
    }
    for (const s of served) {
      say(`  ${s.child}: ${s.revents}, read ${s.bytes}${s.bytes === 0 ? ': EOF, closed' : ' bytes'}\n`);
    }
    const aStatus = waitBounded(a, 5000) ?? killAndReap(a);
    say(
      `  A sent ${JSON.stringify(received.A)}, B ${JSON.stringify(received.B)};\n` +
        `  A exited ${aStatus.exitCode}. Neither pipe made the other wait.\n`,
    );
    [...names.keys()].forEach((fd) => close(fd));
    return {
      readerState: blocked ? 'S' : readerState,
      readerWaited: stuck,
      waitingInB,
      bExit: bStatus.exitCode,
      served,
      received,
      aExit: aStatus.exitCode,
    };
  },
};

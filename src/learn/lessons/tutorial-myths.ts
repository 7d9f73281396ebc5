// What the tutorial's program relies on: blocking reads keep the two in step,
// not the sleep; a small read buffer loses nothing.
import { bytesQueued, close, fork, pipe, read, write } from '../../index';
import { waitBounded, type Lesson } from './common';

const ROUNDS = 10;

/** The tutorial's exchange without its sleep; returns the lines printed and the size of each read. */
function exchangeWithoutSleep(): { lines: string[]; readSizes: number[] } {
  const [parentRead, childWrite] = pipe();
  const [childRead, parentWrite] = pipe();
  const [report, reportW] = pipe();
  const pid = fork(() => {
    close(parentRead);
    close(parentWrite);
    close(report);
    const buf = Buffer.alloc(1024);
    for (let n = 0; n < ROUNDS; n++) {
      const got = read(childRead, buf);
      const received = buf.toString('utf8', 0, got);
      write(reportW, `${got} Child received: ${received}\n`);
      write(childWrite, `Child echoing: ${received}`);
    }
  });
  close(childRead);
  close(childWrite);
  const lines: string[] = [];
  const readSizes: number[] = [];
  const buf = Buffer.alloc(1024);
  const reports = Buffer.alloc(4096);
  let pending = '';
  for (let i = 0; i < ROUNDS; i++) {
    write(parentWrite, `Parent message ${i}`); // and no sleep
    const got = read(parentRead, buf);
    readSizes.push(got);
    while (!pending.includes('\n')) pending += reports.toString('utf8', 0, read(report, reports));
    const [line, ...more] = pending.split('\n');
    pending = more.join('\n');
    readSizes.push(Number(line.split(' ')[0]));
    lines.push(line.slice(line.indexOf(' ') + 1), `Parent received: ${buf.toString('utf8', 0, got)}`);
  }
  [parentRead, parentWrite, report, reportW].forEach(close);
  waitBounded(pid, 5000);
  return { lines, readSizes };
}

export const tutorialMyths: Lesson = {
  name: 'tutorial-myths',
  title:
    "Two beliefs about the tutorial's program, tested: the sleep is not what keeps order; a small buffer loses nothing",
  run(say) {
    say(
      "Belief 1 (ours to test, not the tutorial's words): the parent's sleep keeps\n" +
        'parent and child in step. The exchange again, without the sleep:\n',
    );
    const { lines, readSizes } = exchangeWithoutSleep();
    const expected = Array.from({ length: ROUNDS }, (_, i) => [
      `Child received: Parent message ${i}`,
      `Parent received: Child echoing: Parent message ${i}`,
    ]).flat();
    const inOrder = JSON.stringify(lines) === JSON.stringify(expected);
    const oneMessagePerRead = readSizes.every((n) => n === 16 || n === 31);
    say(
      `  the same ${lines.length} lines in the same order: ${inOrder};\n` +
        `  every read returned exactly one message: ${oneMessagePerRead}.\n` +
        '  What keeps them in step is that each side blocks in read() until the other\n' +
        '  has written, and the parent writes the next message only after the echo.\n' +
        '  The sleep only slows the demo down.\n',
    );

    say('Belief 2: a read with a buffer smaller than the message loses the rest of it.\n' + 'Read 4 bytes of 16:\n');
    const [r, w] = pipe();
    write(w, 'Parent message 0');
    const small = Buffer.alloc(4);
    const first = read(r, small);
    const firstText = small.toString('utf8', 0, first);
    const queued = bytesQueued(r);
    let rest = '';
    while (bytesQueued(r) > 0) rest += small.toString('utf8', 0, read(r, small));
    close(r);
    close(w);
    say(
      `  read() returned ${first} bytes ("${firstText}"); FIONREAD then says ${queued} bytes are still\n` +
        `  queued in the pipe; more reads return them: "${rest}".\n` +
        '  Nothing is lost, but one read is no longer one message.\n',
    );
    say('The fix for the real risk: frame messages (see no-framing) and loop on reads\n' + '(see partial-io).\n');
    return { inOrder, oneMessagePerRead, firstRead: firstText, queuedAfter: queued, rest };
  },
};

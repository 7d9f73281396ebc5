// Writes and reads can move fewer bytes than asked: loop on both; a UTF-8
// character can be cut in two.
import { close, fork, kill, O_NONBLOCK, pipe, read, write } from '../../index';
import { writeAll } from '../../internal/io-loops';
import { blockedIn, killAndReap, waitBounded, waitUntil, type Lesson } from './common';

const MiB = 1 << 20;

/**
 * What a child's one blocking write(1 MiB) into a pipe that nobody reads
 * returned (reported through a second pipe), once it was blocked and then
 * got a signal it has a handler for, or saw the last reader close its end.
 */
function blockingWriteReturns(interruption: 'signal' | 'reader gone'): number {
  const [r, w] = pipe();
  const [report, reportW] = pipe();
  const writer = fork(() => {
    close(r);
    close(report);
    process.on('SIGUSR1', () => {}); // a handler: the signal interrupts write() instead of killing
    const n = write(w, Buffer.alloc(MiB, 0x6d)); // SIGPIPE is ignored here, as in every Node process
    write(reportW, String(n));
  });
  close(w);
  close(reportW);
  waitUntil(() => /pipe_write/.test(blockedIn(writer)), 5000); // the pipe is full: the write waits
  if (interruption === 'signal') kill(writer, 'SIGUSR1');
  else close(r);
  const text = Buffer.alloc(32);
  const n = read(report, text);
  close(report);
  if (interruption === 'signal') close(r);
  if (waitBounded(writer, 5000) === null) killAndReap(writer);
  return Number(text.toString('utf8', 0, n));
}

export const partialIo: Lesson = {
  name: 'partial-io',
  title:
    'A write or a read can move fewer bytes than asked: loop on both; UTF-8 split across reads breaks naive decoding',
  run(say) {
    say('The mistake: one write() and one read() for a 1 MiB message.\n');
    const message = Buffer.alloc(MiB, 0x6d);
    let [r, w] = pipe(O_NONBLOCK);
    const oneWrite = write(w, message);
    say(
      `  a single non-blocking write() took ${oneWrite} of ${MiB} bytes: the rest did not\n` + '  fit in the pipe.\n',
    );
    close(r);
    close(w);

    [r, w] = pipe();
    const writer = fork(() => {
      close(r);
      writeAll(w, message); // the write loop
    });
    close(w);
    const buf = Buffer.alloc(MiB);
    const oneRead = read(r, buf);
    say(`  a single read() returned ${oneRead} bytes: what the pipe held at that moment.\n`);
    say(
      'A blocking write(1 MiB) waits while the pipe is full, but it too can return\n' +
        'short once some bytes went in. A child blocks in it, and then:\n',
    );
    const bySignal = blockingWriteReturns('signal');
    say(`  a signal with a handler arrives: write() returns ${bySignal} of ${MiB}.\n`);
    const byReaderGone = blockingWriteReturns('reader gone');
    say(
      `  the last reader closes its end (SIGPIPE ignored): write() returns ${byReaderGone} of\n` +
        `  ${MiB}; only a write that had moved nothing would fail with EPIPE.\n`,
    );
    say('The fix: loop until every byte is written, and read until the length you\n' + 'expect (or EOF).\n');
    let total = oneRead;
    for (let n; (n = read(r, buf, total)) > 0;) total += n;
    close(r);
    const status = waitBounded(writer, 10_000);
    say(
      `  the write loop and the read loop moved all ${total} bytes; the writer\n` + `  exited ${status?.exitCode}.\n`,
    );

    say('The second mistake: decoding each read on its own. "héllo wörld €" is read\n' + '4 bytes at a time:\n');
    const text = 'héllo wörld €';
    [r, w] = pipe();
    write(w, text);
    close(w);
    const chunk = Buffer.alloc(4);
    const naive: string[] = [];
    const streaming = new TextDecoder();
    let fixed = '';
    for (let n; (n = read(r, chunk)) > 0;) {
      naive.push(Buffer.from(chunk.subarray(0, n)).toString('utf8'));
      fixed += streaming.decode(chunk.subarray(0, n), { stream: true });
    }
    fixed += streaming.decode();
    close(r);
    say(`  each chunk decoded alone: "${naive.join('')}"\n  (U+FFFD where a character was cut)\n`);
    say(`  one decoder with { stream: true } across reads: "${fixed}"\n`);
    return { oneWrite, oneRead, bySignal, byReaderGone, total, naive: naive.join(''), fixed };
  },
};

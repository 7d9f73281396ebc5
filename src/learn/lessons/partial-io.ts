// A large message needs a write loop and a read loop; a UTF-8 character can be cut in two.
import { close, fork, O_NONBLOCK, pipe, read, write } from '../../index';
import { writeAll } from '../../internal/io-loops';
import { waitBounded, type Lesson } from './common';

const MiB = 1 << 20;

export const partialIo: Lesson = {
  name: 'partial-io',
  title: 'A 1 MiB message needs a write loop and a read loop; UTF-8 split across reads breaks naive decoding',
  run(say) {
    say('The mistake: one write() and one read() for a 1 MiB message.\n');
    const message = Buffer.alloc(MiB, 0x6d);
    let [r, w] = pipe(O_NONBLOCK);
    const oneWrite = write(w, message);
    say(`  a single non-blocking write() took ${oneWrite} of ${MiB} bytes: the rest did not fit in the pipe.\n`);
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
      'The fix: loop until every byte is written, and read until the length you expect (or EOF).\n' +
        '(A blocking write to a pipe on Linux returns short only when a signal interrupts it after some bytes\n' +
        'went in; otherwise it waits until all are written. A non-blocking one, as above, returns what fits.)\n',
    );
    let total = oneRead;
    for (let n; (n = read(r, buf, total)) > 0;) total += n;
    close(r);
    const status = waitBounded(writer, 10_000);
    say(`  the write loop and the read loop moved all ${total} bytes; the writer exited ${status?.exitCode}.\n`);

    say('The second mistake: decoding each read on its own. "héllo wörld €" is read 4 bytes at a time:\n');
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
    say(`  each chunk decoded alone: "${naive.join('')}" (U+FFFD where a character was cut)\n`);
    say(`  one decoder with { stream: true } across reads: "${fixed}"\n`);
    return { oneWrite, oneRead, total, naive: naive.join(''), fixed };
  },
};

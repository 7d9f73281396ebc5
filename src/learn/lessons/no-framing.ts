// Two writes arrive in one read: a pipe is a byte stream, not a message queue.
import { close, pipe, read, write } from '../../index';
import { readFull, writeAll } from '../../internal/io-loops';
import type { Lesson } from './common';

/** Writes a frame: a 4-byte big-endian length, then the bytes. */
function writeFrame(fd: number, text: string): void {
  const body = Buffer.from(text);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  writeAll(fd, frame);
}

function readExactly(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  if (readFull(fd, buf) < n) throw new Error('end of file inside a frame');
  return buf;
}

function readFrame(fd: number): string {
  const length = readExactly(fd, 4).readUInt32BE(0);
  return readExactly(fd, length).toString();
}

export const noFraming: Lesson = {
  name: 'no-framing',
  title: 'Two writes arrive in one read: message boundaries are lost',
  run(say) {
    say('The mistake: two messages written one after the other, then one read.\n');
    let [r, w] = pipe();
    write(w, 'Parent message 0');
    write(w, 'Parent message 1');
    const buf = Buffer.alloc(1024);
    const got = buf.toString('utf8', 0, read(r, buf));
    say(`  write() twice (16 + 16 bytes), read() once:\n  "${got}" (${Buffer.byteLength(got)} bytes).\n`);
    say(
      '  The pipe keeps bytes, not writes. The tutorial gets away with it only\n' +
        '  because the parent waits for each echo before it writes again.\n',
    );
    close(r);
    close(w);

    say('The fix: frame each message with its length (4 bytes, big-endian) and read\n' + 'exactly that much.\n');
    [r, w] = pipe();
    writeFrame(w, 'Parent message 0');
    writeFrame(w, 'Parent message 1');
    const messages = [readFrame(r), readFrame(r)];
    say(`  two frames written, two frames read: ${messages.map((m) => `"${m}"`).join(', ')}.\n`);
    close(r);
    close(w);
    return { oneRead: got, framed: messages };
  },
};

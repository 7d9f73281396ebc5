// The tutorial's exchange with a message larger than a pipe holds.
import { F_GETPIPE_SZ, close, fcntl, pipe } from '../../index';
import type { Exercise } from './index';
import type { Observation } from './observe';
import { bytesMoved, moved, pipesReadBy, runSentences } from './verdict';

/**
 * What each of `pipes` holds, as F_GETPIPE_SZ told the recorder (the most it
 * saw: a program may raise it with F_SETPIPE_SZ); a new pipe's capacity here
 * for one it never probed.
 */
function capacities(obs: Observation, pipes: Set<number>): Map<number, number> {
  const seen = new Map<number, number>();
  for (const e of obs.events)
    for (const { inode, capacity } of e.snapshot?.pipes ?? [])
      if (capacity !== null && pipes.has(inode)) seen.set(inode, Math.max(seen.get(inode) ?? 0, capacity));
  let fresh: number | undefined;
  if ([...pipes].some((inode) => !seen.has(inode))) {
    const [r, w] = pipe();
    fresh = fcntl(w, F_GETPIPE_SZ);
    close(r);
    close(w);
  }
  return new Map([...pipes].map((inode) => [inode, seen.get(inode) ?? fresh!]));
}

const program = (echo: string) => `import { close, fork, pipe, read, waitpid, write } from 'bidirectional-ipc';

// The tutorial's exchange: the parent sends a message, the child echoes it
// back. This message is far larger than a pipe holds (64 KiB on Linux).
const SIZE = 1024 * 1024;

function writeAll(fd: number, data: Buffer) {
  let sent = 0;
  while (sent < data.length) sent += write(fd, data, sent);
}

const [toChildRead, toChildWrite] = pipe();
const [toParentRead, toParentWrite] = pipe();
const child = fork(() => {
  close(toChildWrite);
  close(toParentRead);
  const buffer = Buffer.alloc(65536);
  let n: number;
${echo}  close(toParentWrite);
});
close(toChildRead);
close(toParentWrite);
writeAll(toChildWrite, Buffer.alloc(SIZE, 'x'));
close(toChildWrite);
const buffer = Buffer.alloc(65536);
let received = 0;
let n: number;
while ((n = read(toParentRead, buffer)) > 0) received += n;
waitpid(child);
console.log('parent: sent ' + SIZE + ' bytes, got ' + received + ' back');
`;

export const noDeadlock: Exercise = {
  name: 'no-deadlock',
  task: 'echo a message larger than the pipe without deadlock',
  starter: program(
    '  // TODO: the child echoes each piece as soon as it reads it, while the parent\n' +
      '  // is still writing and reads nothing yet. Once both pipes are full, both\n' +
      '  // processes wait in write() for ever. Change the exchange so neither waits\n' +
      '  // for the other (read the whole message first, or use poll()).\n' +
      '  while ((n = read(toChildRead, buffer)) > 0) {\n' +
      '    writeAll(toParentWrite, buffer.subarray(0, n));\n' +
      '  }\n',
  ),
  solution: program(
    '  // The whole message first: the parent can finish writing while nothing is\n' +
      '  // echoed, and reads the echo only then.\n' +
      '  const pieces: Buffer[] = [];\n' +
      '  while ((n = read(toChildRead, buffer)) > 0) {\n' +
      '    pieces.push(Buffer.from(buffer.subarray(0, n))); // a copy: buffer is reused\n' +
      '  }\n' +
      '  writeAll(toParentWrite, Buffer.concat(pieces));\n',
  ),
  check(obs) {
    const { ok, sentences } = runSentences(obs);
    if (obs.stuck) return { pass: false, sentences };
    // The message: what any of its processes wrote into a pipe the program
    // does not read from (a child may do the sending); the echo: what the
    // program read.
    const got = bytesMoved(obs, obs.pid, 'read');
    const echoPipes = pipesReadBy(obs, obs.pid);
    const messagePipes = new Set<number>();
    let sent = 0;
    for (const e of obs.events) {
      if (e.kind !== 'end' || e.call !== 'write' || e.error || e.pipe === undefined || echoPipes.has(e.pipe)) continue;
      messagePipes.add(e.pipe);
      sent += moved(e);
    }
    if (sent === 0) {
      sentences.push('The program sent nothing: its write() calls moved 0 bytes.');
      return { pass: false, sentences };
    }
    sentences.push(
      `Its processes' write() calls sent ${sent} bytes and the program's read() calls got ${got}` +
        (got === sent ? ': the whole echo came back.' : ': the echo is not all there.'),
    );
    // A message that the pipes it goes through hold whole, there and back,
    // never leaves both processes waiting in write(): no deadlock to avoid.
    const held = [...capacities(obs, new Set([...messagePipes, ...echoPipes])).values()];
    const room = held.reduce((sum, n) => sum + n, 0);
    const large = sent > room;
    if (!large)
      sentences.push(
        `That message is no larger than its pipes hold together (${room} bytes, ` +
          `${held.join(' + ')} as F_GETPIPE_SZ gives them): send one larger, ` +
          'as the starter does with pipes as pipe() makes them, for the deadlock to be possible.',
      );
    return { pass: ok && large && got === sent, sentences };
  },
};

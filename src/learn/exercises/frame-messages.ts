// Length-prefixed frames: two writes are not one message.
import type { Exercise } from './index';
import { forked, printedText, readsOf, runSentences } from './verdict';

const MESSAGES = ['hello', 'a pipe keeps no boundaries'];

const program = (
  send: string,
  receive: string,
  helpers: string,
) => `import { close, fork, pipe, read, waitpid, write } from 'bidirectional-ipc';

// The parent sends two messages; the child prints each on a line of its own.
const MESSAGES = ['${MESSAGES.join("', '")}'];
${helpers}
const [readEnd, writeEnd] = pipe();
${send}close(writeEnd);
const child = fork(() => {
  for (let i = 0; i < MESSAGES.length; i++) {
${receive}  }
});
close(readEnd);
waitpid(child);
`;

export const frameMessages: Exercise = {
  name: 'frame-messages',
  task: 'frame messages with a length so two writes stay two',
  starter: program(
    '// TODO: both messages are in the pipe before the child reads, and a read()\n' +
      '// returns whatever is there: two writes come out as one. Frame each message\n' +
      '// (its length in 4 bytes, then its bytes) and read a frame the same way.\n' +
      'for (const message of MESSAGES) write(writeEnd, message);\n',
    '    const buffer = Buffer.alloc(1024);\n' +
      '    const n = read(readEnd, buffer);\n' +
      "    console.log('message ' + (i + 1) + ': ' + buffer.toString('utf8', 0, n));\n",
    '',
  ),
  solution: program(
    'for (const message of MESSAGES) {\n' +
      '  const body = Buffer.from(message);\n' +
      '  const header = Buffer.alloc(4);\n' +
      '  header.writeUInt32BE(body.length);\n' +
      '  write(writeEnd, Buffer.concat([header, body]));\n' +
      '}\n',
    '    const length = readExactly(readEnd, 4).readUInt32BE(0);\n' +
      '    const message = readExactly(readEnd, length).toString();\n' +
      "    console.log('message ' + (i + 1) + ': ' + message);\n",
    '\n// Exactly length bytes: a read() may return fewer than asked.\n' +
      'function readExactly(fd: number, length: number): Buffer {\n' +
      '  const data = Buffer.alloc(length);\n' +
      '  let got = 0;\n' +
      '  while (got < length) {\n' +
      '    const n = read(fd, data, got);\n' +
      "    if (n === 0) throw new Error('end of file inside a frame');\n" +
      '    got += n;\n' +
      '  }\n' +
      '  return data;\n' +
      '}\n',
  ),
  check(obs) {
    const { ok, sentences } = runSentences(obs);
    if (obs.stuck) return { pass: false, sentences };
    const expected = MESSAGES.map((m, i) => `message ${i + 1}: ${m}`);
    const printed = obs.stdout.split('\n').filter(Boolean);
    const same = printed.length === expected.length && printed.every((line, i) => line === expected[i]);
    // The evidence: a read() of the child that returned more than the first message's bytes.
    const reads = forked(obs).flatMap((pid) => readsOf(obs, pid));
    const merged = reads.find((r) => r.bytes > Buffer.byteLength(MESSAGES[0]) + 4);
    if (!same) {
      const shown = printed.length > 4 ? printedText(printed.join('\n')) : JSON.stringify(printed);
      sentences.push(`It printed ${shown}; expected ${JSON.stringify(expected)}.`);
      if (merged)
        sentences.push(
          `A read() of the child returned ${merged.bytes} bytes at once ('${merged.text}'): the two ` +
            'writes came out of the pipe as one. A pipe is a stream of bytes: it keeps no boundaries ' +
            'between writes.',
        );
    } else sentences.push('Each message came out on its own line, whole.');
    // Right lines are not enough: the messages must have come out of the pipe.
    const needed = MESSAGES.reduce((sum, m) => sum + Buffer.byteLength(m), 0);
    const got = reads.reduce((sum, r) => sum + r.bytes, 0);
    if (got < needed)
      sentences.push(
        `The read() calls of a child got ${got} of the ${needed} bytes of the messages: ` +
          'what it printed did not all come through the pipe.',
      );
    return { pass: ok && same && got >= needed, sentences };
  },
};

// A reader that never sees end of file: its own process holds a write end.
import type { Exercise } from './index';
import { forked, pollSawHangup, readsOf, runSentences } from './verdict';

const program = (fix: string) => `import { close, fork, pipe, read, waitpid, write } from 'bidirectional-ipc';

// The parent sends some bytes; the child reads until end of file and counts them.
const [readEnd, writeEnd] = pipe();
const child = fork(() => {
${fix}  const buffer = Buffer.alloc(4096);
  let total = 0;
  let n: number;
  while ((n = read(readEnd, buffer)) > 0) total += n;
  console.log('child: end of file after ' + total + ' bytes');
});
close(readEnd);
write(writeEnd, 'every byte the child will get');
close(writeEnd);
const status = waitpid(child);
console.log('parent: the child exited with status ' + status.exitCode);
`;

export const closeUnusedEnds: Exercise = {
  name: 'close-unused-ends',
  task: 'make the reader see end of file',
  starter: program(
    '  // TODO: this child only reads, yet it holds a write end of the pipe too.\n' +
      '  // Close it here, or its read() below never sees end of file.\n',
  ),
  solution: program('  close(writeEnd); // the child never writes: only the parent holds a write end now\n'),
  check(obs) {
    const { ok, sentences } = runSentences(obs);
    const children = forked(obs);
    const readEof = children.some((pid) => readsOf(obs, pid).some((r) => r.bytes === 0));
    const hangup = !readEof && children.some((pid) => pollSawHangup(obs, pid));
    const eof = readEof || hangup;
    const pass = ok && eof;
    if (pass && readEof) sentences.push("The child's read() returned 0: end of file, once no write end was left open.");
    else if (pass) sentences.push("The child's poll() reported POLLHUP: no write end was left open.");
    else if (!obs.stuck && !eof) sentences.push('No read() of a child from a pipe returned 0 (end of file).');
    return { pass, sentences };
  },
};

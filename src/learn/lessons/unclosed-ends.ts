// The reader never sees end of file while its own process still holds the write end.
import * as fs from 'node:fs';
import { close, fork, pipe, read, write } from '../../index';
import { openFds } from '../../internal/proc';
import { killAndReap, waitBounded, type Lesson } from './common';

function reader(readEnd: number, writeEnd: number, closeOwnWriteEnd: boolean): number {
  return fork(() => {
    if (closeOwnWriteEnd) close(writeEnd);
    const buf = Buffer.alloc(64);
    while (read(readEnd, buf) > 0); // until end of file
  });
}

export const unclosedEnds: Lesson = {
  name: 'unclosed-ends',
  title: 'The reader never sees EOF because its own process still holds the write end',
  run(say) {
    say('The mistake: the child reads until end of file but keeps its copy of the\n' + 'write end.\n');
    let [r, w] = pipe();
    const inode = fs.fstatSync(r).ino;
    let pid = reader(r, w, false);
    write(w, 'all the data there is');
    close(w);
    close(r);
    const stuck = waitBounded(pid, 500) === null;
    const holders = openFds(pid)
      .filter((f) => f.pipe === inode)
      .map((f) => f.fd);
    say(
      '  the parent wrote and closed its write end;\n' +
        `  500 ms later the child is ${stuck ? 'still blocked in read()' : 'done'}.\n`,
    );
    say(
      `  /proc/${pid}/fd shows the child holding ${holders.length} descriptors of that pipe\n` +
        `  (fds ${holders.join(', ')}): its read end, and the write end it never closed.\n`,
    );
    say('  The kernel gives EOF only when no process holds a write end, and the child\n' + '  itself does.\n');
    killAndReap(pid);

    say('The fix: the child closes the write end it does not use.\n');
    [r, w] = pipe();
    pid = reader(r, w, true);
    write(w, 'all the data there is');
    close(w);
    close(r);
    const status = waitBounded(pid, 5000);
    say(`  the child saw EOF and exited with status ${status?.exitCode}.\n`);
    return { mistakeStuck: stuck, pipeDescriptorsHeld: holders.length, fixExitCode: status?.exitCode ?? null };
  },
};

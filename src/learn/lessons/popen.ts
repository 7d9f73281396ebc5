// popen(3) and pclose(3) built from pipe, fork, dup2, close, execvp and
// waitpid: a command's output read through a pipe ('r'), its input written
// through one ('w'), and the shell's exit status brought back by waitpid.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { close, dup2, execvp, fork, pipe, waitpid, write, type WaitStatus } from '../../index';
import { readAll } from '../../internal/io-loops';
import { openFds, processState } from '../../internal/proc';
import { blockedIn, waitBounded, waitUntil, type Lesson } from './common';

interface Popened {
  /** This process's end of the pipe: the command's stdout ('r') or stdin ('w'). */
  fd: number;
  pid: number;
}

/** popen(3): `sh -c command` in a child whose fd 1 ('r') or fd 0 ('w') is the other end of a pipe. */
function popen(command: string, mode: 'r' | 'w'): Popened {
  const [r, w] = pipe();
  const [mine, theirs, stdio] = mode === 'r' ? [r, w, 1] : [w, r, 0];
  const pid = fork(() => {
    dup2(theirs, stdio);
    close(r);
    close(w);
    execvp('sh', ['sh', '-c', command]);
  });
  close(theirs);
  return { fd: mine, pid };
}

/** pclose(3): close this end first (the command may be reading it until EOF), then wait. */
function pclose(p: Popened): WaitStatus {
  close(p.fd);
  return waitpid(p.pid);
}

const READ_COMMAND = 'echo popen reads this | tr a-z A-Z; exit 3';
const INPUT = 'written by the parent\n';

export const popenLesson: Lesson = {
  name: 'popen',
  title: 'popen(3) by hand: a pipe to sh -c; pclose is close + waitpid',
  run(say) {
    say(
      "popen(command, 'r'): pipe(); fork(); the child dup2()s the write end onto its\n" +
        'fd 1, closes both ends and execs sh -c command; the parent closes the write\n' +
        "end and reads the read end. 'w' is the same with the read end as fd 0.\n",
    );
    const reading = popen(READ_COMMAND, 'r');
    const output = readAll(reading.fd);
    const readStatus = pclose(reading);
    say(
      `  popen("${READ_COMMAND}", 'r')\n` +
        `  read ${JSON.stringify(output)} until EOF; pclose's waitpid: exited ${readStatus.exitCode},\n` +
        "  the shell's own exit status.\n",
    );

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'popen-lesson-'));
    try {
      const out = path.join(dir, 'out');
      const command = `exec tr a-z A-Z > ${out}`;
      const writing = popen(command, 'w');
      const inode = fs.fstatSync(writing.fd).ino;
      const stdinIsPipe = waitUntil(() => openFds(writing.pid).some((f) => f.fd === 0 && f.pipe === inode), 2000);
      write(writing.fd, INPUT);
      say(
        `popen(command, 'w'), with the command\n  ${command}\n` +
          `  /proc/${writing.pid}/fd/0 is this process's pipe:[${inode}]: ${stdinIsPipe}; ${INPUT.length} bytes\n` +
          '  written to it.\n',
      );
      say("The mistake: pclose's two calls the other way round, waitpid before close.\n");
      const stillRunning = waitBounded(writing.pid, 300) === null;
      const blocked = waitUntil(() => processState(writing.pid) === 'S' && /pipe/.test(blockedIn(writing.pid)), 2000);
      const state = `${processState(writing.pid)} in ${blockedIn(writing.pid)}`;
      const comm = fs.readFileSync(`/proc/${writing.pid}/comm`, 'utf8').trim();
      say(
        `  300 ms later the child still runs (${stillRunning}), state ${state}:\n` +
          `  ${comm} (its comm: the shell exec'd it) reads until EOF, which only the close\n` +
          '  can give. That waitpid would wait for ever.\n',
      );
      const writeStatus = pclose(writing);
      const written = fs.readFileSync(out, 'utf8');
      say(
        `The fix, pclose: close, then waitpid: exited ${writeStatus.exitCode}; the file holds\n` +
          `  ${JSON.stringify(written)}.\n`,
      );
      return {
        output,
        readExitCode: readStatus.exitCode,
        comm,
        stdinIsPipe,
        stillRunning,
        hungState: blocked ? 'S' : state,
        writeExitCode: writeStatus.exitCode,
        written,
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

// Writing after the reader is gone: SIGPIPE, which kills by default; EPIPE
// only where SIGPIPE is ignored, caught or blocked (pipe(7)).
import { spawnSync } from 'node:child_process';
import { close, dup2, execvp, fork, pipe, poll, POLLERR, POLLOUT, read, waitpid, write } from '../../index';
import { wrap } from '../../internal/text';
import type { Lesson } from './common';

/** Everything readable from `fd` until end of file. */
function readAll(fd: number): string {
  const buf = Buffer.alloc(1024);
  let text = '';
  for (let n; (n = read(fd, buf)) > 0;) text += buf.toString('utf8', 0, n);
  return text;
}

/**
 * Forks a child that runs sh, its stdout a pipe with no reader left, its
 * stderr a pipe read here; `restoreSigpipe`: the child first installs a
 * SIGPIPE handler, which execve(2) resets to the default action.
 */
function shIntoClosedPipe(restoreSigpipe: boolean): { status: string; said: string } {
  const [r, w] = pipe();
  close(r);
  const [errR, errW] = pipe();
  const pid = fork(() => {
    if (restoreSigpipe) process.on('SIGPIPE', () => {});
    close(errR);
    dup2(w, 1);
    dup2(errW, 2);
    close(w);
    close(errW);
    execvp('sh', ['sh', '-c', 'echo "anyone there?"; echo "still alive after the failed echo" >&2']);
  });
  close(w);
  close(errW);
  const said = readAll(errR).trim().replace(/\n/g, ' / ');
  close(errR);
  const status = waitpid(pid);
  return { status: status.signaled ? `${status.signal}` : `exit ${status.exitCode}`, said };
}

export const brokenPipe: Lesson = {
  name: 'broken-pipe',
  title: 'Writing after the reader is gone: death by SIGPIPE, or EPIPE where SIGPIPE is ignored',
  run(say) {
    say(
      'A write to a pipe that no process holds open for reading raises SIGPIPE,\n' +
        'whose default action kills the writer; only where SIGPIPE is ignored, caught\n' +
        'or blocked does write() fail with EPIPE instead (pipe(7)). Node, like the\n' +
        'Rust runtime, ignores SIGPIPE:\n',
    );
    let [r, w] = pipe();
    close(r);
    const [ready] = poll([{ fd: w, events: POLLOUT }], 0);
    say(
      '  poll() for POLLOUT on the write end, before any write:\n' +
        `  revents 0x${ready.revents.toString(16)}, POLLERR ${ready.error ? 'set' : 'not set'}: ` +
        'the kernel already says that no reader is left.\n',
    );
    let code = '';
    try {
      write(w, 'anyone there?');
    } catch (error) {
      code = (error as { code: string }).code;
      say(`  write() after the read end was closed: ${(error as Error).message}\n`);
    }
    close(w);

    say(
      'At the default action the kernel kills the writer.\n' +
        "execve(2) keeps an ignored signal ignored; libuv (Node's child_process)\n" +
        'resets every signal to its default in the child before exec. Here sh,\n' +
        'started by child_process, writes into the same kind of pipe:\n',
    );
    [r, w] = pipe();
    close(r);
    const sh = spawnSync('sh', ['-c', 'echo "anyone there?"; echo "not reached" >&2'], {
      stdio: ['ignore', w, 'pipe'],
      encoding: 'utf8',
    });
    close(w);
    say(
      `  sh ended by ${sh.signal ?? `exit ${sh.status}`}, before its next line${sh.stderr ? ` (stderr: ${sh.stderr.trim()})` : ''}.\n`,
    );
    say("The mistake: the same sh exec'd from a fork() child inherits the ignored\nSIGPIPE:\n");
    const inherited = shIntoClosedPipe(false);
    say(
      `  sh ended by ${inherited.status}${inherited.said ? `, and said:\n${wrap(`    ${inherited.said}`)}` : ''}.\n` +
        '  A filter in a pipeline (`prog | head`) should die quietly when its reader\n' +
        '  goes; this one does not.\n',
    );
    say(
      'The fix, for a program that ignores SIGPIPE: before exec, give the new\n' +
        'program the default action (here the child installs a SIGPIPE handler, and\n' +
        'execve resets a caught signal to its default):\n',
    );
    const restored = shIntoClosedPipe(true);
    say(
      `  sh ended by ${restored.status}${restored.said ? `, and said:\n${wrap(`    ${restored.said}`)}` : ', quietly'}.\n`,
    );
    say(
      'And in the program itself: treat EPIPE from write() as "the other side is\n' +
        'gone" and stop (the demo reports it in one line and exits 1), or ask first:\n' +
        'poll() sets POLLERR on a write end whose readers are all gone.\n',
    );
    return {
      pollErr: (ready.revents & POLLERR) !== 0,
      errorCode: code,
      defaultActionSignal: sh.signal,
      shWroteAfter: sh.stderr.includes('not reached'),
      execvpSurvived: inherited.said.includes('still alive'),
      restoredSignal: restored.status,
      restoredSaid: restored.said,
    };
  },
};

// Writing after the reader is gone: EPIPE where SIGPIPE is ignored, death where it is not.
import { spawnSync } from 'node:child_process';
import { close, dup2, execvp, fork, pipe, read, waitpid, write } from '../../index';
import type { Lesson } from './common';

export const brokenPipe: Lesson = {
  name: 'broken-pipe',
  title: 'Writing after the reader is gone: EPIPE, or death by SIGPIPE',
  run(say) {
    say('Node, like the Rust runtime, ignores SIGPIPE; a write to a pipe with no reader fails with EPIPE.\n');
    let [r, w] = pipe();
    close(r);
    let code = '';
    try {
      write(w, 'anyone there?');
    } catch (error) {
      code = (error as { code: string }).code;
      say(`  write() after the read end was closed: ${(error as Error).message}\n`);
    }
    close(w);

    say(
      'With SIGPIPE at its default action the kernel kills the writer instead. execve(2) keeps an ignored\n' +
        "signal ignored; it is libuv (Node's child_process) that resets every signal to its default in the child\n" +
        'before exec. Here sh, started by child_process, writes into the same kind of pipe:\n',
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
    say("The same sh exec'd from a fork() child with execvp inherits the ignored SIGPIPE, and gets EPIPE:\n");
    [r, w] = pipe();
    close(r);
    const [errR, errW] = pipe();
    const pid = fork(() => {
      close(errR);
      dup2(w, 1);
      dup2(errW, 2);
      execvp('sh', ['sh', '-c', 'echo "anyone there?"; echo "still alive after the failed echo" >&2']);
    });
    close(w);
    close(errW);
    const buf = Buffer.alloc(1024);
    let inherited = '';
    for (let n; (n = read(errR, buf)) > 0;) inherited += buf.toString('utf8', 0, n);
    close(errR);
    const execStatus = waitpid(pid);
    say(
      `  sh ended by ${execStatus.signaled ? execStatus.signal : `exit ${execStatus.exitCode}`}${inherited ? `, and said: ${inherited.trim().replace(/\n/g, ' / ')}` : ''}.\n`,
    );
    say(
      'The fix: a writer cannot know in advance that its reader has gone. Keep SIGPIPE ignored, treat\n' +
        'EPIPE from write() as "the other side is gone", and stop: the demo reports it in one line and exits 1.\n',
    );
    return {
      errorCode: code,
      defaultActionSignal: sh.signal,
      shWroteAfter: sh.stderr.includes('not reached'),
      execvpSurvived: inherited.includes('still alive'),
    };
  },
};

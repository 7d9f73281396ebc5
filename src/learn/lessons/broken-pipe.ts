// Writing after the reader is gone: EPIPE where SIGPIPE is ignored, death where it is not.
import { spawnSync } from 'node:child_process';
import { close, pipe, write } from '../../index';
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

    say('With SIGPIPE at its default action the kernel kills the writer instead. A program started by\n' +
      'child_process has its signals reset to the defaults; here sh writes into the same kind of pipe:\n');
    [r, w] = pipe();
    close(r);
    const sh = spawnSync('sh', ['-c', 'echo "anyone there?"; echo "not reached" >&2'], {
      stdio: ['ignore', w, 'pipe'],
      encoding: 'utf8',
    });
    close(w);
    say(`  sh ended by ${sh.signal ?? `exit ${sh.status}`}, before its next line${sh.stderr ? ` (stderr: ${sh.stderr.trim()})` : ''}.\n`);
    say('The fix: a writer cannot know in advance that its reader has gone. Keep SIGPIPE ignored, treat\n' +
      'EPIPE from write() as "the other side is gone", and stop: the demo reports it in one line and exits 1.\n');
    return { errorCode: code, defaultActionSignal: sh.signal, shWroteAfter: sh.stderr.includes('not reached') };
  },
};

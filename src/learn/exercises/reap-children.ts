// Every child reaped: no zombie left when the program ends.
import type { Exercise } from './index';
import { forked, runSentences } from './verdict';

const program = (waits: string) => `import { _exit, fork, waitpid } from 'bidirectional-ipc';

// Three workers, each ending with a status of its own.
const workers: number[] = [];
for (let i = 1; i <= 3; i++) workers.push(fork(() => _exit(i)));
${waits}`;

export const reapChildren: Exercise = {
  name: 'reap-children',
  task: 'reap every child: no zombie left at the end',
  starter: program(
    '// TODO: only the first worker is waited for; the others stay zombies (state Z\n' +
      '// in /proc) until this program ends. Reap every child and print its status.\n' +
      'const status = waitpid(workers[0]);\n' +
      "console.log('worker ' + status.pid + ' exited with status ' + status.exitCode);\n",
  ),
  solution: program(
    'for (const worker of workers) {\n' +
      '  const status = waitpid(worker); // blocks until it ends, then removes its entry\n' +
      "  console.log('worker ' + status.pid + ' exited with status ' + status.exitCode);\n" +
      '}\n',
  ),
  check(obs) {
    // The workers end with statuses 1, 2, 3 by design: what counts is that each was reaped.
    const run = runSentences(obs, true);
    const sentences = run.sentences;
    let pass = run.ok;
    if (obs.stuck) return { pass, sentences };
    if (forked(obs).length === 0) {
      pass = false;
      sentences.push('No fork() of the program made a child: there was nothing to reap.');
    }
    if (obs.end === null) {
      pass = false;
      sentences.push('It never reached its end, where the check looks at its children.');
    } else {
      const zombies = obs.end.children.filter((c) => c.state === 'Z');
      const running = obs.end.children.filter((c) => c.state !== 'Z');
      if (zombies.length > 0) {
        pass = false;
        sentences.push(
          `As it ended, /proc showed ${zombies.length} of its children in state Z, zombies: ` +
            `pid ${zombies.map((z) => z.pid).join(', ')}. A child that has ended stays a zombie until ` +
            'its parent reaps it with waitpid().',
        );
      }
      if (running.length > 0) {
        pass = false;
        sentences.push(
          `As it ended, ${running.length} of its children were still running (pid ` +
            `${running.map((c) => c.pid).join(', ')}): never waited for, they become orphans.`,
        );
      }
      if (pass && obs.end.children.length === 0)
        sentences.push('As it ended, /proc showed no child of it at all: every one was reaped.');
    }
    return { pass, sentences };
  },
};

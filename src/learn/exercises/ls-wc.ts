// `ls | wc -l` built by hand: pipe, fork, dup2, close, execvp, waitpid.
import type { Exercise } from './index';
import { execs, fdText, printedText, runSentences } from './verdict';

const program = (
  lsCloses: string,
  wcCloses: string,
  parentCloses: string,
) => `import { close, dup2, execvp, fork, pipe, waitpid } from 'bidirectional-ipc';

// ls | wc -l, as a shell runs it: ls writes into the pipe, wc -l reads it.
const [readEnd, writeEnd] = pipe();
const ls = fork(() => {
  dup2(writeEnd, 1); // ls's stdout is the pipe's write end
${lsCloses}  execvp('ls', ['ls']);
});
const wc = fork(() => {
  dup2(readEnd, 0); // wc's stdin is the pipe's read end
${wcCloses}  execvp('wc', ['wc', '-l']);
});
${parentCloses}for (const pid of [ls, wc]) waitpid(pid);
`;

export const lsWc: Exercise = {
  name: 'ls-wc',
  task: 'build ls | wc -l from pipe, fork, dup2, close, execvp',
  starter: program(
    '  // TODO: close the descriptors ls does not need before it runs\n',
    '  // TODO: close the descriptors wc does not need before it runs\n',
    '// TODO: the parent uses neither end of the pipe\n',
  ),
  solution: program(
    '  close(readEnd);\n  close(writeEnd); // fd 1 is now the write end\n',
    '  close(readEnd); // fd 0 is now the read end\n  close(writeEnd);\n',
    'close(readEnd);\nclose(writeEnd);\n',
  ),
  shell: 'ls | wc -l',
  check(obs) {
    const run = runSentences(obs);
    const sentences = run.sentences;
    let pass = run.ok;
    if (!obs.stuck) {
      const expected = (obs.shellOutput ?? '').trim();
      const printed = obs.stdout.trim();
      if (printed === expected)
        sentences.push(`It printed ${printed}, as sh's \`ls | wc -l\` does in the same folder.`);
      else {
        pass = false;
        sentences.push(
          `It printed ${printedText(printed)}; sh's \`ls | wc -l\` prints ${expected} in the same folder.`,
        );
      }
    }
    const ran = execs(obs);
    for (const program of ['ls', 'wc']) {
      if (!ran.some((e) => e.program === program)) {
        pass = false;
        if (!obs.stuck) sentences.push(`No execvp('${program}', ...) was made.`);
      }
    }
    for (const e of ran) {
      if (e.leaked.length === 0) continue;
      pass = false;
      sentences.push(
        `${e.program} (pid ${e.pid}) was exec'd holding ${e.leaked.map(fdText).join(', ')}: ` +
          'descriptors it never uses, inherited through execvp() (close them before it).',
      );
    }
    if (pass) sentences.push("ls and wc were exec'd with stdin, stdout and stderr only: no pipe end leaked.");
    return { pass, sentences };
  },
};

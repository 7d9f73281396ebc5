// `printf ... | sort | uniq -c` built by hand, and the status a child gives
// its parent when its exec fails: 127, the shell's "command not found", or
// 126, "found but cannot run".
import { spawnSync } from 'node:child_process';
import { _exit, close, dup2, execvp, fork, isSyscallError, pipe, read, waitpid, write } from '../../index';
import { type Lesson } from './common';

const WORDS = 'pear\napple\npear\nfig\napple\npear\n';
const MISSING = 'no-such-program';
/** A file that exists but that execve(2) refuses with EACCES (not a regular file, no x bit). */
const NOT_EXECUTABLE = '/dev/null';

/** Where a stage's stdio goes, and every pipe end it must close after dup2. */
interface Wiring {
  stdin: number;
  stdout: number;
  stderr: number;
  ends: number[];
}

/**
 * Forks a child that makes its stdio what `wiring` says, closes every pipe
 * end, and execs `argv`. `exitAsShell`: a failed exec ends the child (after
 * one line on its stderr) with 127 when the program is not found, 126 when
 * it is found but cannot run, as a shell does; else it is left to throw.
 */
function stage(argv: string[], wiring: Wiring, exitAsShell: boolean): number {
  return fork(() => {
    for (const [from, to] of [
      [wiring.stdin, 0],
      [wiring.stdout, 1],
      [wiring.stderr, 2],
    ]) {
      if (from !== to) dup2(from, to);
    }
    for (const fd of wiring.ends) close(fd);
    if (!exitAsShell) execvp(argv[0], argv);
    try {
      execvp(argv[0], argv);
    } catch (error) {
      write(2, `${argv[0]}: ${isSyscallError(error) ? error.code : String(error)}\n`);
      _exit(isSyscallError(error, 'ENOENT') ? 127 : 126);
    }
  });
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (let n; (n = read(fd, buf)) > 0;) text += buf.toString('utf8', 0, n);
  return text;
}

/**
 * Runs `first | sort | uniq -c`: two pipes between the stages, a third for
 * uniq's output, a fourth for the first stage's stderr. Returns what came
 * out of each and the three exit statuses, in order.
 */
function run(first: string[], exitAsShell: boolean): { out: string; err: string; codes: (number | null)[] } {
  const [a, aW] = pipe();
  const [b, bW] = pipe();
  const [out, outW] = pipe();
  const [err, errW] = pipe();
  const ends = [a, aW, b, bW, out, outW, err, errW];
  const pids = [
    stage(first, { stdin: 0, stdout: aW, stderr: errW, ends }, exitAsShell),
    stage(['sort'], { stdin: a, stdout: bW, stderr: 2, ends }, exitAsShell),
    stage(['uniq', '-c'], { stdin: b, stdout: outW, stderr: 2, ends }, exitAsShell),
  ];
  for (const fd of [a, aW, b, bW, outW, errW]) close(fd);
  const text = readAll(out);
  const errText = readAll(err);
  close(out);
  close(err);
  const codes = pids.map((pid) => waitpid(pid).exitCode);
  return { out: text, err: errText, codes };
}

const indent = (text: string): string => text.replace(/^(?=.)/gm, '    ');

export const threeStagePipeline: Lesson = {
  name: 'three-stage-pipeline',
  title: 'a | b | c by hand; a failed exec exits 127',
  run(say) {
    const words = WORDS.trim().split('\n');
    say(
      `printf '%s' "$WORDS" | sort | uniq -c, WORDS being ${words.length} lines\n` +
        `(${words.join(' ')}), as a shell runs it: two pipes; three\n` +
        'children, each dup2s its ends onto fd 0 and 1, closes every pipe end it\n' +
        'was given and execs its program; the parent closes them all and waits.\n',
    );
    const good = run(['printf', '%s', WORDS], true);
    const shell = spawnSync('sh', ['-c', `printf '%s' "$1" | sort | uniq -c`, 'sh', WORDS], { encoding: 'utf8' });
    const same = good.out === shell.stdout;
    say(
      `${indent(good.out)}  waitpid: printf, sort and uniq exited ${good.codes.join(', ')}; sh -c prints ` +
        `${same ? 'the same' : 'otherwise'}.\n`,
    );

    say(
      `The mistake: the first program does not exist (${MISSING}) and the\n` +
        'child leaves the failed execvp to end it as any uncaught error does.\n',
    );
    const thrown = run([MISSING], false);
    say(
      `  its stderr: ${thrown.err.split('\n')[0].slice(0, 62)}\n` +
        `  waitpid: exited ${thrown.codes.join(', ')}. Status ${thrown.codes[0]} is what a program that ran\n` +
        '  and failed gives too: the parent cannot tell "not found".\n',
    );

    const sh = spawnSync('sh', ['-c', MISSING], { encoding: 'utf8' });
    say(
      'The fix: catch the failed exec and _exit(127) if the program is not found,\n' +
        "126 if it is found but cannot run, the shell's convention:\n" +
        `sh -c '${MISSING}' exits ${sh.status} here.\n`,
    );
    const fixed = run([MISSING], true);
    say(
      `  its stderr: ${fixed.err.trim()}\n` +
        `  waitpid: exited ${fixed.codes.join(', ')}; sort and uniq printed ` +
        `${fixed.out === '' ? 'nothing' : JSON.stringify(fixed.out)}.\n`,
    );
    const notExecutable = run([NOT_EXECUTABLE], true);
    const shNotExecutable = spawnSync('sh', ['-c', NOT_EXECUTABLE], { encoding: 'utf8' });
    say(
      `  ${NOT_EXECUTABLE} first (it exists, but exec(2) refuses it):\n` +
        `  ${notExecutable.err.trim()}; exited ${notExecutable.codes.join(', ')}; ` +
        `sh -c '${NOT_EXECUTABLE}' exits ${shNotExecutable.status}.\n`,
    );
    return {
      output: good.out,
      shellOutput: shell.stdout,
      exitCodes: good.codes,
      thrownCodes: thrown.codes,
      thrownStderr: thrown.err,
      shellNotFound: sh.status,
      fixedCodes: fixed.codes,
      fixedStderr: fixed.err,
      fixedOutput: fixed.out,
      notExecutableCodes: notExecutable.codes,
      notExecutableStderr: notExecutable.err,
      shellNotExecutable: shNotExecutable.status,
    };
  },
};

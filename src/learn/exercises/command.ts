// `bidirectional-ipc exercise`: lists the exercises, writes a starter, and
// checks a student's program from what the kernel did when it ran.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXERCISES, programText, type Exercise, type Language } from './index';
import { observe, typeScriptFlags, TYPESCRIPT_FILE } from './observe';
import { wrap } from '../../internal/text';
import { parseCommandLine, usageError as commandLineMistake } from '../../internal/usage';

export const EXERCISE_USAGE = `Usage: bidirectional-ipc exercise --list
       bidirectional-ipc exercise NAME [--js | --ts] [--out FILE]
       bidirectional-ipc exercise check NAME FILE

Exercises checked by the kernel. 'exercise NAME' writes a starter program
(NAME.ts, or NAME.js with --js) that imports bidirectional-ipc and holds a
mistake or a gap; a TODO comment says what to do. 'exercise check NAME FILE'
runs FILE, records its calls and watches /proc (descriptor tables, states,
where each process blocks), and says whether it does the task and, if not,
what the kernel saw. A program that hangs is stopped and the check says
where it was blocked. Exit status: 0 passed, 1 not yet, 2 usage error.

Options:
  --list      list the exercises
  --js        write the starter in JavaScript
  --ts        write the starter in TypeScript (the default on Node 22.6
              and later, which run it as is; JavaScript is on older ones)
  --out FILE  write the starter to FILE instead of NAME.ts or NAME.js
  -h, --help  show this help
`;

function usageError(message: string, hint = 'see help exercise'): never {
  return commandLineMistake(message, 'exercise', hint);
}

function findExercise(name: string): Exercise {
  const exercise = EXERCISES.find((e) => e.name === name);
  if (!exercise) usageError(`no exercise '${name}'`, 'exercise --list shows them');
  return exercise;
}

/** How this Node runs a program file: 'node FILE', with the flag older 22s need for TypeScript. */
function runCommand(file: string): string {
  const flags = TYPESCRIPT_FILE.test(file) ? (typeScriptFlags() ?? []) : [];
  return ['node', ...flags, file].join(' ');
}

/** The one line to give when this Node cannot run TypeScript. */
function noTypeScript(): string {
  return `Node ${process.versions.node} cannot run TypeScript; use --js`;
}

function list(): void {
  const width = Math.max(...EXERCISES.map((e) => e.name.length));
  for (const e of EXERCISES) process.stdout.write(`${e.name.padEnd(width)}  ${e.task}\n`);
}

/** The "type" of the package.json nearest to `dir` ('commonjs', 'module'), or undefined. */
function packageType(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(at, 'package.json'), 'utf8')) as { type?: string }).type;
    } catch {
      if (path.dirname(at) === at) return undefined; // none, or one that is not JSON: Node's default
    }
  }
}

/**
 * NAME.ts or NAME.js, unless the folder's package.json would make Node read
 * it as the other module system: the TypeScript starter uses import (a
 * "commonjs" folder, as npm init makes, needs .mts), the JavaScript one
 * require() (a "module" folder needs .cjs).
 */
function starterFile(exercise: Exercise, language: Language): string {
  const type = packageType('.');
  if (language === 'ts') return `${exercise.name}.${type === 'commonjs' ? 'mts' : 'ts'}`;
  return `${exercise.name}.${type === 'module' ? 'cjs' : 'js'}`;
}

function writeStarter(exercise: Exercise, language: Language, out: string | undefined, note?: string): void {
  const file = out ?? starterFile(exercise, language);
  try {
    fs.writeFileSync(file, programText(exercise, 'starter', language, path.basename(file)), { flag: 'wx' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') usageError(`${file} exists; not overwriting it`, 'remove it or give --out FILE');
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') usageError(`cannot write ${file} (${code})`);
    throw error;
  }
  const lines = [`wrote ${file}: ${exercise.task}.`];
  if (note) lines.push(note);
  if (!out && !file.endsWith(`.${language}`))
    lines.push(`(.${file.split('.').pop()}: the package.json here says "type": "${packageType('.')}")`);
  lines.push(`run it:   ${runCommand(file)}`);
  lines.push(`check it: npx bidirectional-ipc exercise check ${exercise.name} ${file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function check(exercise: Exercise, file: string): Promise<void> {
  if (!fs.existsSync(file)) usageError(`no file '${file}'`);
  if (!fs.statSync(file).isFile()) usageError(`'${file}' is not a file`);
  if (!/\.(ts|js|cjs|mjs|mts|cts)$/.test(file)) usageError(`'${file}' is not a .ts or .js file`);
  if (TYPESCRIPT_FILE.test(file) && typeScriptFlags() === null) usageError(noTypeScript(), ''); // Node 22.6+ can
  const obs = await observe(path.resolve(file), exercise.shell);
  const verdict = exercise.check(obs);
  const out = [
    `exercise ${exercise.name}: ${verdict.pass ? 'PASSED' : 'NOT YET'}`,
    ...verdict.sentences.map((s) => wrap(`  ${s.replace(/\s+/g, ' ').trim()}`, { width: 78 })),
  ];
  if (!verdict.pass && obs.stdout.trim()) {
    out.push(
      'What it printed:',
      ...obs.stdout
        .trimEnd()
        .split('\n')
        .slice(0, 10)
        .map((l) => `  | ${l}`.slice(0, 78)),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  process.exitCode = verdict.pass ? 0 : 1;
}

/** The `exercise` command, given the arguments after `exercise`. */
export function runExerciseCommand(argv: string[]): void {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      list: { type: 'boolean' },
      js: { type: 'boolean' },
      ts: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    usageError,
  );
  if (values.help) {
    process.stdout.write(EXERCISE_USAGE);
    return;
  }
  if (values.list) {
    if (positionals.length > 0) usageError(`unexpected argument '${positionals[0]}' after --list`);
    return list();
  }
  if (positionals.length === 0) usageError('name an exercise', 'exercise --list shows them');
  if (positionals[0] === 'check') {
    if (values.js || values.ts || values.out !== undefined) usageError('check takes no --js, --ts or --out');
    if (positionals.length !== 3) usageError('check takes NAME and FILE');
    void check(findExercise(positionals[1]), positionals[2]);
    return;
  }
  if (positionals.length > 1) usageError(`unexpected argument '${positionals[1]}'`);
  const exercise = findExercise(positionals[0]);
  if (values.js && values.ts) usageError('--js or --ts: one of them');
  if (values.out === '') usageError("option '--out' needs a path");
  const typeScript = typeScriptFlags() !== null;
  if (values.ts && !typeScript) usageError(noTypeScript(), '');
  if (values.js || typeScript) return writeStarter(exercise, values.js ? 'js' : 'ts', values.out);
  writeStarter(exercise, 'js', values.out, `(JavaScript: Node ${process.versions.node} cannot run TypeScript)`);
}

#!/usr/bin/env node
// The `bidirectional-ipc` command: the tutorial demo and its companions.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LISTED_CALLS } from './calls';
import type { ErrorCode } from './errors';
import { PACKAGE_ROOT } from './internal/paths';
import { progress, wrap } from './internal/text';
import { iterationsOption, parseCommandLine, usageError } from './internal/usage';

// The companions are loaded when their command runs: the demo's start-up time
// is compared with the Rust program's, so it loads only what it uses. The
// modules that load the addon come the same way, inside run(), so that a
// missing addon is one line (see the end of this file).
const load = {
  ipc: () => require('./index') as typeof import('./index'),
  ioLoops: () => require('./internal/io-loops') as typeof import('./internal/io-loops'),
  tutorial: () => require('./tutorial/main') as typeof import('./tutorial/main'),
  compare: () => require('./compare/compare') as typeof import('./compare/compare'),
  diagram: () => require('./learn/diagram') as typeof import('./learn/diagram'),
  lessons: () => (require('./learn/lessons/index') as typeof import('./learn/lessons/index')).LESSONS,
  steps: () => require('./learn/steps') as typeof import('./learn/steps'),
  tracePrinter: () => require('./learn/trace-printer') as typeof import('./learn/trace-printer'),
  view: () => require('./view/index') as typeof import('./view/index'),
  watchdog: () => require('./learn/watchdog') as typeof import('./learn/watchdog'),
  exercises: () => require('./learn/exercises/command') as typeof import('./learn/exercises/command'),
};

const USAGE = `Usage: bidirectional-ipc [COMMAND] [options]

Runs the Rust pipes tutorial (two pipes, fork, ten messages and their echoes)
on real pipe(2), fork(2), read(2), write(2), close(2) and waitpid(2) calls.
Prints the same 20 lines as the Rust program.

Commands:
  demo            run the tutorial program (the default)
  compare         build the Rust original, run both programs under strace, and
                  show their output, times and system calls side by side
  steps           walk through the tutorial's steps, showing after each one what
                  the kernel holds: descriptor tables, open pipes, queued bytes
  lesson NAME     run a lesson: a classic mistake, what the kernel did, the fix
  lesson --list   list the lessons
  view            replay a run of the demo or a lesson in a web page
                  (bidirectional-ipc view --help)
  exercise NAME   write a starter program with a mistake to fix (--js, --ts)
  exercise check NAME FILE
                  run FILE and say from what the kernel did whether it works
  exercise --list list the exercises (help exercise: the command's own help)
  help [COMMAND]  show this help (help view: the view command's own)

Options:
  --trace[=CALLS]    (demo, steps, lesson) print the system calls to stderr as
                     they happen; CALLS is a comma-separated list (read,write),
                     'internal' adds a lesson's own polling, 'all' is everything
  --diagram PATH     (demo) write a Mermaid sequence diagram of the run to PATH
                     (.md: in a mermaid block, .mmd: bare, -: to stdout)
  --iterations N     (demo) exchange N messages instead of the tutorial's 10
  --no-pause         (steps) do not wait for Enter between steps
  --full             (steps) print every table at every step, not what changed
  --predict          (steps) ask before each step what it will do, one answer
                     a line from stdin, then show what the kernel says
  --list             (lesson) list the lessons
  --json             (compare) print the result as JSON
  --diff-only        (compare) print only the lines where the two differ
  -v, --version      print the version
  -h, --help         show this help
`;

/** Which options each command takes; any other is refused the same way. */
const APPLIES: Record<string, readonly string[]> = {
  demo: ['trace', 'diagram', 'iterations'],
  steps: ['trace', 'no-pause', 'full', 'predict'],
  lesson: ['trace', 'list'],
  compare: ['json', 'diff-only'],
  help: [],
};

function fail(message: string): never {
  process.stderr.write(`bidirectional-ipc: ${message}\n`);
  process.exit(1);
}

/** How the demo's child ended, if it has: for the one line that reports a failure. */
function childFate(): string {
  try {
    const { waitpid, WNOHANG } = load.ipc();
    const child = waitpid(-1, WNOHANG);
    if (child.pid === 0) return '';
    if (child.signaled) return ` (the child, pid ${child.pid}, was killed by ${child.signal})`;
    return ` (the child, pid ${child.pid}, exited with status ${child.exitCode})`;
  } catch {
    return ''; // no child: the failure came before the fork, or in the child itself
  }
}

function runDemo(iterations: number | undefined): void {
  const outcome = load.tutorial().main(iterations);
  if (outcome.role === 'child') return; // the child ends when its loop is empty, status 0
  const child = outcome.child;
  if (child.signaled) fail(`the child was killed by ${child.signal}`);
  if (child.exitCode !== 0) fail(`the child exited with status ${child.exitCode}`);
}

const parentPid = process.pid;

/** Writes straight to fd 1, synchronously: nothing is left queued when a lesson forks. */
function say(text: string): void {
  try {
    const { untracedWrite, writeAll } = load.ioLoops();
    writeAll(1, text, untracedWrite);
  } catch (error) {
    if ((error as { code?: string }).code === 'EPIPE') process.exit(0); // the reader has gone (| head): stop quietly
    throw error;
  }
}

function runLesson(name: string | undefined, list: boolean): void {
  const LESSONS = load.lessons();
  if (list) {
    const width = Math.max(...LESSONS.map((l) => l.name.length));
    const indent = ' '.repeat(width + 2);
    for (const lesson of LESSONS) say(`${wrap(`${lesson.name.padEnd(width)}  ${lesson.title}`, { indent })}\n`);
    return;
  }
  const lesson = LESSONS.find((l) => l.name === name)!;
  say(`${wrap(`${lesson.name}: ${lesson.title}`, { indent: '  ' })}\n\n`);
  lesson.run(say);
}

/**
 * Runs the demo or a lesson once its watchdog is running (which, past its
 * bound, reports what is blocked and ends them); a failure ends with one line.
 */
function guarded(command: () => void): void {
  void load
    .watchdog()
    .startWatchdog(['bidirectional-ipc', ...process.argv.slice(2)].join(' '))
    .then(() => {
      try {
        command();
      } catch (error) {
        const e = error as Error & { code?: string };
        fail(`${e.code ? e.message : String(e.stack ?? e)}${childFate()}`);
      }
    });
}

function runCompare(json: boolean, diffOnly: boolean): void {
  const { compare, formatReport, MissingToolError, toJSON } = load.compare();
  let result;
  try {
    result = compare(progress('bidirectional-ipc compare'));
  } catch (error) {
    if (error instanceof MissingToolError) fail(`compare: ${error.message}`);
    throw error;
  }
  process.stdout.write(json ? `${JSON.stringify(toJSON(result), null, 2)}\n` : formatReport(result, { diffOnly }));
  const same = result.stdout.identical && result.parent.identical && result.child.identical;
  if (!same) process.exitCode = 1;
}

/** Checks that `option`'s file `target` can be written, before anything runs. */
function checkWritableTarget(option: string, target: string, command?: 'view'): void {
  if (target === '-') return;
  const dir = path.dirname(path.resolve(target));
  try {
    if (!fs.statSync(dir).isDirectory()) usageError(`${option}: '${dir}' is not a directory`, command);
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') usageError(`${option}: no directory '${dir}'`, command);
    if (code === 'EACCES') usageError(`${option}: cannot write in '${dir}'`, command);
    throw error;
  }
  if (fs.existsSync(target) && fs.statSync(target).isDirectory())
    usageError(`${option}: '${target}' is a directory`, command);
  if (fs.existsSync(target) && !isWritable(target)) usageError(`${option}: cannot write '${target}'`, command);
}

function isWritable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * What `view` would find out only after running the program: a file it
 * cannot write (--html, --json), a recording that is not JSON (--from).
 */
function checkViewFiles(argv: string[]): void {
  argv.forEach((arg, i) => {
    const [option, inline] = arg.startsWith('--') ? arg.split(/=(.*)/s, 2) : [arg];
    const value = inline ?? argv[i + 1];
    if (value === undefined) return;
    if (option === '--html' || option === '--json') checkWritableTarget(option, value, 'view');
    if (option === '--from' && fs.existsSync(value)) {
      try {
        JSON.parse(fs.readFileSync(value, 'utf8'));
      } catch (error) {
        if (error instanceof SyntaxError) usageError(`--from: ${value} is not JSON (${error.message})`, 'view');
      }
    }
  });
}

interface TraceChoice {
  only?: string[];
  internal: boolean;
}

/** --trace, --trace=all, --trace=read,write,internal. */
function traceChoice(value: string): TraceChoice {
  if (value === '' || value === 'all') return { internal: value === 'all' };
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const name of names) {
    if (name !== 'internal' && !(LISTED_CALLS as readonly string[]).includes(name)) {
      usageError(`unknown call '${name}' in --trace (calls: ${LISTED_CALLS.join(', ')}, internal, all)`);
    }
  }
  const only = names.filter((n) => n !== 'internal');
  return { only: only.length > 0 ? only : undefined, internal: names.includes('internal') };
}

function version(): string {
  return (require(path.join(PACKAGE_ROOT, 'package.json')) as { version: string }).version;
}

function run(argv: string[]): void {
  if (argv[0] === 'view') {
    checkViewFiles(argv.slice(1));
    return load.view().runView(argv.slice(1)); // its own options
  }
  if (argv[0] === 'exercise') return load.exercises().runExerciseCommand(argv.slice(1)); // its own options
  if (argv[0] === 'help' && argv[1] === 'exercise' && argv.length === 2) {
    process.stdout.write(load.exercises().EXERCISE_USAGE);
    return;
  }
  // A bare --trace means every call; parseArgs wants a value for a string option.
  const args = argv.map((arg) => (arg === '--trace' ? '--trace=' : arg));
  const { values, positionals } = parseCommandLine(args, {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    json: { type: 'boolean' },
    'diff-only': { type: 'boolean' },
    trace: { type: 'string' },
    diagram: { type: 'string' },
    iterations: { type: 'string' },
    'no-pause': { type: 'boolean' },
    full: { type: 'boolean' },
    predict: { type: 'boolean' },
    list: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`bidirectional-ipc ${version()}\n`);
    return;
  }
  const [command = 'demo', ...rest] = positionals;
  if (!(command in APPLIES)) usageError(`unknown command '${command}'`);
  for (const option of Object.keys(values)) {
    if (!APPLIES[command].includes(option)) usageError(`option '--${option}' does not apply to '${command}'`);
  }
  if (command === 'help') {
    // help COMMAND: the usage that covers it (view has its own).
    if (rest.length > 1) usageError(`unexpected argument '${rest[1]}'`);
    if (rest.length === 1 && rest[0] !== 'view' && !(rest[0] in APPLIES)) usageError(`unknown command '${rest[0]}'`);
    process.stdout.write(rest[0] === 'view' ? load.view().VIEW_USAGE : USAGE);
    return;
  }
  if (command === 'lesson') {
    const names = load.lessons().map((l) => l.name);
    if (values.list && rest.length > 0) usageError(`unexpected argument '${rest[0]}' after --list`);
    if (!values.list && rest.length === 0) usageError(`lesson: name a lesson (lesson --list shows them)`);
    if (rest.length > 1) usageError(`unexpected argument '${rest[1]}'`);
    if (!values.list && !names.includes(rest[0]))
      usageError(`lesson: no lesson '${rest[0]}' (lesson --list shows the ${names.length})`);
  } else if (rest.length > 0) {
    usageError(`unexpected argument '${rest[0]}'`);
  }
  const iterations = values.iterations === undefined ? undefined : iterationsOption(values.iterations, 100_000);
  let recording: string | undefined;
  if (values.diagram !== undefined) {
    if (values.diagram === '') usageError("option '--diagram' needs a path");
    checkWritableTarget('--diagram', values.diagram);
    recording = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-')), 'calls.jsonl');
    process.on('exit', () => {
      if (process.pid === parentPid) fs.rmSync(path.dirname(recording!), { recursive: true, force: true });
    });
  }
  if (values.trace !== undefined || recording) {
    const choice = values.trace !== undefined ? traceChoice(values.trace) : { internal: false };
    // The tracer's log is only read through the descriptors it opens at the start, so its
    // directory can go at once: nothing is left behind, even after Ctrl-C.
    const scratch = recording ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-trace-'));
    load.tracePrinter().startTracing({
      print: values.trace !== undefined,
      only: choice.only,
      internal: choice.internal,
      recordTo: recording ?? path.join(scratch!, 'calls.jsonl'),
      // The lessons' pipes are not the tutorial's: they are named pipe1_read, pipe1_write, ...
      pipes: command === 'lesson' ? [] : undefined,
    });
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
  switch (command) {
    case 'demo':
      return guarded(() => {
        runDemo(iterations);
        if (recording && process.pid === parentPid) load.diagram().writeDiagram(recording, values.diagram!);
      });
    case 'steps': {
      // Ctrl-C: end like the demo does (128 + SIGINT); the steps' exit handler kills a stopped child.
      const interrupted = () => process.exit(130);
      process.on('SIGINT', interrupted);
      void load
        .steps()
        .runSteps({
          pause: !values['no-pause'] && !values.predict && process.stdin.isTTY === true,
          predict: values.predict ? process.stdin : undefined,
          full: values.full === true,
          out: say,
          onInterrupt: interrupted,
        })
        .then(() => process.off('SIGINT', interrupted));
      return;
    }
    case 'lesson':
      if (values.list) return runLesson(undefined, true);
      return guarded(() => runLesson(rest[0], false));
    case 'compare':
      runCompare(values.json === true, values['diff-only'] === true);
      return;
  }
}

/** The errors of an addon that is not there or does not load: the install's business, not a bug here. */
const ADDON_MISSING: readonly string[] = [
  'ERR_ADDON_NOT_BUILT',
  'ERR_ADDON_NOT_LOADED',
  'ERR_UNSUPPORTED_PLATFORM',
] satisfies ErrorCode[];

try {
  run(process.argv.slice(2));
} catch (error) {
  if (ADDON_MISSING.includes((error as { code?: string }).code ?? '')) fail((error as Error).message);
  throw error;
}

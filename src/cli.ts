#!/usr/bin/env node
// The `bidirectional-ipc` command: the tutorial demo and its companions.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { waitpid, WNOHANG } from './index';
import { main } from './tutorial/main';

// The companions are loaded when their command runs: the demo's start-up time
// is compared with the Rust program's, so it loads only what it uses.
const load = {
  compare: () => require('./compare/compare') as typeof import('./compare/compare'),
  diagram: () => require('./learn/diagram') as typeof import('./learn/diagram'),
  lessons: () => (require('./learn/lessons/index') as typeof import('./learn/lessons/index')).LESSONS,
  steps: () => require('./learn/steps') as typeof import('./learn/steps'),
  trace: () => require('./learn/trace') as typeof import('./learn/trace'),
  view: () => require('./view/index') as typeof import('./view/index'),
};

const USAGE = `Usage: bidirectional-ipc [demo] [options]

Runs the Rust pipes tutorial (two pipes, fork, ten messages and their echoes)
on real pipe(2), fork(2), read(2), write(2), close(2) and waitpid(2) calls.
Prints the same 20 lines as the Rust program.

Commands:
  demo            run the tutorial program (the default)
  compare         build the Rust original, run both programs under strace, and
                  show their output, times and system calls side by side
  steps           walk through the tutorial's steps, showing after each one the
                  descriptor tables of parent and child, read from /proc
  lesson NAME     run a lesson: a classic mistake, what the kernel did, the fix
  lesson --list   list the lessons
  view            replay a run of the demo or a lesson in a web page
                  (bidirectional-ipc view --help)

Options:
  --trace         (demo, lesson) print every system call to stderr as it happens
  --diagram FILE  (demo) write a Mermaid sequence diagram of the run to FILE
  --no-pause      (steps) do not wait for Enter between steps
  --json          (compare) print the result as JSON
  -h, --help      show this help
`;

function fail(message: string): never {
  process.stderr.write(`bidirectional-ipc: ${message}\n`);
  process.exit(1);
}

/** How the demo's child ended, if it has: for the one line that reports a failure. */
function childFate(): string {
  try {
    const child = waitpid(-1, WNOHANG);
    if (child.pid === 0) return '';
    if (child.signaled) return ` (the child, pid ${child.pid}, was killed by ${child.signal})`;
    return ` (the child, pid ${child.pid}, exited with status ${child.exitCode})`;
  } catch {
    return ''; // no child: the failure came before the fork, or in the child itself
  }
}

function runDemo(): void {
  const outcome = main();
  if (outcome.role === 'child') return; // the child ends when its loop is empty, status 0
  const child = outcome.child;
  if (child.signaled) fail(`the child was killed by ${child.signal}`);
  if (child.exitCode !== 0) fail(`the child exited with status ${child.exitCode}`);
}

const parentPid = process.pid;

/** Writes straight to fd 1, synchronously: nothing is left queued when a lesson forks. */
function say(text: string): void {
  const bytes = Buffer.from(text);
  for (let done = 0; done < bytes.length; ) {
    try {
      done += fs.writeSync(1, bytes, done);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'EPIPE') process.exit(0); // the reader has gone (| head): stop quietly
      if (code !== 'EAGAIN') throw error;
    }
  }
}

function runLesson(name: string | undefined, list: boolean): void {
  const LESSONS = load.lessons();
  if (list || name === undefined) {
    const width = Math.max(...LESSONS.map((l) => l.name.length));
    for (const lesson of LESSONS) say(`${lesson.name.padEnd(width)}  ${lesson.title}\n`);
    if (!list) fail('lesson: name a lesson (see above)');
    return;
  }
  const lesson = LESSONS.find((l) => l.name === name);
  if (!lesson) fail(`lesson: no lesson '${name}'; lessons: ${LESSONS.map((l) => l.name).join(', ')}`);
  say(`${lesson.name}: ${lesson.title}\n\n`);
  lesson.run(say);
}

function runCompare(json: boolean): void {
  const { compare, formatReport, MissingToolError, toJSON } = load.compare();
  let result;
  try {
    result = compare();
  } catch (error) {
    if (error instanceof MissingToolError) fail(`compare: ${error.message}`);
    throw error;
  }
  process.stdout.write(json ? `${JSON.stringify(toJSON(result), null, 2)}\n` : formatReport(result));
  const same = result.stdout.identical && result.parent.identical && result.child.identical;
  if (!same) process.exitCode = 1;
}

function run(argv: string[]): void {
  if (argv[0] === 'view') return load.view().runView(argv.slice(1)); // its own options
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        trace: { type: 'boolean' },
        diagram: { type: 'string' },
        'no-pause': { type: 'boolean' },
        list: { type: 'boolean' },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command = 'demo', ...rest] = positionals;
  if (rest.length > (command === 'lesson' ? 1 : 0)) fail(`unexpected argument '${rest.at(-1)}'\n\n${USAGE}`);
  let recording: string | undefined;
  if (values.diagram !== undefined) {
    if (command !== 'demo') fail('--diagram goes with the demo');
    recording = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-')), 'calls.jsonl');
  }
  if (values.trace || recording) {
    if (command !== 'demo' && command !== 'lesson') fail('--trace goes with demo and lesson');
    // The lessons' pipes are not the tutorial's: they are named pipe1_read, pipe1_write, ...
    load.trace().startTracing({ print: values.trace === true, recordTo: recording, pipes: command === 'lesson' ? [] : undefined });
  }
  switch (command) {
    case 'demo':
      try {
        runDemo();
        if (recording && process.pid === parentPid) {
          load.diagram().writeDiagram(recording, values.diagram!);
          fs.rmSync(path.dirname(recording), { recursive: true, force: true });
        }
      } catch (error) {
        const e = error as Error & { code?: string };
        fail(`${e.code ? e.message : String(e.stack ?? e)}${childFate()}`);
      }
      return;
    case 'steps':
      void load.steps().runSteps({ pause: !values['no-pause'] && process.stdin.isTTY === true, out: say });
      return;
    case 'lesson':
      runLesson(rest[0], values.list === true);
      return;
    case 'compare':
      runCompare(values.json === true);
      return;
    default:
      fail(`unknown command '${command}'\n\n${USAGE}`);
  }
}

run(process.argv.slice(2));

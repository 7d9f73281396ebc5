// `bidirectional-ipc view`: runs the tutorial or a lesson under the recorder
// and writes the recording (--json) and the page that replays it (--html);
// or renders a recording made earlier (--from).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { untracedWrite, writeAll } from '../internal/io-loops';
import { progress, type Progress } from '../internal/text';
import { TUTORIAL_PIPES, type PipeNames } from '../internal/pipe-names';
import { iterationsOption, parseCommandLine, usageError as commandLineMistake } from '../internal/usage';
import { buildRecording, loadRecording, readEvents } from './recording';
import { now } from '../tracer';
import { watchKernelNotices, type KernelNotice } from './kernel-notices';
import { startRecording } from './record';
import { renderPage } from './render';
import type { Recording } from './types';

export const VIEW_USAGE = `Usage: bidirectional-ipc view [demo [--iterations N] | lesson NAME]
                                --html FILE [--json FILE] [--unfold] [--open]
       bidirectional-ipc view --from RECORDING.json --html FILE [--open]

Runs the tutorial (demo, the default) or a lesson, recording every system call
at its start and its return with what /proc showed at that moment (descriptor
tables, process states, bytes queued in each pipe), and the signals and ends
the kernel reports to strace when it can attach, and writes one self-contained
HTML page that replays the run.

Options:
  --html FILE     write the page to FILE
  --json FILE     write the recording itself to FILE
  --from FILE     render a recording written earlier with --json
  --unfold        every call its own step (by default a loop's calls, and a
                  polling loop's rounds, are one step)
  --open          open the page with the system's browser (xdg-open)
  --iterations N  (demo) exchange N messages instead of the tutorial's 10
  -h, --help      show this help
`;

const TUTORIAL_SOURCE = 'src/tutorial/main.ts';
const RUST_SOURCE = 'reference/src/main.rs';
const LESSON_SOURCES = 'src/learn/lessons';

/** Most messages a run may exchange here: each is a handful of steps on the page. */
const MAX_ITERATIONS = 1000;

class UsageError extends Error {}

/** A mistake in the command line: one line, status 2, as the other commands do. */
function usageError(message: string): never {
  return commandLineMistake(message, 'view');
}

function fail(message: string): never {
  process.stderr.write(`bidirectional-ipc view: ${message}\n`);
  process.exit(1);
}

/** Opens `file` with the desktop's opener, if the system has one; says so if not. */
function openInBrowser(file: string): void {
  const opener = (process.env.PATH ?? '')
    .split(':')
    .map((dir) => path.join(dir, 'xdg-open'))
    .find((p) => fs.existsSync(p));
  if (!opener) {
    process.stderr.write(`bidirectional-ipc view: no xdg-open here; open ${file} in a browser\n`);
    return;
  }
  spawn(opener, [file], { detached: true, stdio: 'ignore' }).unref();
}

/** Runs the program under the recorder. Returns the recording in the process that started it, null in its children. */
function record(
  command: string,
  lessonName: string | undefined,
  iterations: number | undefined,
  unfolded: boolean,
  say: Progress,
): Recording | null {
  const root = process.pid;
  say(`running ${command === 'demo' ? 'the demo' : `lesson ${lessonName}`} under the recorder`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-view-'));
  const file = path.join(dir, 'events.jsonl');
  // Signals and ends are seen by a tracer attached before the program starts; a run goes on without one.
  const watch = watchKernelNotices(root, dir);
  const startTime = now();
  const recorder = startRecording({ file });
  let title: string;
  let sources: string[];
  let rust: string | undefined;
  let pipeNames: PipeNames = [];
  let notices: KernelNotice[] = [];
  try {
    if (command === 'demo') {
      title = 'The Rust pipes tutorial, on real pipe(), fork(), read(), write()';
      sources = [TUTORIAL_SOURCE];
      rust = RUST_SOURCE;
      pipeNames = TUTORIAL_PIPES;
      const { main } = require('../tutorial/main') as typeof import('../tutorial/main');
      const outcome = main(iterations);
      if (outcome.role === 'child') return null;
    } else {
      const { LESSONS } = require('../learn/lessons/index') as typeof import('../learn/lessons/index');
      const lesson = LESSONS.find((l) => l.name === lessonName);
      if (!lesson) throw new UsageError(`no lesson '${lessonName}'; lessons: ${LESSONS.map((l) => l.name).join(', ')}`);
      title = `${lesson.name}: ${lesson.title}`;
      sources = [`${LESSON_SOURCES}/${lesson.name}.ts`];
      lesson.run((text) => {
        writeAll(1, text, untracedWrite);
        recorder.note('say', text);
      });
    }
    if (process.pid !== root) return null; // a child that returned into this function
    recorder.note('exit', 'the run is over');
    say('reading the recording back');
  } finally {
    if (process.pid === root) {
      recorder.stop();
      if (typeof watch !== 'string') notices = watch.stop();
    }
  }
  try {
    return buildRecording(readEvents(file), {
      command: command === 'demo' ? 'demo' : `lesson ${lessonName}`,
      unfolded,
      notices,
      signals: typeof watch === 'string' ? { missing: watch } : { by: watch.by },
      title,
      rootPid: root,
      startTime,
      pipeNames,
      sources,
      rust,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The `view` command, given the arguments after `view`. */
export function runView(argv: string[]): void {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      html: { type: 'string' },
      json: { type: 'string' },
      from: { type: 'string' },
      open: { type: 'boolean' },
      unfold: { type: 'boolean' },
      iterations: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    usageError,
  );
  if (values.help) {
    process.stdout.write(VIEW_USAGE);
    return;
  }
  const [command = 'demo', lessonName, ...extra] = positionals;
  if (command !== 'demo' && command !== 'lesson') usageError(`unknown program '${command}': demo or lesson NAME`);
  if (command === 'lesson' && lessonName === undefined)
    usageError('lesson: name a lesson (bidirectional-ipc lesson --list)');
  if ((command === 'demo' && lessonName !== undefined) || extra.length > 0)
    usageError(`unexpected argument '${[lessonName, ...extra].at(-1)}'`);
  if (values.from !== undefined) {
    if (positionals.length > 0) usageError('--from renders a recording: name no program with it');
    if (values.json !== undefined) usageError('--from reads a recording; --json writes one: use one of them');
    if (values.unfold) usageError('--unfold goes with a run: a recording keeps the steps it was made with');
  }
  if (values.html === undefined && values.json === undefined)
    usageError('say where to write: --html FILE and/or --json FILE');
  if (values.open && values.html === undefined) usageError('--open needs --html FILE');
  let iterations: number | undefined;
  if (values.iterations !== undefined) {
    if (command !== 'demo' || values.from !== undefined) usageError('--iterations goes with the demo');
    iterations = iterationsOption(values.iterations, MAX_ITERATIONS, usageError);
  }

  const say = progress('bidirectional-ipc view');
  if (values.from !== undefined) return writeView(values, say, () => loadRecording(values.from!));
  // A run gets the watchdog the demo and the lessons get: it never hangs in silence.
  const { startWatchdog } = require('../learn/watchdog') as typeof import('../learn/watchdog');
  void startWatchdog(['bidirectional-ipc view', ...argv].join(' ')).then(() =>
    writeView(values, say, () => record(command, lessonName, iterations, values.unfold === true, say)),
  );
}

/** Makes the recording and writes what `values` asks for; null from `make` in a child of the run. */
function writeView(
  values: { html?: string; json?: string; open?: boolean },
  say: Progress,
  make: () => Recording | null,
): void {
  let recording: Recording | null;
  try {
    recording = make();
  } catch (error) {
    if (error instanceof UsageError) usageError(error.message);
    if ((error as { code?: string }).code === 'ENOENT' || error instanceof SyntaxError) fail((error as Error).message);
    throw error;
  }
  if (recording === null) return; // in a child of the run
  if (values.json !== undefined) fs.writeFileSync(values.json, `${JSON.stringify(recording)}\n`);
  if (values.html !== undefined) {
    say('rendering the page');
    const html = renderPage(recording);
    fs.writeFileSync(values.html, html);
    process.stderr.write(
      `bidirectional-ipc view: wrote ${values.html} (${Math.ceil(Buffer.byteLength(html) / 1024)} KiB, ${recording.events.length} steps)\n`,
    );
    if (values.open) openInBrowser(path.resolve(values.html));
  }
}

// Runs a student's program for `exercise check`: under the recorder (see
// ./preload.ts), in its own process group, in a scratch folder, watched from
// here through /proc. A program whose every process waits in the kernel with
// nothing changing is stuck: what /proc shows then is kept and the group is
// killed. So is one still running at the bound.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitpid } from '../../index';
import { childrenOf } from '../../internal/proc';
import { nativeInternals } from '../../native';
import { orderEvents, readEvents } from '../../view/recording';
import { takeSnapshot } from '../../view/record';
import type { RawEvent, Snapshot } from '../../view/types';
import { watchdogBound } from '../watchdog';
import { END_FILE, RECORDING_DIR_VARIABLE, RECORDING_FILE, type EndOfProgram } from './preload';

/**
 * Where a process sleeps with no end in sight unless another process acts: a
 * pipe (anon_pipe_read from Linux 6.x on), a child, Node's idle loop, poll.
 */
const WAITS = /^(anon_)?pipe_(read|write)$|^do_wait$|^do_epoll_wait$|^do_sys_poll$/;
/** How long every process must sit in one of those, unchanged, before the program counts as stuck. */
const STUCK_MS = 1500;
const LOOK_EVERY_MS = 50;
/** The longest a check lets a program run (lower with BIDIRECTIONAL_IPC_WATCHDOG_MS). */
const CHECK_BOUND_MS = 30_000;
/** The files in the folder the program runs in (ls-wc counts them). */
export const SCRATCH_FILES = ['notes.txt', 'pipe.c', 'fork.c', 'Makefile'];

export interface Observation {
  /** The program's process. */
  pid: number;
  /** Every call of every process, in happens-before order, with what /proc showed. */
  events: RawEvent[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** When the check ended the program: what /proc showed then, and why. */
  stuck: { reason: 'blocked' | 'bound'; afterMs: number; snapshot: Snapshot } | null;
  /** The program's children as its last act saw them; null if it never reached its end. */
  end: EndOfProgram | null;
  /** What `sh -c SHELL` printed in the same folder, when asked for. */
  shellOutput: string | null;
}

/** .ts, .mts, .cts */
export const TYPESCRIPT_FILE = /\.[mc]?ts$/;

/** The node options that make this Node run a .ts file; null when it cannot. */
export function typeScriptFlags(): string[] | null {
  if ((process.features as { typescript?: unknown }).typescript) return [];
  if (process.allowedNodeEnvironmentFlags.has('--experimental-strip-types')) return ['--experimental-strip-types'];
  return null;
}

/**
 * In the environment of the program and of whatever it starts (its value is
 * the run's folder): what finds a process that left the program's group, by
 * setsid() or a detached spawn, once the program is gone.
 */
const RUN_VARIABLE = 'BIDIRECTIONAL_IPC_EXERCISE_RUN';

/** Kills every process that was started with RUN_VARIABLE=`run` (its environment at exec). */
function killRun(run: string): void {
  const mark = Buffer.from(`\0${RUN_VARIABLE}=${run}\0`);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from('\0'), fs.readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(mark)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

/**
 * Kills and reaps the processes that have come to this one: the check is a
 * child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER), so whatever the program
 * left behind is reparented here once its parent ends, in any session, with
 * any environment. Again while more arrive (their parents just killed).
 */
function killAdopted(): void {
  for (let pass = 0; pass < 10; pass++) {
    const left = childrenOf(process.pid);
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
        waitpid(pid);
      } catch {
        // reaped meanwhile
      }
    }
  }
}

function killGroup(pid: number, snapshot: Snapshot | null): void {
  for (const target of [-pid, ...(snapshot?.processes.map((p) => p.pid) ?? [])]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/**
 * Runs `file` (absolute) and resolves with what the kernel showed of it; and
 * `shell`, if given, in the same folder with sh(1), for comparison.
 */
export function observe(file: string, shell?: string): Promise<Observation> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-exercise-'));
  const cwd = path.join(dir, 'work');
  fs.mkdirSync(cwd);
  for (const name of SCRATCH_FILES) fs.writeFileSync(path.join(cwd, name), '');
  nativeInternals.lessonBecomeSubreaper();
  const flags = TYPESCRIPT_FILE.test(file) ? (typeScriptFlags() ?? []) : [];
  const child = spawn(
    process.execPath,
    [...flags, '--disable-warning=ExperimentalWarning', '--require', require.resolve('./preload'), file],
    {
      cwd,
      detached: true, // its own process group: killed as one
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [RECORDING_DIR_VARIABLE]: dir, [RUN_VARIABLE]: dir },
    },
  );
  const pid = child.pid!;
  // Its group is not the terminal's: Ctrl-C reaches only the check, which ends the program too.
  const interrupted = (signal: NodeJS.Signals) => {
    killGroup(pid, takeSnapshot(pid, new Set()));
    killRun(dir);
    killAdopted();
    fs.rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const started = Date.now();
  const bound = Math.min(watchdogBound(), CHECK_BOUND_MS);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  let stuck: Observation['stuck'] = null;
  let last = '';
  let since = started;
  const look = setInterval(() => {
    const snapshot = takeSnapshot(pid, new Set());
    const live = snapshot.processes.filter((p) => p.state !== 'Z');
    let recorded = 0;
    try {
      recorded = fs.statSync(path.join(dir, RECORDING_FILE)).size;
    } catch {
      // nothing recorded yet
    }
    const seen = `${recorded} ${live.map((p) => `${p.pid}:${p.state}:${p.wchan}`).join(' ')}`;
    const waiting = live.length > 0 && live.every((p) => p.state === 'S' && WAITS.test(p.wchan));
    if (seen !== last || !waiting) {
      last = seen;
      since = Date.now();
    }
    const reason = Date.now() - started >= bound ? 'bound' : Date.now() - since >= STUCK_MS ? 'blocked' : null;
    if (reason === null || stuck) return;
    // Look again with the pipes' fill levels, now that nothing moves.
    const pipes = new Set(snapshot.processes.flatMap((p) => p.fds.flatMap((f) => (f.pipe ? [f.pipe] : []))));
    const final = takeSnapshot(pid, pipes);
    stuck = { reason, afterMs: Date.now() - started, snapshot: final };
    killGroup(pid, final);
  }, LOOK_EVERY_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // What is left of its run once it has ended are processes it left behind,
    // already listed by its last act: ended now, they cannot hold its output
    // open (and the check) until the bound.
    child.once('exit', () => {
      killGroup(pid, null);
      killRun(dir);
      killAdopted();
    });
    child.once('close', (exitCode, signal) => {
      clearInterval(look);
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      try {
        const recording = path.join(dir, RECORDING_FILE);
        const events = fs.existsSync(recording) ? orderEvents(readEvents(recording)) : [];
        const endFile = path.join(dir, END_FILE);
        const end = fs.existsSync(endFile) ? (JSON.parse(fs.readFileSync(endFile, 'utf8')) as EndOfProgram) : null;
        const shellOutput =
          shell === undefined ? null : spawnSync('sh', ['-c', shell], { cwd, encoding: 'utf8' }).stdout;
        resolve({ pid, events, exitCode, signal, stdout, stderr, stuck, end, shellOutput });
      } finally {
        // Its children may outlive it (orphans): none may outlive the check.
        killGroup(pid, null);
        killRun(dir);
        killAdopted();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

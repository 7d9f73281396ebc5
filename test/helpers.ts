// Shared by the tests: run code in a forked child, bounded in time, and
// collect what it reports; run a fixture script as its own Node process.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import {
  _exit,
  close,
  fork,
  isSyscallError,
  O_NONBLOCK,
  pipe,
  read,
  sleep,
  waitpid,
  WNOHANG,
  write,
  type WaitStatus,
} from '../src/index';
import { writeAll } from '../src/internal/io-loops';
import { CLI } from '../src/internal/paths';

export interface ChildResult {
  /** Everything the child passed to `report`, in order. */
  report: string;
  status: WaitStatus;
  /** The child was still running at the deadline and was killed. */
  timedOut: boolean;
}

/**
 * Forks; the child runs `body(report)` synchronously and leaves with _exit:
 * 0 if it returned, 1 if it threw. It never returns into the caller, so no
 * code of the test harness runs twice. (Asynchronous child code is tested in
 * fixture processes instead: while a child's event loop ran, the harness's
 * own pending work would run there too.) The parent collects the reports
 * until the child has ended, killing it at the deadline.
 */
export function inChild(body: (report: (text: string) => void) => void, deadlineMs = 10_000): ChildResult {
  const [readFd, writeFd] = pipe(O_NONBLOCK);
  const pid = fork();
  if (pid === 0) {
    close(readFd);
    // The pipe is non-blocking: a full one (EAGAIN) waits 1 ms and tries again.
    const report = (text: string): void =>
      writeAll(writeFd, text, (fd, bytes, offset) => {
        try {
          return write(fd, bytes, offset);
        } catch (error) {
          if (!isSyscallError(error, 'EAGAIN')) throw error;
          sleep(1);
          return 0;
        }
      });
    try {
      body(report);
    } catch (error) {
      try {
        report(`THREW ${(error as Error)?.stack ?? String(error)}`);
      } finally {
        _exit(1);
      }
    }
    _exit(0);
  }
  close(writeFd);
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  const deadline = Date.now() + deadlineMs;
  let status: WaitStatus | undefined;
  let timedOut = false;
  let eof = false;
  while (!eof || !status) {
    if (!eof) {
      try {
        const n = read(readFd, buffer);
        if (n === 0) eof = true;
        else chunks.push(Buffer.from(buffer.subarray(0, n)));
        continue;
      } catch (error) {
        if (!isSyscallError(error, 'EAGAIN')) throw error;
      }
    }
    if (!status) {
      const st = waitpid(pid, WNOHANG);
      if (st.pid !== 0) status = st;
    }
    if (!status && Date.now() > deadline) {
      timedOut = true;
      process.kill(pid, 'SIGKILL');
      status = waitpid(pid);
    }
    if (!eof || !status) sleep(2);
  }
  close(readFd);
  return { report: Buffer.concat(chunks).toString(), status, timedOut };
}

/** The compiled fixture `name` (test/fixtures/NAME.ts). */
export function fixture(name: string): string {
  return path.join(__dirname, 'fixtures', `${name}.js`);
}

/** Runs `node FIXTURE args…`, bounded in time. */
export function runFixture(
  name: string,
  args: string[] = [],
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = process.env,
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [fixture(name), ...args], {
    encoding: 'utf8',
    env,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
}

/** The stdout lines of test/fixtures/busy.ts running case `mode`, which must finish in time. */
export function busyFixtureLines(mode: string, args: string[] = [], timeoutMs = 30_000): string[] {
  const run = runFixture('busy', [mode, ...args], timeoutMs);
  assert.equal(run.signal, null, `the fixture finished in time; stderr:\n${run.stderr}`);
  return run.stdout.split('\n').filter(Boolean);
}

/** Runs `node FIXTURE args… | PIPELINE` through sh, bounded in time. */
export function runFixturePiped(name: string, args: string, pipeline: string): SpawnSyncReturns<string> {
  return spawnSync('sh', ['-c', `"${process.execPath}" "${fixture(name)}" ${args} | ${pipeline}`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

/** The package's command line, as `npm start` runs it. */
export { CLI };

/** Runs the command line with `args`, bounded in time. */
export function runCli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

/** The 20 lines the tutorial's program prints: its format strings, in its order. */
export function tutorialOutput(): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    const message = `Parent message ${i}`;
    out += `Child received: ${message}\n`;
    out += `Parent received: Child echoing: ${message}\n`;
  }
  return out;
}

/**
 * The `skip` option for a test that needs optional tools: the reason (naming
 * each missing tool and how to get it) where they are missing, false where
 * they are all here. Under CI (CI=true) nothing is skipped: the test runs and
 * fails, because CI installs every tool.
 */
export function skipUnless(missing: string[]): string | false {
  if (missing.length === 0 || process.env.CI === 'true') return false;
  return missing.join('; ');
}

/**
 * The argv prefix that makes RLIMIT_NPROC bind (as nobody when root: the
 * limit does not bind root), and the tools missing for it.
 */
export function nprocLimitable(): { asNobody: string[]; missing: string[] } {
  const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const missing = asNobody.length && spawnSync('setpriv', ['--version']).status !== 0 ? ['setpriv (util-linux)'] : [];
  if (spawnSync('prlimit', ['--version']).status !== 0) missing.push('prlimit (util-linux)');
  return { asNobody, missing };
}

/**
 * Whether Node, run with `env`, reads files on an io_uring (from /proc): one
 * with a kernel submission thread, or with `anyRing` any io_uring at all.
 */
export function readsFilesOnIoUring(env: NodeJS.ProcessEnv, anyRing = false): boolean {
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const fs = require('fs');
       console.log(fs.readdirSync('/proc/self/fd').some((fd) => {
         try { return fs.readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[io_uring]' && (${anyRing} ||
           !/SqThread:\\s+-1/.test(fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8'))); } catch { return false; }
       }))`,
    ],
    { encoding: 'utf8', env },
  );
  return probe.stdout.trim() === 'true';
}

/** Rejects if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// `npm run stress [-- RUNS [ROW...]]`: the adversary kept running. Every row
// of docs/fork.md's inheritance table (and the callback rows of issue 20) is
// run RUNS times (default 5), each run a fixture process with a deadline for
// its child, and judged: pass; hang (a child killed at its deadline, or the
// fixture itself out of time); crash (killed by a signal); wrong (anything
// else the row forbids: output missing, work done twice, a bad status).
// Prints one line per row, and exits 1 if any run failed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixture } from './helpers';

type Kind = 'pass' | 'hang' | 'crash' | 'wrong';
type Counts = Record<Kind, number> & { runs: number; refused?: number };

interface Row {
  name: string;
  /** The command of one run (a fixture, possibly wrapped), or a reason it cannot run here. */
  command: () => string[] | { missing: string };
  /** Lines one run's stdout must hold, and lines it must not. */
  expect?: string[];
  forbid?: string[];
  /** A fixture that runs `count` times itself and prints `RESULT name {counts}` (test/fixtures/callbacks.ts). */
  selfCounting?: boolean;
  /** The signal the fixture ends its child with, if it does (the server rows: SIGTERM, unless it ended first). */
  endsBy?: string;
  /** fork() may refuse with a named error here: a refusal is not a failure. */
  mayRefuse?: boolean;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
}

const runs = Number(process.argv[2] ?? 5);
const only = process.argv.slice(3);
const FIXTURE_DEADLINE_MS = 120_000;
const node = process.execPath;

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** As nobody when root: RLIMIT_NPROC does not bind root. */
function unprivileged(argv: string[]): string[] | { missing: string } {
  if (process.getuid?.() !== 0) return argv;
  if (!has('setpriv')) return { missing: 'setpriv (util-linux)' };
  return ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv];
}

const hostsFifo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stress-')), 'hosts');

/** In a mount namespace where /etc/hosts is a FIFO (see dnsInFlight in test/fixtures/callbacks.ts). */
function withHostsFifo(argv: string[]): string[] | { missing: string } {
  if (spawnSync('unshare', ['-rm', 'true'], { stdio: 'ignore' }).status !== 0)
    return { missing: 'unshare with user namespaces (util-linux)' };
  if (!fs.existsSync(hostsFifo) && spawnSync('mkfifo', [hostsFifo]).status !== 0) return { missing: 'mkfifo' };
  return ['unshare', '-rm', 'sh', '-c', `mount --bind "${hostsFifo}" /etc/hosts && exec "$@"`, 'sh', ...argv];
}

const busy =
  (...args: string[]) =>
  () => [node, fixture('busy'), ...args];
const inherit =
  (...args: string[]) =>
  () => [node, fixture('inherit'), ...args];
const callbacks = (name: string) => () => [node, fixture('callbacks'), name, String(runs)];

const rows: Row[] = [
  {
    name: 'pool requests in flight',
    command: busy('pool-in-flight'),
    expect: ['CHILD_READS 5', 'STATUS 0'],
    forbid: ['PARENT_READ_DONE_IN child'],
  },
  {
    name: 'pool work finished, not called back',
    command: busy('stat-completed'),
    expect: ['CHILD_STAT ok', 'STATUS 0'],
    forbid: ['PARENT_STAT_CALLBACK_IN child'],
  },
  { name: 'pool writes in flight', command: busy('append-in-flight'), expect: ['STATUS 0', `FILE_BYTES ${2 ** 20}`] },
  {
    name: 'timers, immediates, microtasks',
    command: inherit('timers'),
    expect: ['TIMEOUT_IN child', 'IMMEDIATE_IN child', 'MICROTASK_IN child', 'CHILD_INTERVAL_TICKED 3', 'STATUS 0'],
  },
  {
    name: 'connected sockets',
    command: inherit('socket-read'),
    expect: ['PARENT_GOT 100000 OF 100000', 'STATUS 0'],
    forbid: ['CHILD_READ_PARENT_SOCKET'],
  },
  {
    name: 'socket writes queued',
    command: busy('socket-writes'),
    expect: [`PEER_RECEIVED ${8 * 2 ** 20} OF ${8 * 2 ** 20}`, 'STATUS 0'],
  },
  { name: 'listening server', command: inherit('server'), expect: ['SERVED_BY parent'], endsBy: 'SIGTERM' },
  {
    name: 'listening server kept',
    command: inherit('server', 'keep'),
    expect: ['SERVED_BY child,parent'],
    endsBy: 'SIGTERM',
  },
  { name: 'spawned processes', command: busy('spawned'), expect: ['CHILD_KILL_SLEEPER false', 'STATUS 0'] },
  {
    name: 'Workers inherited',
    command: busy('worker-inherited'),
    expect: ['CHILD_POST ERR_FORKED_CHILD_NO_THREADS', 'CHILD_TERMINATE ERR_FORKED_CHILD_NO_THREADS', 'STATUS 0'],
  },
  {
    name: 'Worker in a child of Workers',
    command: busy('worker-in-child-of-workers', '1'),
    expect: ['CHILD_WORKER 42', 'STATUS 0'],
  },
  {
    name: 'Worker starting at the fork',
    command: busy('worker-starting', '1'),
    expect: ['CHILD_NEW_WORKER ERR_FORKED_CHILD_NO_THREADS', 'STATUS 0'],
  },
  {
    name: 'V8 background work (wasm)',
    command: () => [node, fixture('child'), 'wasm'],
    expect: ['async compile true', 'sync compile true', 'instantiate module true'],
  },
  {
    name: 'fork() during a wasm compile',
    command: busy('wasm-compiling'),
    expect: ['PARENT_COMPILED true', 'CHILD_COMPILED true', 'CHILD_OWN_COMPILED true', 'STATUS 0'],
  },
  {
    name: 'fork() during a randomInt() refill',
    command: busy('random-int-refill'),
    expect: ['CHILD_OWN_ANSWERED 3000', 'CHILD_QUEUED_ANSWERED some', 'PARENT_QUEUED_ANSWERED 1100', 'STATUS 0'],
  },
  { name: 'signal listeners', command: busy('signals', '10'), expect: ['SIGNALS child 10 parent 0 other none'] },
  {
    name: "'beforeExit' and 'exit' listeners",
    command: inherit('exit-listeners'),
    expect: ['BEFORE_EXIT_IN child', 'EXIT_IN child 0'],
  },
  {
    name: 'fs watchers',
    command: inherit('fs-watch'),
    expect: ['WATCH_EVENT_IN parent', 'STATUS 0'],
    forbid: ['WATCH_EVENT_IN child'],
  },
  {
    name: 'fs.watchFile in parent and child',
    command: busy('watch-file-both'),
    expect: ['CHILD_WATCHFILE_FIRED', 'STATUS 0'],
    forbid: ['PARENT_LISTENER_IN child'],
  },
  {
    name: 'inspector closed by the parent',
    command: () => [node, '--inspect=127.0.0.1:0', fixture('busy'), 'inspector-closed'],
    expect: ['CONNECT_AFTER_CLOSE ECONNREFUSED', 'STATUS 0'],
  },
  {
    name: 'stdin',
    command: inherit('stdin'),
    stdin: 'x'.repeat(100_000),
    expect: ['PARENT_STDIN 100000', 'STATUS 0'],
    forbid: ['CHILD_READ_STDIN'],
  },
  { name: 'fork() in a pool callback batch', command: callbacks('pool-batch'), selfCounting: true },
  { name: "fork() in one of several 'exit's", command: callbacks('exit-batch'), selfCounting: true },
  { name: "fork() in a UDP 'message'", command: callbacks('udp-message'), selfCounting: true },
  { name: "fork() in a TCP 'data' (64 KiB)", command: callbacks('tcp-data'), selfCounting: true },
  { name: "fork() in a spawned process's stdout", command: callbacks('spawned-stdout'), selfCounting: true },
  {
    name: 'fork() with dns lookups in flight',
    command: () => withHostsFifo(callbacks('dns-in-flight')().concat(hostsFifo)),
    selfCounting: true,
  },
  {
    name: 'fork() in an fs callback, UV_USE_IO_URING=1',
    command: callbacks('fs-read-callback'),
    env: { UV_USE_IO_URING: '1' },
    selfCounting: true,
    mayRefuse: true,
  },
  {
    name: 'RLIMIT_NPROC: no thread in the child',
    command: () => unprivileged(busy('thread-limit')()),
    expect: ['CHILD_COMPILED', 'STATUS 0'],
  },
];

function judge(row: Row, run: SpawnSyncReturns<string>): Kind {
  const lines = run.stdout.split('\n').filter(Boolean);
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || lines.includes('HUNG')) return 'hang';
  // A child ended by a signal the row does not send it (the server rows end theirs with SIGTERM).
  const signalled = lines.some((l) => /^STATUS SIG/.test(l) && l !== `STATUS ${row.endsBy}`);
  if (run.signal !== null || signalled || /"signaled":true/.test(run.stderr)) return 'crash';
  if (!(row.expect ?? []).every((l) => lines.includes(l))) return 'wrong';
  if ((row.forbid ?? []).some((l) => lines.includes(l))) return 'wrong';
  return 'pass';
}

function runRow(row: Row): Counts | string {
  const argv = row.command();
  if (!Array.isArray(argv)) return argv.missing;
  const counts: Counts = { runs: 0, pass: 0, hang: 0, crash: 0, wrong: 0 };
  for (let i = 0; i < (row.selfCounting ? 1 : runs); i++) {
    const run = spawnSync(argv[0], argv.slice(1), {
      encoding: 'utf8',
      input: row.stdin ?? '',
      env: { ...process.env, ...row.env },
      timeout: FIXTURE_DEADLINE_MS,
      killSignal: 'SIGKILL',
    });
    if (row.selfCounting) {
      const reported = /^RESULT \S+ (.*)$/m.exec(run.stdout);
      if (reported) return JSON.parse(reported[1]) as Counts;
      counts.runs = runs;
      counts[judge(row, run) === 'hang' ? 'hang' : 'crash'] = runs; // the fixture itself never finished
      return counts;
    }
    counts.runs++;
    const kind = judge(row, run);
    counts[kind]++;
    if (kind !== 'pass' && counts[kind] === 1) {
      const tail = `${run.stdout}${run.stderr}`.trim().split('\n').slice(-6).join(' | ');
      console.log(`  ${row.name}: first ${kind}: ${tail}`);
    }
  }
  return counts;
}

let failed = false;
for (const row of rows) {
  if (only.length && !only.some((name) => row.name.includes(name))) continue;
  const started = Date.now();
  const counts = runRow(row);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (typeof counts === 'string') {
    console.log(`${row.name}: not run, needs ${counts}`);
    continue;
  }
  const refused = counts.refused ?? 0;
  failed ||= counts.pass + refused !== counts.runs || (refused > 0 && !row.mayRefuse);
  console.log(
    `${row.name}: runs ${counts.runs} pass ${counts.pass} hang ${counts.hang} crash ${counts.crash} wrong ${counts.wrong}` +
      `${row.mayRefuse ? ` refused ${refused}` : ''} (${seconds} s)`,
  );
}
fs.rmSync(path.dirname(hostsFifo), { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;

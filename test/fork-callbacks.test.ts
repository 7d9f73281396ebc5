// fork() called from inside the callbacks where real programs fork (issue 20):
// the child runs none of the parent's pending callbacks, never hangs, and ends
// by itself. Each case runs test/fixtures/callbacks.ts in its own Node process,
// which forks several times and reports how each child ended.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fixture, readsFilesOnIoUring, runFixture, skipUnless } from './helpers';

const RUNS = 10;

/** Runs `case` RUNS times in the fixture; every child must pass. */
function expectAllPass(name: string, runs = RUNS): void {
  const run = runFixture('callbacks', [name, String(runs)], 60_000 + runs * 10_000);
  assert.equal(run.signal, null, `the fixture finished in time; stderr:\n${run.stderr}`);
  assert.match(run.stdout, new RegExp(`^RESULT ${name} `, 'm'), run.stdout + run.stderr);
  const counts = JSON.parse(run.stdout.split(`RESULT ${name} `)[1]);
  assert.deepEqual(counts, { runs, pass: runs, hang: 0, crash: 0, wrong: 0, refused: 0 }, run.stdout + run.stderr);
}

describe('fork() inside one of a batch of callbacks', () => {
  it('in one of 64 thread-pool callbacks that finished together: the child runs none of the others, each record is written once', () => {
    expectAllPass('pool-batch');
  });

  it("in the 'exit' listener of one of 4 processes that ended together: the child runs none of the others and ends with status 0", () => {
    expectAllPass('exit-batch');
  });
});

describe('fork() inside an I/O callback (fork per request)', () => {
  it("in a UDP 'message' listener with more datagrams waiting: the child ends by itself", () => {
    expectAllPass('udp-message');
  });

  it("in a TCP 'data' listener given a full 64 KiB read: the child ends by itself", () => {
    expectAllPass('tcp-data');
  });

  it("in a spawned process's stdout 'data' listener: the child ends by itself", () => {
    expectAllPass('spawned-stdout');
  });
});

describe('fork() inside an fs callback with UV_USE_IO_URING=1', () => {
  it('refuses with ERR_FORK_IO_URING where libuv reads on an io_uring, and gives a correct child elsewhere', () => {
    const env = { ...process.env, UV_USE_IO_URING: '1' };
    const onIoUring = readsFilesOnIoUring(env);
    const run = spawnSync(process.execPath, [fixture('callbacks'), 'fs-read-callback', String(RUNS)], {
      encoding: 'utf8',
      env,
      timeout: 60_000 + RUNS * 10_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(run.signal, null, run.stderr);
    const counts = JSON.parse(run.stdout.split('RESULT fs-read-callback ')[1] ?? 'null');
    const expected = onIoUring
      ? { runs: RUNS, pass: 0, hang: 0, crash: 0, wrong: 0, refused: RUNS }
      : { runs: RUNS, pass: RUNS, hang: 0, crash: 0, wrong: 0, refused: 0 };
    assert.deepEqual(counts, expected, run.stdout + run.stderr);
    if (onIoUring) assert.match(run.stdout, /^FAILED refused ERR_FORK_IO_URING$/m);
  });
});

describe('fork() while dns lookups run on the thread pool', () => {
  const probe = spawnSync('unshare', ['-rm', 'true'], { encoding: 'utf8', timeout: 10_000 });
  const skip = skipUnless(
    probe.status === 0 ? [] : ['needs unshare with user namespaces (util-linux; kernel.unprivileged_userns_clone=1)'],
  );
  it("the child's own lookup answers (libuv's count of running slow lookups is the child's own)", { skip }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dns-fifo-'));
    const fifo = path.join(dir, 'hosts');
    try {
      const made = spawnSync('mkfifo', [fifo]);
      assert.equal(made.status, 0, String(made.stderr));
      // /etc/hosts becomes a FIFO for the fixture only: its lookups wait in open(2).
      const script = `mount --bind "$1" /etc/hosts && exec "$2" "$3" dns-in-flight ${RUNS} "$1"`;
      const run = spawnSync(
        'unshare',
        ['-rm', 'sh', '-c', script, 'sh', fifo, process.execPath, fixture('callbacks')],
        {
          encoding: 'utf8',
          timeout: 60_000 + RUNS * 10_000,
          killSignal: 'SIGKILL',
        },
      );
      assert.equal(run.signal, null, `finished in time; stderr:\n${run.stderr}`);
      const counts = JSON.parse(run.stdout.split('RESULT dns-in-flight ')[1] ?? 'null');
      assert.deepEqual(
        counts,
        { runs: RUNS, pass: RUNS, hang: 0, crash: 0, wrong: 0, refused: 0 },
        run.stdout + run.stderr,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

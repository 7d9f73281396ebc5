// Signals, interrupted calls and ends as the kernel reports them to a tracer
// (src/view/kernel-notices.ts): strace attached to a real process, which is
// sent a signal it catches while it blocks in read().
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { close, fork, pipe, read, sleep, waitpid, write } from '../src/index';
import { missingStrace } from '../src/compare/compare';
import { watchKernelNotices } from '../src/view/kernel-notices';
import { runCli, skipUnless } from './helpers';

test(
  'a caught signal that breaks off a blocking read, the restart, and the exit status, as strace saw them',
  { skip: skipUnless(missingStrace()), timeout: 30_000 },
  () => {
    const [readyRead, readyWrite] = pipe();
    const [goRead, goWrite] = pipe();
    const child = fork(() => {
      close(readyRead);
      close(goWrite);
      process.on('SIGUSR1', () => {}); // a handler (libuv's, SA_RESTART): the read is restarted
      write(readyWrite, 'r');
      read(goRead, new Uint8Array(1)); // blocks until the parent writes
    });
    close(readyWrite);
    close(goRead);
    read(readyRead, new Uint8Array(1));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-notices-'));
    try {
      const watch = watchKernelNotices(child, dir);
      assert.equal(typeof watch, 'object', String(watch));
      if (typeof watch === 'string') return;
      sleep(50); // the child is back in read()
      process.kill(child, 'SIGUSR1');
      sleep(50);
      write(goWrite, 'g');
      const status = waitpid(child);
      const notices = watch.stop();
      const mine = notices.filter((n) => n.pid === child);
      const delivered = mine.find((n) => n.kind === 'signal' && n.signal === 'SIGUSR1');
      assert.ok(delivered, JSON.stringify(notices));
      assert.equal(delivered.from, process.pid, 'sent by this process (si_pid)');
      const broken = mine.find((n) => n.kind === 'interrupted' && n.call === 'read');
      assert.ok(broken, `the blocked read was broken off: ${JSON.stringify(mine)}`);
      assert.equal(broken.signal, 'SIGUSR1');
      assert.equal(broken.outcome, 'restarted');
      const ended = mine.find((n) => n.kind === 'exit');
      assert.ok(ended);
      assert.equal(ended.exitCode, status.exitCode, "the kernel's record and waitpid's status agree");
      assert.ok(broken.time < delivered.time + 1 && delivered.time < ended.time, 'in the order they happened');
    } finally {
      close(readyRead);
      close(goWrite);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

describe(
  '--trace and --diagram show signals and ends as strace saw them',
  { skip: skipUnless(missingStrace()) },
  () => {
    test('pipe-capacity --trace: each child killed by SIGKILL is shown ending before the waitpid that reports it', () => {
      const run = runCli(['lesson', 'pipe-capacity', '--trace']);
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stderr.split('\n');
      const reaped = lines
        .map((l, i) => ({
          i,
          m: /^\[parent \d+\] (?:<\.\.\. waitpid resumed> |waitpid\(.*\) )= (\d+) \(killed by SIGKILL\)$/.exec(l),
        }))
        .filter((x) => x.m);
      assert.equal(reaped.length, 2, run.stderr);
      for (const { i, m } of reaped) {
        const ended = lines.findIndex((l) => l === `[child ${m![1]}] +++ killed by SIGKILL +++`);
        assert.ok(ended >= 0 && ended < i, `the end of ${m![1]} (line ${ended}) before its waitpid (line ${i})`);
        assert.ok(
          lines.some((l) =>
            new RegExp(`^\\[child ${m![1]}\\] --- SIGSTOP \\{si_code=SI_USER, si_pid=\\d+\\} ---$`).test(l),
          ),
        );
      }
    });

    test("demo --diagram: the child's end and the parent's SIGCHLD are notes, before the waitpid arrow", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-diagram-'));
      try {
        const file = path.join(dir, 'run.md');
        const run = runCli(['demo', '--iterations', '2', '--diagram', file]);
        assert.equal(run.status, 0, run.stderr);
        const lines = fs.readFileSync(file, 'utf8').split('\n');
        const ended = lines.findIndex((l) => l === '    Note over C: +++ exited with 0 +++');
        const sigchld = lines.findIndex((l) =>
          /^ {4}Note over P: --- SIGCHLD \{si_code=CLD_EXITED, si_pid=\d+, si_status=0\} ---/.test(l),
        );
        const waited = lines.findIndex((l) => /^ {4}C-->>P: waitpid = \d+ \(exited 0\)$/.test(l));
        assert.ok(ended >= 0 && sigchld > ended && waited > sigchld, `${ended} < ${sigchld} < ${waited}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

// Signals, interrupted calls and ends as the kernel reports them to a tracer
// (src/view/kernel-notices.ts): strace attached to a real process, which is
// sent a signal it catches while it blocks in read().
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { close, fork, pipe, read, sleep, waitpid, write } from '../src/index';
import { missingStrace } from '../src/compare/compare';
import { watchKernelNotices } from '../src/view/kernel-notices';
import { skipUnless } from './helpers';

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

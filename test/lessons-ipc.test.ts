// The calls behind the IPC lessons (mkfifo, shutdown), and the lessons
// fifo, socketpair, poll-both-pipes, nonblocking-writes and popen: what each
// observes, and that what it prints is what it observed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as ipc from '../src/index';
import { LESSONS } from '../src/learn/lessons/index';
import { missingStrace } from '../src/compare/compare';
import { CLI, skipUnless } from './helpers';

/** Runs `body` with a fresh temporary directory, removed afterwards. */
function inTempDir(body: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lessons-ipc-'));
  try {
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('mkfifo', () => {
  it('makes a named pipe: a FIFO in the directory that carries bytes between two opens', () => {
    inTempDir((dir) => {
      const file = path.join(dir, 'fifo');
      ipc.mkfifo(file, 0o600);
      const stat = fs.statSync(file);
      assert.ok(stat.isFIFO(), 'stat says FIFO');
      assert.equal(stat.mode & 0o7777, 0o600);
      assert.equal(stat.size, 0);
      assert.throws(
        () => fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK),
        { code: 'ENXIO' },
        'no reader yet',
      );
      const r = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const w = fs.openSync(file, fs.constants.O_WRONLY);
      assert.equal(ipc.write(w, 'through the name'), 16);
      assert.equal(ipc.bytesQueued(r), 16);
      const buf = Buffer.alloc(64);
      assert.equal(buf.toString('utf8', 0, ipc.read(r, buf)), 'through the name');
      fs.closeSync(w);
      assert.equal(ipc.read(r, buf), 0, 'EOF once the writer closed');
      fs.closeSync(r);
      assert.throws(
        () => ipc.mkfifo(file),
        (error: unknown) => ipc.isSyscallError(error, 'EEXIST') && error.syscall === 'mkfifo' && error.errno === -17,
      );
      assert.throws(
        () => ipc.mkfifo(path.join(dir, 'no', 'such')),
        (error: unknown) => ipc.isSyscallError(error, 'ENOENT') && error.syscall === 'mkfifo',
      );
    });
  });

  it('takes mode less the umask, 0o666 by default', () => {
    inTempDir((dir) => {
      const mask = process.umask();
      ipc.mkfifo(path.join(dir, 'default'));
      assert.equal(fs.statSync(path.join(dir, 'default')).mode & 0o7777, 0o666 & ~mask);
    });
  });

  it('rejects bad arguments before acting', () => {
    assert.throws(() => ipc.mkfifo(1 as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.mkfifo('/tmp/a\0b'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => ipc.mkfifo('/tmp/x', '600' as never), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.mkfifo('/tmp/x', -1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.mkfifo('/tmp/x', 0o10000), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.mkfifo('/tmp/x', 1.5), { code: 'ERR_OUT_OF_RANGE' });
  });

  it('is traced', () => {
    inTempDir((dir) => {
      const seen: ipc.TraceEvent[] = [];
      ipc.setTracer((e) => seen.push(e));
      try {
        ipc.mkfifo(path.join(dir, 'f'), 0o640);
      } finally {
        ipc.setTracer(null);
      }
      assert.deepEqual(
        seen.map((e) => [e.phase, e.call, e.args]),
        [
          ['start', 'mkfifo', [path.join(dir, 'f'), 0o640]],
          ['end', 'mkfifo', [path.join(dir, 'f'), 0o640]],
        ],
      );
    });
  });
});

describe('shutdown', () => {
  it('SHUT_WR gives the peer EOF while the other direction still carries bytes', () => {
    const [a, b] = ipc.socketpair();
    ipc.write(a, 'request');
    ipc.shutdown(a, ipc.SHUT_WR);
    const buf = Buffer.alloc(64);
    assert.equal(ipc.read(b, buf), 7);
    assert.equal(ipc.read(b, buf), 0, 'EOF on the peer');
    assert.equal(ipc.write(b, 'reply'), 5, 'the other way still flows');
    assert.equal(buf.toString('utf8', 0, ipc.read(a, buf)), 'reply');
    assert.throws(
      () => ipc.write(a, 'more'),
      (e: unknown) => ipc.isSyscallError(e, 'EPIPE'),
    );
    ipc.close(a);
    ipc.close(b);
  });

  it('fails with ENOTSOCK on a pipe and refuses bad arguments', () => {
    const [r, w] = ipc.pipe();
    assert.throws(
      () => ipc.shutdown(w, ipc.SHUT_WR),
      (e: unknown) => ipc.isSyscallError(e, 'ENOTSOCK') && e.syscall === 'shutdown' && e.errno === -88,
    );
    assert.throws(() => ipc.shutdown(w, 7), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.shutdown(w, 'SHUT_WR' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.shutdown(-1, ipc.SHUT_WR), { code: 'ERR_OUT_OF_RANGE' });
    ipc.close(r);
    ipc.close(w);
  });
});

describe('IPC lessons', () => {
  const byName = Object.fromEntries(LESSONS.map((l) => [l.name, l]));
  const run = (name: string) => {
    let text = '';
    const result = byName[name].run((t) => (text += t)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    return { result, text };
  };

  it("fifo: a FIFO in the directory; the reader's open waits in the kernel for a writer", () => {
    const { result, text } = run('fifo');
    assert.equal(result.isFifo, true);
    assert.equal(result.mode, '0600');
    assert.equal(result.size, 0);
    assert.equal(result.nonblockingWriteOpen, 'ENXIO');
    assert.equal(result.queued, 12, 'FIONREAD on the FIFO');
    assert.equal(result.sizeWithData, 0, 'nothing on disk');
    assert.equal(result.openerState, 'S');
    assert.match(result.openerWchan, /fifo|partner/, 'asleep in the FIFO open');
    assert.equal(result.heldWhileBlocked, false, 'no descriptor before open returns');
    assert.equal(result.openedAfterWriter, true);
    assert.equal(result.link, result.file, '/proc/self/fd links to the path');
    assert.equal(result.received, 'sent by name');
    assert.equal(result.exitCode, 0);
    assert.equal(fs.existsSync(result.file), false, 'the lesson removes its FIFO');
    assert.ok(text.includes(`stat: a FIFO, mode 0600, 0 bytes.`));
    assert.ok(text.includes('fails with ENXIO'));
    assert.ok(text.includes(`FIONREAD counts 12 bytes, stat's size\nstays ${result.sizeWithData}: they wait`));
    assert.ok(text.includes(`state S in ${result.openerWchan};`));
    assert.ok(text.includes('holds the FIFO: false.'));
    assert.ok(text.includes('holds the FIFO: true.'));
    assert.ok(text.includes(`  ${result.link}\n`));
    assert.ok(text.includes('the child read "sent by name" until EOF and exited 0.'));
  });

  it('socketpair: 2 descriptors instead of 4, sockets not pipes; SHUT_WR gives EOF one way only', () => {
    const { result, text } = run('socketpair');
    assert.deepEqual(result.pipeDescriptors, { parent: 2, child: 2 });
    assert.deepEqual(result.socketDescriptors, { parent: 1, child: 1 });
    assert.equal(result.ownLink, `socket:[${result.inodes[0]}]`);
    assert.equal(result.childLink, `socket:[${result.inodes[1]}]`);
    assert.equal(result.childState, 'S', 'the child sleeps in its read');
    assert.match(result.childWchan as string, /unix_stream/, "asleep in the Unix socket's read");
    assert.equal(result.afterShutdown, 'EPIPE');
    // EPIPE, not death: the kernel also raised SIGPIPE, which this process ignores.
    assert.equal(result.sigpipeIgnored, true, 'SigIgn in /proc/self/status has SIGPIPE');
    assert.ok(
      text.includes('its next write raises\nSIGPIPE (ignored here: SigIgn, /proc/self/status) and fails with EPIPE;'),
    );
    assert.equal(result.reply, 'got "a request", reads returned 9, 0', "the child's reads: the request, then EOF");
    assert.equal(result.exitCode, 0);
    assert.ok(text.includes('this process holds 2 descriptors of them and the child\n2 (/proc/PID/fd): 4 in all.'));
    assert.ok(text.includes('SOCK_STREAM): 1 descriptor here, 1 in the\nchild,'));
    assert.ok(text.includes(`is ${result.ownLink};\nthe child's fd`));
    assert.ok(text.includes(` is ${result.childLink}, not pipe:[...]`));
    assert.match(text, /The child reads:\n {2}state S in \S+\.\n/);
    assert.ok(text.includes(`  ${result.reply}\nThe child exited 0.`));
  });

  it('poll-both-pipes: a blocking read of the silent pipe waits; poll serves both to EOF', () => {
    const { result, text } = run('poll-both-pipes');
    assert.equal(result.readerWaited, true, 'the blocking reader of A was still there');
    assert.equal(result.readerState, 'S');
    assert.equal(result.bExit, 0);
    assert.equal(result.waitingInB, 'B: first\nB: second\n'.length, "B's bytes were queued meanwhile");
    assert.deepEqual(result.received, { A: 'A: done\n', B: 'B: first\nB: second\n' });
    assert.equal(result.aExit, 0);
    for (const child of ['A', 'B']) {
      const mine = (result.served as { child: string; revents: string; bytes: number }[]).filter(
        (s) => s.child === child,
      );
      const last = mine[mine.length - 1];
      assert.equal(last.bytes, 0, `${child} ends with EOF`);
      assert.match(last.revents, /POLLHUP/, `${child}'s EOF came with POLLHUP`);
      for (const s of mine.slice(0, -1)) assert.match(s.revents, /POLLIN/, `${child}'s data came with POLLIN`);
      assert.equal(mine.filter((s) => s.bytes === 0).length, 1, 'one EOF each, then its descriptor is closed');
    }
    for (const s of result.served) {
      const end = s.bytes === 0 ? ': EOF, closed' : ' bytes';
      assert.ok(text.includes(`  ${s.child}: ${s.revents}, read ${s.bytes}${end}\n`), `${s.child} ${s.revents}`);
    }
    assert.match(text, /still waits \(true\), state S in \S*pipe\S*,\n/);
    assert.ok(text.includes(`B has exited 0 and its pipe holds ${result.waitingInB} bytes (FIONREAD)`));
  });

  it('nonblocking-writes: up to PIPE_BUF all or EAGAIN, more than PIPE_BUF part or EAGAIN', () => {
    const { result, text } = run('nonblocking-writes');
    assert.equal(result.pipeBuf, 4096, 'getconf PIPE_BUF');
    // The cases are built from 4096-byte pages; on a kernel with other pages their outcomes differ.
    assert.equal(result.pageSize, 4096, 'getconf PAGESIZE');
    assert.match(text, /in pages, of 4096 bytes here \(getconf PAGESIZE\):\n8192 free bytes are 2 empty pages;/);
    assert.match(text, /n > PIPE_BUF: a part may go in, and write\(\) then returns less than n\./);
    assert.deepEqual(result.fits, { asked: 4096, room: 65536, result: 4096, added: 4096 });
    assert.deepEqual(result.noRoom, { asked: 4096, room: 2048, result: 'EAGAIN', added: 0 });
    assert.deepEqual(result.partial, { asked: 20480, room: 8192, result: 8192, added: 8192 });
    assert.deepEqual(result.full, { asked: 20480, room: 0, result: 'EAGAIN', added: 0 });
    assert.equal(result.blockingState, 'S', 'the blocking writer sleeps');
    assert.equal(result.addedWhileBlocked, 0, 'nothing of its write went in while it waited');
    assert.equal(result.blockingExit, 0, 'its write returned all PIPE_BUF bytes');
    assert.equal(result.queuedAfter, result.queuedBefore);
    for (const c of [result.fits, result.noRoom, result.partial, result.full]) {
      const outcome = typeof c.result === 'number' ? `returned ${c.result}` : `failed with ${c.result}`;
      assert.ok(text.includes(`${c.asked} bytes, ${c.room} free: ${outcome}, ${c.added} added`), outcome);
    }
    assert.match(text, /PIPE_BUF is 4096 here/);
    assert.match(text, /the writer is in state S in \S*pipe\S*, 0 bytes added meanwhile/);
    assert.match(text, new RegExp(`exited 0\n  \\(FIONREAD: ${result.queuedBefore}, then ${result.queuedAfter}\\)`));
  });

  it("popen: a command's output and input through a pipe; pclose's waitpid brings the shell's status", () => {
    const { result, text } = run('popen');
    assert.equal(result.output, 'POPEN READS THIS\n');
    assert.equal(result.readExitCode, 3, 'sh -c ... ; exit 3');
    assert.equal(result.stdinIsPipe, true, "the command's fd 0 is the parent's pipe");
    assert.equal(result.stillRunning, true, 'waitpid before close would not return');
    assert.equal(result.hungState, 'S');
    assert.equal(result.comm, 'tr');
    assert.equal(result.writeExitCode, 0);
    assert.equal(result.written, 'WRITTEN BY THE PARENT\n');
    assert.ok(text.includes(`read ${JSON.stringify(result.output)} until EOF; pclose's waitpid: exited 3,`));
    assert.ok(text.includes("is this process's pipe:["));
    assert.match(text, /pipe:\[\d+\]: true; 22 bytes/);
    assert.match(text, /still runs \(true\), state S in \S*pipe\S*:\n {2}tr \(its comm/);
    assert.ok(text.includes('close, then waitpid: exited 0; the file holds\n  "WRITTEN BY THE PARENT\\n".'));
  });

  it(
    'socketpair: the write after SHUT_WR raises SIGPIPE, ignored, then fails EPIPE (strace)',
    {
      skip: skipUnless(missingStrace()),
    },
    () => {
      const traced = spawnSync(process.execPath, [CLI, 'lesson', 'socketpair', '--trace'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(traced.status, 0, traced.stderr);
      assert.match(
        traced.stderr,
        /^\[parent (\d+)\] --- SIGPIPE \{si_code=SI_USER, si_pid=\1\} --- \(ignored: SIG_IGN\)\n(?:.*\n)*?\[parent \1\] write\(\d+, "more", 4\) = -1 EPIPE/m,
      );
    },
  );

  it("--trace shows mkfifo's path and octal mode, and shutdown's SHUT_WR", () => {
    const fifo = spawnSync(process.execPath, [CLI, 'lesson', 'fifo', '--trace=mkfifo'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(fifo.status, 0, fifo.stderr);
    assert.match(fifo.stderr, /^\[parent \d+\] mkfifo\("\/\S+\/fifo", 0600\) = 0$/m);
    const socket = spawnSync(process.execPath, [CLI, 'lesson', 'socketpair', '--trace=shutdown'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(socket.status, 0, socket.stderr);
    assert.match(socket.stderr, /^\[parent \d+\] shutdown\(\d+, SHUT_WR\) = 0$/m);
  });
});

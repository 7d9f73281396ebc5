// The system calls: success paths, errno errors, and argument checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ipc from '../src/index';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { fdFlags } from '../src/internal/proc';
import { nativeInternals } from '../src/native';
import { inChild } from './helpers';

const { pipe, read, write, close, waitpid, wait, getpid, getppid, fork, _exit } = ipc;

function assertErrno(fn: () => unknown, code: string, syscall: string, errno: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ipc.SyscallError, 'a SyscallError');
    assert.ok(error instanceof Error);
    assert.equal(error.code, code);
    assert.equal(error.syscall, syscall);
    assert.equal(error.errno, errno);
    assert.match(error.message, new RegExp(`^${code}: [a-z ]+, ${syscall}$`));
    return true;
  });
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('pipe', () => {
  it('returns two new descriptors, read end first, that carry bytes in order', () => {
    const before = openFds();
    const [r, w] = pipe();
    assert.ok(Number.isInteger(r) && Number.isInteger(w) && r !== w);
    assert.equal(openFds(), before + 2);
    assert.equal(write(w, 'hello, '), 7);
    assert.equal(write(w, Buffer.from('pipe')), 4);
    const buf = Buffer.alloc(64);
    assert.equal(read(r, buf), 11);
    assert.equal(buf.toString('utf8', 0, 11), 'hello, pipe');
    close(r);
    close(w);
    assert.equal(openFds(), before);
  });

  it('passes O_CLOEXEC and O_NONBLOCK to pipe2', () => {
    const [r, w] = pipe(ipc.O_CLOEXEC | ipc.O_NONBLOCK);
    const flags = fdFlags(r);
    assert.ok(flags & 0o2000000, 'O_CLOEXEC is set');
    assert.ok(flags & 0o4000, 'O_NONBLOCK is set');
    assertErrno(() => read(r, Buffer.alloc(1)), 'EAGAIN', 'read', -11);
    close(r);
    close(w);
  });

  it('without flags gives inheritable, blocking descriptors', () => {
    const [r, w] = pipe();
    const flags = fdFlags(r);
    assert.equal(flags & 0o2000000, 0);
    assert.equal(flags & 0o4000, 0);
    close(r);
    close(w);
  });

  it('fails with EINVAL for unknown flags', () => {
    assertErrno(() => pipe(0x1), 'EINVAL', 'pipe', -22);
  });
});

describe('read and write', () => {
  it("read fills the caller's buffer at offset, no copy, and honours length", () => {
    const [r, w] = pipe();
    write(w, 'abcdef');
    const backing = new Uint8Array(10).fill(0x2e);
    const view = new Uint8Array(backing.buffer, 2, 6);
    assert.equal(read(r, view, 1, 3), 3);
    assert.equal(Buffer.from(backing).toString(), '...abc....');
    assert.equal(read(r, view), 3);
    assert.equal(Buffer.from(backing).toString(), '..defc....');
    close(r);
    close(w);
  });

  it('write sends bytes from offset for length, strings as UTF-8', () => {
    const [r, w] = pipe();
    assert.equal(write(w, Buffer.from('0123456789'), 2, 5), 5);
    assert.equal(write(w, 'é€'), 5);
    assert.equal(write(w, 'xyz', 1), 2);
    const buf = Buffer.alloc(32);
    const n = read(r, buf);
    assert.equal(buf.toString('utf8', 0, n), '23456é€yz');
    close(r);
    close(w);
  });

  it('read returns 0 at end of file, once every write end is closed', () => {
    const [r, w] = pipe();
    write(w, 'last');
    close(w);
    const buf = Buffer.alloc(8);
    assert.equal(read(r, buf), 4);
    assert.equal(read(r, buf), 0);
    close(r);
  });

  it('a short count: a non-blocking write into a full pipe takes what fits', () => {
    const [r, w] = pipe(ipc.O_NONBLOCK);
    const big = Buffer.alloc(1 << 20, 0x61);
    const n = write(w, big);
    assert.ok(n > 0 && n < big.length, `wrote ${n} of ${big.length}`);
    assertErrno(() => write(w, big), 'EAGAIN', 'write', -11);
    close(r);
    close(w);
  });

  it('EPIPE once the read end is closed (SIGPIPE is ignored by Node)', () => {
    const [r, w] = pipe();
    close(r);
    assertErrno(() => write(w, 'x'), 'EPIPE', 'write', -32);
    close(w);
  });

  it('EBADF after close, for read, write and close', () => {
    const [r, w] = pipe();
    close(r);
    close(w);
    assertErrno(() => read(r, Buffer.alloc(1)), 'EBADF', 'read', -9);
    assertErrno(() => write(w, 'x'), 'EBADF', 'write', -9);
    assertErrno(() => close(r), 'EBADF', 'close', -9);
  });

  it('EBADF: read from a write end, write to a read end', () => {
    const [r, w] = pipe();
    assertErrno(() => read(w, Buffer.alloc(1)), 'EBADF', 'read', -9);
    assertErrno(() => write(r, 'x'), 'EBADF', 'write', -9);
    close(r);
    close(w);
  });
});

describe('waitpid', () => {
  it('decodes an exit code', () => {
    const pid = fork();
    if (pid === 0) _exit(42);
    const st = waitpid(pid);
    assert.equal(st.pid, pid);
    assert.equal(st.exited, true);
    assert.equal(st.exitCode, 42);
    assert.equal(st.signaled, false);
    assert.equal(st.signal, null);
    assert.equal(st.status, 42 << 8);
  });

  it('decodes a signal, and WNOHANG reports pid 0 while the child runs', () => {
    const [r, w] = pipe();
    const pid = fork();
    if (pid === 0) {
      close(w);
      read(r, Buffer.alloc(1)); // blocks until the parent is done looking
      _exit(0);
    }
    close(r);
    const running = waitpid(pid, ipc.WNOHANG);
    assert.equal(running.pid, 0);
    assert.equal(running.exited || running.signaled || running.stopped, false);
    process.kill(pid, 'SIGKILL');
    const st = waitpid(pid);
    close(w);
    assert.equal(st.pid, pid);
    assert.equal(st.signaled, true);
    assert.equal(st.signal, 'SIGKILL');
    assert.equal(st.coreDumped, false);
    assert.equal(st.exited, false);
    assert.equal(st.exitCode, null);
  });

  it('reports a stopped child under WUNTRACED, and its resumption under WCONTINUED', () => {
    const [r, w] = pipe();
    const pid = fork();
    if (pid === 0) {
      close(w);
      read(r, Buffer.alloc(1));
      _exit(0);
    }
    close(r);
    process.kill(pid, 'SIGSTOP');
    const stopped = waitpid(pid, ipc.WUNTRACED);
    assert.equal(stopped.stopped, true);
    assert.equal(stopped.stopSignal, 'SIGSTOP');
    process.kill(pid, 'SIGCONT');
    const resumed = waitpid(pid, ipc.WCONTINUED);
    assert.equal(resumed.continued, true);
    close(w);
    assert.equal(waitpid(pid).exitCode, 0);
  });

  it('wait() reaps any child', () => {
    const pid = fork();
    if (pid === 0) _exit(3);
    const st = wait();
    assert.equal(st.pid, pid);
    assert.equal(st.exitCode, 3);
  });

  it('ECHILD when there is no child to wait for', () => {
    assertErrno(() => waitpid(-1), 'ECHILD', 'waitpid', -10);
    assertErrno(() => wait(), 'ECHILD', 'waitpid', -10);
    assertErrno(() => waitpid(1), 'ECHILD', 'waitpid', -10);
  });

  it('decodeWaitStatus reads raw statuses as <sys/wait.h> does', () => {
    assert.deepEqual(
      { ...ipc.decodeWaitStatus(9, 0x8b) },
      {
        pid: 9,
        status: 0x8b,
        exited: false,
        exitCode: null,
        signaled: true,
        signal: 'SIGSEGV',
        coreDumped: true,
        stopped: false,
        stopSignal: null,
        continued: false,
      },
    );
    assert.equal(ipc.decodeWaitStatus(9, 0x147f).stopSignal, 'SIGTSTP');
    assert.equal(ipc.decodeWaitStatus(9, 0xffff).continued, true);
    assert.equal(ipc.decodeWaitStatus(9, 0x0100).exitCode, 1);
    assert.equal(ipc.signalName(40), 'SIG40');
  });
});

describe('getpid, getppid, _exit', () => {
  it('getpid and getppid match what Node reports', () => {
    assert.equal(getpid(), process.pid);
    assert.equal(getppid(), process.ppid);
  });

  it('_exit ends the process at once with the given status, running no exit listeners', () => {
    const child = inChild(() => {
      process.on('exit', () => ipc.write(1, 'exit listener ran\n'));
      _exit(7);
    });
    assert.equal(child.status.exitCode, 7);
    const script = `process.on('exit', () => console.log('listener')); require(${JSON.stringify(
      path.resolve(__dirname, '../src/index'),
    )})._exit(300)`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 300 & 0xff);
    assert.equal(run.stdout, '');
  });
});

describe('sleep', () => {
  it('blocks the thread with nanosleep for about the time asked', () => {
    const start = process.hrtime.bigint();
    ipc.sleep(30);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms >= 30, `slept ${ms} ms`);
  });
});

describe('setTracer', () => {
  type Seen = Pick<ipc.TraceEvent, 'phase' | 'id' | 'call' | 'pid' | 'result'> & { code?: string };
  const seen = (e: ipc.TraceEvent): Seen => ({
    phase: e.phase,
    id: e.id,
    call: e.call,
    pid: e.pid,
    ...('result' in e ? { result: e.result } : {}),
    ...(e.error ? { code: e.error.code } : {}),
  });

  it('reports each call at its start and at its end, under one id, with pid and time', () => {
    const events: ipc.TraceEvent[] = [];
    const before = performance.timeOrigin + performance.now();
    ipc.setTracer((e) => events.push(e));
    let r = -1;
    let w = -1;
    try {
      [r, w] = pipe();
      write(w, 'hi');
      read(r, Buffer.alloc(2));
      close(w);
      assert.throws(() => close(w));
    } finally {
      ipc.setTracer(null);
      close(r);
    }
    const me = process.pid;
    const calls = events.map(seen);
    const id = (i: number) => calls[i].id;
    assert.deepEqual(calls, [
      { phase: 'start', id: id(0), call: 'pipe', pid: me },
      { phase: 'end', id: id(0), call: 'pipe', pid: me, result: [r, w] },
      { phase: 'start', id: id(2), call: 'write', pid: me },
      { phase: 'end', id: id(2), call: 'write', pid: me, result: 2 },
      { phase: 'start', id: id(4), call: 'read', pid: me },
      { phase: 'end', id: id(4), call: 'read', pid: me, result: 2 },
      { phase: 'start', id: id(6), call: 'close', pid: me },
      { phase: 'end', id: id(6), call: 'close', pid: me, result: undefined },
      { phase: 'start', id: id(8), call: 'close', pid: me },
      { phase: 'end', id: id(8), call: 'close', pid: me, code: 'EBADF' },
    ]);
    assert.equal(new Set(calls.map((c) => c.id)).size, 5, 'one id per call');
    const times = events.map((e) => e.time);
    assert.ok(times[0] >= before - 1 && times.every((t, i) => i === 0 || t >= times[i - 1]), 'times in order');
    assert.ok(times.at(-1)! <= performance.timeOrigin + performance.now() + 1);
  });

  it('fork: a start in the parent, an end in each process (0 in the child, with its own pid)', () => {
    const [r, w] = pipe();
    const events: ipc.TraceEvent[] = [];
    ipc.setTracer((e) => events.push(e));
    let pid: number;
    try {
      pid = fork(() => {
        const forkEvents = events.filter((e) => e.call === 'fork').map(seen);
        ipc.setTracer(null);
        write(w, JSON.stringify(forkEvents));
      });
    } finally {
      ipc.setTracer(null);
    }
    close(w);
    let text = '';
    const buf = Buffer.alloc(4096);
    for (let n; (n = read(r, buf)) > 0;) text += buf.toString('utf8', 0, n);
    close(r);
    assert.equal(waitpid(pid).exitCode, 0);
    const inParent = events.filter((e) => e.call === 'fork').map(seen);
    const id = inParent[0].id;
    assert.deepEqual(inParent, [
      { phase: 'start', id, call: 'fork', pid: process.pid },
      { phase: 'end', id, call: 'fork', pid: process.pid, result: pid },
    ]);
    assert.deepEqual(JSON.parse(text), [
      { phase: 'start', id, call: 'fork', pid: process.pid },
      { phase: 'end', id, call: 'fork', pid, result: 0 },
    ]);
  });

  it('_exit has a start and no end', () => {
    const child = inChild((report) => {
      ipc.setTracer((e) => {
        ipc.setTracer(null); // report() writes, and its write would be traced too
        report(`${e.phase} ${e.call}(${e.args.join(', ')});`);
      });
      _exit(7);
    });
    assert.equal(child.status.exitCode, 7);
    assert.equal(child.report, 'start _exit(7);');
  });
});

describe('dup and dup2', () => {
  it('dup gives the lowest free number, for the same open file description (shared flags)', () => {
    const [r, w] = pipe();
    const copy = ipc.dup(w);
    const lowest = Math.min(
      ...Array.from({ length: copy + 1 }, (_, fd) => fd).filter(
        (fd) => !readdirSync('/proc/self/fd').includes(String(fd)) || fd === copy,
      ),
    );
    assert.equal(copy, lowest, 'the lowest number not in use');
    write(copy, 'via the copy');
    assert.equal(ipc.bytesQueued(r), 12);
    ipc.fcntl(w, ipc.F_SETFL, ipc.fcntl(w, ipc.F_GETFL) | ipc.O_NONBLOCK);
    assert.ok(fdFlags(copy) & ipc.O_NONBLOCK, 'status flags live in the shared description');
    close(copy);
    close(w);
    assert.equal(read(r, Buffer.alloc(64)), 12);
    assert.equal(read(r, Buffer.alloc(64)), 0, 'EOF: both descriptors of the write end are closed');
    close(r);
    assertErrno(() => ipc.dup(r), 'EBADF', 'dup', -9);
  });

  it('dup2 redirects a descriptor number, closing what it held', () => {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    assert.equal(ipc.dup2(w1, w2), w2);
    write(w2, 'x');
    assert.equal(ipc.bytesQueued(r1), 1, 'w2 now writes into the first pipe');
    assert.equal(ipc.bytesQueued(r2), 0);
    close(w2);
    assert.equal(read(r2, Buffer.alloc(1)), 0, "the second pipe's only write end was closed by dup2");
    assert.equal(ipc.dup2(w1, w1), w1, 'the same descriptor: nothing happens');
    [r1, w1, r2].forEach(close);
    assertErrno(() => ipc.dup2(w1, 100), 'EBADF', 'dup2', -9);
  });
});

describe('execvp', () => {
  it('a forked child runs a real program; its exit status reaches waitpid', () => {
    const pid = fork(() => ipc.execvp('sh', ['sh', '-c', 'exit 7']));
    const status = waitpid(pid);
    assert.equal(status.exitCode, 7);
  });

  it('the program inherits descriptors (dup2 onto stdout) and gets EOF when all writers close', () => {
    const [r, w] = pipe();
    const pid = fork(() => {
      ipc.dup2(w, 1);
      close(w);
      close(r);
      ipc.execvp('echo', ['echo', 'from', 'echo']);
    });
    close(w);
    let text = '';
    const buf = Buffer.alloc(256);
    for (let n; (n = read(r, buf)) > 0;) text += buf.toString('utf8', 0, n);
    close(r);
    assert.equal(text, 'from echo\n');
    assert.equal(waitpid(pid).exitCode, 0);
  });

  it('closes O_CLOEXEC descriptors in the program and keeps the others', () => {
    const [r1, w1] = pipe(ipc.O_CLOEXEC);
    const [r2, w2] = pipe();
    const [out, into] = pipe();
    const pid = fork(() => {
      ipc.dup2(into, 1);
      ipc.execvp('sh', [
        'sh',
        '-c',
        `test -e /proc/self/fd/${w1} && echo w1; test -e /proc/self/fd/${w2} && echo w2; true`,
      ]);
    });
    [r1, w1, r2, w2, into].forEach(close);
    let text = '';
    const buf = Buffer.alloc(256);
    for (let n; (n = read(out, buf)) > 0;) text += buf.toString('utf8', 0, n);
    close(out);
    assert.equal(waitpid(pid).exitCode, 0);
    assert.equal(text, 'w2\n');
  });

  it('fails with ENOENT and leaves the process as it was', () => {
    assertErrno(() => ipc.execvp('no-such-program-here', ['x']), 'ENOENT', 'execvp', -2);
    assert.throws(() => ipc.execvp('sh', 'sh' as never), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.execvp('sh', ['sh', 1 as never]), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.execvp('sh', ['sh\0']), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => ipc.execvp('', []), { code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('kill', () => {
  it('sends a signal by name or number; 0 checks; ESRCH once the process is reaped', () => {
    const pid = fork(() => {
      for (;;) ipc.sleep(1000);
    });
    ipc.kill(pid, 0);
    ipc.kill(pid, 'SIGSTOP');
    assert.equal(waitpid(pid, ipc.WUNTRACED).stopSignal, 'SIGSTOP');
    ipc.kill(pid, 9);
    assert.equal(waitpid(pid).signal, 'SIGKILL');
    assertErrno(() => ipc.kill(pid, 0), 'ESRCH', 'kill', -3);
    assert.throws(() => ipc.kill(pid, 'SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL' });
    assert.throws(() => ipc.kill(pid, -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.kill('1' as never, 0), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('poll', () => {
  it('reports readable, writable and hang-up, decoded', () => {
    const [r, w] = pipe();
    const polled = ipc.poll(
      [
        { fd: r, events: ipc.POLLIN },
        { fd: w, events: ipc.POLLOUT },
      ],
      0,
    );
    let rr = polled[0];
    const ww = polled[1];
    assert.equal(rr.revents, 0, 'nothing to read yet');
    assert.deepEqual([ww.writable, ww.readable], [true, false]);
    write(w, 'x');
    [rr] = ipc.poll([{ fd: r, events: ipc.POLLIN }], 1000);
    assert.equal(rr.revents, ipc.POLLIN);
    assert.equal(rr.readable, true);
    close(w);
    [rr] = ipc.poll([{ fd: r, events: ipc.POLLIN }], 1000);
    assert.equal(rr.hangup, true, 'no writer left');
    const [bad] = ipc.poll([{ fd: w, events: ipc.POLLIN }], 0);
    assert.equal(bad.invalid, true, 'a closed descriptor: POLLNVAL');
    close(r);
  });

  it('times out with no revents; a signal neither ends the wait early nor restarts it in full', () => {
    const [r, w] = pipe();
    const started = Date.now();
    const [rr] = ipc.poll([{ fd: r, events: ipc.POLLIN }], 50);
    assert.equal(rr.revents, 0);
    assert.ok(Date.now() - started >= 45);
    // A child interrupts the wait with a signal that has a handler (so poll(2)
    // fails with EINTR each time): the wait must neither fail nor end early.
    const parent = process.pid;
    const onSignal = () => {};
    process.on('SIGUSR2', onSignal);
    const pinger = fork(() => {
      for (let i = 0; i < 20; i++) {
        ipc.kill(parent, 'SIGUSR2');
        ipc.sleep(10);
      }
    });
    const t0 = Date.now();
    const [again] = ipc.poll([{ fd: r, events: ipc.POLLIN }], 300);
    const waited = Date.now() - t0;
    assert.equal(again.revents, 0);
    assert.ok(waited >= 290, `waited ${waited} ms`);
    assert.equal(waitpid(pinger).exitCode, 0, 'every signal was sent');
    process.off('SIGUSR2', onSignal);
    close(r);
    close(w);
  });

  it('rejects bad arguments', () => {
    assert.throws(() => ipc.poll({} as never, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.poll([{ fd: -1, events: 1 }], 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.poll([], -2), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.poll([null as never], 0), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('fcntl and bytesQueued', () => {
  it('O_NONBLOCK through F_GETFL/F_SETFL; FD_CLOEXEC through F_GETFD/F_SETFD', () => {
    const [r, w] = pipe();
    assert.equal(ipc.fcntl(r, ipc.F_GETFL) & ipc.O_NONBLOCK, 0);
    ipc.fcntl(r, ipc.F_SETFL, ipc.fcntl(r, ipc.F_GETFL) | ipc.O_NONBLOCK);
    assertErrno(() => read(r, Buffer.alloc(1)), 'EAGAIN', 'read', -11);
    assert.equal(ipc.fcntl(r, ipc.F_GETFD), 0);
    ipc.fcntl(r, ipc.F_SETFD, ipc.FD_CLOEXEC);
    assert.equal(ipc.fcntl(r, ipc.F_GETFD), ipc.FD_CLOEXEC);
    assert.ok(fdFlags(r) & 0o2000000, '/proc shows O_CLOEXEC');
    close(r);
    close(w);
  });

  it("F_GETPIPE_SZ / F_SETPIPE_SZ read and change a pipe's capacity; FIONREAD counts queued bytes", () => {
    const [r, w] = pipe(ipc.O_NONBLOCK);
    assert.equal(ipc.fcntl(w, ipc.F_GETPIPE_SZ), 65536);
    assert.equal(ipc.fcntl(w, ipc.F_SETPIPE_SZ, 100_000), 131072, 'rounded up to a power of two pages');
    let total = 0;
    try {
      for (;;) total += write(w, Buffer.alloc(4096));
    } catch (error) {
      assert.equal((error as { code: string }).code, 'EAGAIN');
    }
    assert.equal(total, 131072);
    assert.equal(ipc.bytesQueued(r), 131072);
    read(r, Buffer.alloc(1000));
    assert.equal(ipc.bytesQueued(r), 130072);
    close(r);
    close(w);
    assertErrno(() => ipc.bytesQueued(r), 'EBADF', 'ioctl', -9);
    assertErrno(() => ipc.fcntl(r, ipc.F_GETFL), 'EBADF', 'fcntl', -9);
  });

  it('refuses commands it does not wrap and bad arguments', () => {
    assert.throws(() => ipc.fcntl(0, 5 /* F_GETLK: takes a pointer */), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.fcntl(0, 'F_GETFL' as never), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ipc.fcntl(0, ipc.F_SETFL, -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.bytesQueued(-1), { code: 'ERR_OUT_OF_RANGE' });
    const native = require(path.resolve(__dirname, '../src/native')).native;
    assert.throws(() => native.fcntl(0, 5, 0), RangeError);
    assert.throws(() => native.poll([1, 2, 3], 0), TypeError);
    assert.throws(() => native.poll(new Int32Array(2), 0), RangeError);
    assert.throws(() => native.execvp('sh', 'sh'), TypeError);
  });
});

describe('bad arguments never reach the kernel', () => {
  const buf = Buffer.alloc(8);
  const cases: [string, () => unknown, string][] = [
    ['pipe("x")', () => pipe('x' as never), 'ERR_INVALID_ARG_TYPE'],
    ['pipe(-1)', () => pipe(-1), 'ERR_OUT_OF_RANGE'],
    ['pipe(1.5)', () => pipe(1.5), 'ERR_OUT_OF_RANGE'],
    ['read("0")', () => read('0' as never, buf), 'ERR_INVALID_ARG_TYPE'],
    ['read(-1)', () => read(-1, buf), 'ERR_OUT_OF_RANGE'],
    ['read(NaN)', () => read(NaN, buf), 'ERR_OUT_OF_RANGE'],
    ['read(2**31)', () => read(2 ** 31, buf), 'ERR_OUT_OF_RANGE'],
    ['read(fd, "str")', () => read(0, 'str' as never), 'ERR_INVALID_ARG_TYPE'],
    ['read(fd, Uint16Array)', () => read(0, new Uint16Array(4) as never), 'ERR_INVALID_ARG_TYPE'],
    ['read(fd, null)', () => read(0, null as never), 'ERR_INVALID_ARG_TYPE'],
    ['read offset past end', () => read(0, buf, 9), 'ERR_OUT_OF_RANGE'],
    ['read length past end', () => read(0, buf, 4, 5), 'ERR_OUT_OF_RANGE'],
    ['read negative length', () => read(0, buf, 0, -1), 'ERR_OUT_OF_RANGE'],
    ['read fractional offset', () => read(0, buf, 0.5), 'ERR_OUT_OF_RANGE'],
    ['write(fd, 42)', () => write(1, 42 as never), 'ERR_INVALID_ARG_TYPE'],
    ['write(fd, {})', () => write(1, {} as never), 'ERR_INVALID_ARG_TYPE'],
    ['write(1.1, "x")', () => write(1.1, 'x'), 'ERR_OUT_OF_RANGE'],
    ['write length past end', () => write(1, 'abc', 1, 3), 'ERR_OUT_OF_RANGE'],
    ['write offset "1"', () => write(1, 'abc', '1' as never), 'ERR_INVALID_ARG_TYPE'],
    ['close(undefined)', () => close(undefined as never), 'ERR_INVALID_ARG_TYPE'],
    ['close(-5)', () => close(-5), 'ERR_OUT_OF_RANGE'],
    ['close(Infinity)', () => close(Infinity), 'ERR_OUT_OF_RANGE'],
    ['waitpid("1")', () => waitpid('1' as never), 'ERR_INVALID_ARG_TYPE'],
    ['waitpid(1.5)', () => waitpid(1.5), 'ERR_OUT_OF_RANGE'],
    ['waitpid(-1, -1)', () => waitpid(-1, -1), 'ERR_OUT_OF_RANGE'],
    ['_exit("0")', () => _exit('0' as never), 'ERR_INVALID_ARG_TYPE'],
    ['_exit(0.5)', () => _exit(0.5), 'ERR_OUT_OF_RANGE'],
    ['sleep(-1)', () => ipc.sleep(-1), 'ERR_OUT_OF_RANGE'],
    ['sleep(null)', () => ipc.sleep(null as never), 'ERR_INVALID_ARG_TYPE'],
    ['registerAtFork(null)', () => ipc.registerAtFork(null as never), 'ERR_INVALID_ARG_TYPE'],
    ['registerAtFork({before: 1})', () => ipc.registerAtFork({ before: 1 as never }), 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [name, call, code] of cases) {
    it(`${name} throws ${code}`, () => {
      assert.throws(call, (error: unknown) => {
        const e = error as Error & { code: string };
        assert.equal(e.code, code);
        assert.ok(e instanceof (code === 'ERR_INVALID_ARG_TYPE' ? TypeError : RangeError));
        assert.ok(!(e instanceof ipc.SyscallError));
        return true;
      });
    });
  }

  it('a detached buffer is an empty buffer, not a crash', () => {
    const [r, w] = pipe();
    const detached = new Uint8Array(16);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    assert.equal(detached.byteLength, 0);
    assert.throws(() => read(r, detached, 0, 1), { code: 'ERR_OUT_OF_RANGE' });
    assert.equal(write(w, detached), 0);
    close(r);
    close(w);
  });

  it('the addon itself rejects bad arguments with TypeError/RangeError, never a crash', () => {
    const native = require(path.resolve(__dirname, '../src/native')).native;
    assert.throws(() => native.read(0, 'x', 0, 1), TypeError);
    assert.throws(() => native.read(0, Buffer.alloc(1), 0, 2), RangeError);
    assert.throws(() => native.write(-1, Buffer.alloc(1), 0, 1), RangeError);
    assert.throws(() => native.pipe(), TypeError);
    assert.throws(() => native.fork('x'), TypeError);
    assert.throws(() => native.fork([-1]), TypeError);
    assert.throws(() => native.waitpid(0.5, 0), RangeError);
  });
});

describe('the package entry', () => {
  it('works through require() and through import', () => {
    const esm = `import { pipe, fork, waitpid, SyscallError, WNOHANG } from 'bidirectional-ipc';
      console.log(typeof pipe, typeof fork, typeof waitpid, typeof SyscallError, typeof WNOHANG);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', esm], {
      encoding: 'utf8',
      cwd: PACKAGE_ROOT,
    });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, 'function function function function number\n');
    const cjs = spawnSync(
      process.execPath,
      ['-e', `const m = require('bidirectional-ipc'); console.log(typeof m.read, typeof m.write)`],
      { encoding: 'utf8', cwd: PACKAGE_ROOT },
    );
    assert.equal(cjs.stdout, 'function function\n');
  });

  it('import names every export that require() gives, those of `export *` lines included', () => {
    const script = `import * as esm from 'bidirectional-ipc';
      import { createRequire } from 'node:module';
      const cjs = createRequire(import.meta.url)('bidirectional-ipc');
      console.log(JSON.stringify(Object.keys(cjs).filter((name) => !(name in esm))));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: PACKAGE_ROOT,
    });
    assert.equal(run.stderr, '');
    assert.deepEqual(JSON.parse(run.stdout), []);
  });
});

describe('setParentDeathSignal', () => {
  /**
   * In a child that is a subreaper (so that the orphan becomes its child and
   * it can read the orphan's wait status): a middle process forks a process
   * that calls setParentDeathSignal with each of `signals` in turn and
   * reports; the middle one then exits. Returns the orphan's status, or
   * 'running' if it was still alive 300 ms after its parent had gone.
   */
  function orphanFate(signals: (string | number)[]): string {
    const { report, status } = inChild((say) => {
      nativeInternals.lessonBecomeSubreaper();
      const [r, w] = pipe();
      const middle = fork(() => {
        const [readyR, readyW] = pipe();
        fork(() => {
          for (const signal of signals) ipc.setParentDeathSignal(signal);
          write(readyW, `${getpid()}`);
          for (;;) ipc.sleep(1000);
        });
        close(readyW);
        const buf = Buffer.alloc(32);
        write(w, buf.subarray(0, read(readyR, buf))); // the orphan's pid, once it has made its calls
      });
      close(w);
      const buf = Buffer.alloc(32);
      const orphan = Number(buf.toString('utf8', 0, read(r, buf)));
      assert.equal(waitpid(middle).exitCode, 0);
      const deadline = Date.now() + 300;
      let st = waitpid(orphan, ipc.WNOHANG);
      while (st.pid === 0 && Date.now() < deadline) {
        ipc.sleep(5);
        st = waitpid(orphan, ipc.WNOHANG);
      }
      if (st.pid === 0) {
        ipc.kill(orphan, 'SIGKILL');
        waitpid(orphan);
        say('running');
      } else say(st.signaled ? `killed by ${st.signal}` : `exited ${st.exitCode}`);
    });
    assert.equal(status.exitCode, 0, report);
    return report;
  }

  it('has the kernel send the signal, by name or number, when the parent dies; 0 clears it', () => {
    assert.equal(orphanFate(['SIGTERM']), 'killed by SIGTERM');
    assert.equal(orphanFate([9]), 'killed by SIGKILL');
    assert.equal(orphanFate(['SIGTERM', 0]), 'running');
  });

  it('checks its argument as kill() does; the kernel refuses a signal past the last', () => {
    assert.throws(() => ipc.setParentDeathSignal('SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL' });
    assert.throws(() => ipc.setParentDeathSignal(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.setParentDeathSignal(1.5), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.setParentDeathSignal({} as never), { code: 'ERR_INVALID_ARG_TYPE' });
    assertErrno(() => ipc.setParentDeathSignal(65), 'EINVAL', 'prctl', -22);
  });
});

describe('pidfdOpen', () => {
  it('gives a close-on-exec descriptor that polls readable once the process has ended', () => {
    const [r, w] = pipe();
    const pid = fork(() => {
      close(w);
      read(r, Buffer.alloc(1)); // until the parent closes its write end
    });
    close(r);
    const pidfd = ipc.pidfdOpen(pid);
    try {
      assert.ok(ipc.fcntl(pidfd, ipc.F_GETFD) & ipc.FD_CLOEXEC);
      assert.equal(ipc.poll([{ fd: pidfd, events: ipc.POLLIN }], 0)[0].readable, false, 'running');
      close(w);
      assert.equal(ipc.poll([{ fd: pidfd, events: ipc.POLLIN }], 10_000)[0].readable, true, 'ended');
      assert.equal(waitpid(pid).exitCode, 0);
    } finally {
      close(pidfd);
    }
  });

  it('fails with ESRCH for no such process; checks its argument', () => {
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    assertErrno(() => ipc.pidfdOpen(pidMax), 'ESRCH', 'pidfd_open', -3);
    assert.throws(() => ipc.pidfdOpen(0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.pidfdOpen(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ipc.pidfdOpen('1' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('is traced, as setParentDeathSignal is', () => {
    const events: ipc.TraceEvent[] = [];
    ipc.setTracer((e) => events.push(e));
    let fd: number;
    try {
      fd = ipc.pidfdOpen(getpid());
      ipc.setParentDeathSignal(0);
    } finally {
      ipc.setTracer(null);
    }
    close(fd);
    assert.deepEqual(
      events.map((e) => [e.phase, e.call, e.args, e.result]),
      [
        ['start', 'pidfdOpen', [getpid()], undefined],
        ['end', 'pidfdOpen', [getpid()], fd],
        ['start', 'setParentDeathSignal', [0], undefined],
        ['end', 'setParentDeathSignal', [0], undefined],
      ],
    );
  });
});

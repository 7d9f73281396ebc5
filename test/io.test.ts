// src/io: event-loop I/O on pipe ends (PipeReader, PipeWriter), owned
// descriptors (OwnedFd), awaiting a child (waitExit). Every wait is bounded.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fstatSync, readdirSync, readlinkSync, writeFileSync, mkdtempSync, openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ipc from '../src/index';
import { waitExitWith } from '../src/io/child';
import { within } from './helpers';
import { fdFlags } from '../src/internal/proc';

const DEADLINE_MS = 10_000;

/** How many of this process's descriptors are on the pipe that `fd` belongs to. */
function descriptorsOnPipe(fd: number): number {
  const target = readlinkSync(`/proc/self/fd/${fd}`);
  return readdirSync('/proc/self/fd').filter((n) => {
    try {
      return readlinkSync(`/proc/self/fd/${n}`) === target;
    } catch {
      return false;
    }
  }).length;
}

async function readAll(reader: ipc.PipeReader): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let chunk; (chunk = await reader.read()) !== null;) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('PipeReader and PipeWriter: a pipe read and written by the event loop', () => {
  it('carries bytes in order to end of file, as promises and as streams', async () => {
    const [r, w] = ipc.pipe();
    const reader = new ipc.PipeReader(r);
    const writer = new ipc.PipeWriter(w);
    ipc.close(r);
    ipc.close(w);
    await writer.write('hello, ');
    await writer.write(Buffer.from('pipe'));
    await writer.end();
    await assert.rejects(writer.write('late'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    assert.equal((await within(readAll(reader), DEADLINE_MS, 'read')).toString(), 'hello, pipe');

    const [r2, w2] = ipc.pipe();
    const streamReader = new ipc.PipeReader(r2);
    ipc.close(r2);
    const chunks: Buffer[] = [];
    streamReader.stream.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => streamReader.stream.on('end', resolve));
    ipc.write(w2, 'raw write, stream read');
    ipc.close(w2);
    await within(ended, DEADLINE_MS, "'end'");
    assert.equal(Buffer.concat(chunks).toString(), 'raw write, stream read');
  });

  it('applies backpressure: write() returns false past highWaterMark, and 8 MiB arrive intact', async () => {
    const [r, w] = ipc.pipe();
    const writer = new ipc.PipeWriter(w, { highWaterMark: 64 * 1024 });
    ipc.close(w);
    const payload = Buffer.alloc(8 * 2 ** 20);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    // Nobody reads yet: the kernel's 64 KiB pipe buffer fills, the rest queues.
    const accepted = writer.stream.write(payload);
    assert.equal(accepted, false, 'write() asks the caller to wait for drain');
    const drained = new Promise((resolve) => writer.stream.once('drain', resolve));
    const reader = new ipc.PipeReader(r, { highWaterMark: 16 * 1024 });
    ipc.close(r);
    const done = readAll(reader);
    await within(drained, DEADLINE_MS, "'drain'");
    await writer.end();
    const received = await within(done, DEADLINE_MS, 'read');
    assert.equal(received.length, payload.length);
    assert.ok(received.equals(payload), 'same bytes in the same order');
  });

  it('owns a private descriptor: close(fd) after opening is fine, yours stays blocking, its own closes with it', async () => {
    const [r, w] = ipc.pipe();
    const before = descriptorsOnPipe(r);
    const reader = new ipc.PipeReader(r);
    assert.equal(descriptorsOnPipe(r), before + 1, "one more descriptor: the stream's");
    assert.equal(fdFlags(r) & ipc.O_NONBLOCK, 0, "the caller's descriptor is still blocking");
    ipc.close(r); // no EBADF, and the stream goes on
    ipc.write(w, 'after close(fd)');
    assert.equal((await within(reader.read(), DEADLINE_MS, 'read'))!.toString(), 'after close(fd)');
    const closed = new Promise((resolve) => reader.stream.once('close', resolve));
    reader.close();
    await within(closed, DEADLINE_MS, "'close'");
    await assert.rejects(reader.read(), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    // The only descriptor left on the pipe is the write end: writing now fails with EPIPE.
    assert.throws(() => ipc.write(w, 'x'), { code: 'EPIPE' });
    ipc.close(w);
  });

  it('moves an OwnedFd: the OwnedFd is closed and refuses use', async () => {
    const [reader, writer] = ipc.OwnedFd.pipe();
    const stream = new ipc.PipeWriter(writer);
    assert.equal(writer.closed, true);
    assert.throws(() => writer.fd, { code: 'EBADF', syscall: 'fd' });
    await stream.write('moved');
    await stream.end();
    const got = Buffer.alloc(16);
    assert.equal(got.subarray(0, reader.read(got)).toString(), 'moved');
    assert.equal(reader.read(got), 0, 'end of file: the stream closed the only write end');
    reader.close();
  });

  it('rejects a wrong end, a non-pipe and bad arguments with clear errors', () => {
    const [r, w] = ipc.pipe();
    assert.throws(() => new ipc.PipeReader(w), { code: 'ERR_INVALID_FD_TYPE', message: /not the read end/ });
    assert.throws(() => new ipc.PipeWriter(r), { code: 'ERR_INVALID_FD_TYPE', message: /not the write end/ });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipc-io-'));
    const file = openSync(path.join(dir, 'f'), 'w');
    assert.throws(() => new ipc.PipeWriter(file), { code: 'ERR_INVALID_FD_TYPE', message: /not a pipe/ });
    closeSync(file);
    assert.throws(() => new ipc.PipeReader('3' as never), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new ipc.PipeReader(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new ipc.PipeReader(r, { highWaterMark: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    ipc.close(r);
    ipc.close(w);
  });

  it('an empty or detached buffer writes nothing and resolves, as write() returns 0 for it', async () => {
    const [r, w] = ipc.pipe();
    const writer = new ipc.PipeWriter(w);
    const detached = new Uint8Array(new ArrayBuffer(8));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    assert.equal(ipc.write(w, detached), 0);
    await within(writer.write(detached), DEADLINE_MS, 'write of a detached buffer');
    await within(writer.write(new Uint8Array(0)), DEADLINE_MS, 'write of an empty buffer');
    await writer.end();
    ipc.close(w);
    assert.equal(ipc.read(r, Buffer.alloc(8)), 0, 'end of file, nothing written');
    ipc.close(r);
  });

  it('rejects a write with EPIPE once no reader is left', async () => {
    const [r, w] = ipc.pipe();
    const writer = new ipc.PipeWriter(w);
    ipc.close(w);
    ipc.close(r);
    await assert.rejects(within(writer.write('nobody reads'), DEADLINE_MS, 'write'), { code: 'EPIPE' });
    writer.close();
  });

  it('close() with writes the kernel has not taken: they reject, a write it took resolves', async () => {
    const [r, w] = ipc.pipe();
    const writer = new ipc.PipeWriter(w);
    ipc.close(w);
    const taken = writer.write(Buffer.alloc(1000, 1)); // fits: the kernel takes it at once
    const outcomes = [taken, writer.write(Buffer.alloc(200_000, 2)), writer.write('queued behind it')].map((p) =>
      p.then(
        () => 'resolved',
        (error: NodeJS.ErrnoException) => error.code,
      ),
    );
    // The kernel took the small write and part of the large one while write() ran.
    assert.ok(ipc.bytesQueued(r) > 1000);
    writer.close();
    assert.deepEqual(await Promise.all(outcomes), ['resolved', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_DESTROYED']);
    ipc.close(r);
  });

  it('uses no thread-pool thread: fs.readFile completes while 16 pipes are being read and idle', async () => {
    const pipes = Array.from({ length: 16 }, () => ipc.pipe());
    const readers = pipes.map(([r]) => new ipc.PipeReader(r));
    const pending = readers.map((reader) => reader.read());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipc-io-'));
    const file = path.join(dir, 'small.txt');
    writeFileSync(file, 'small file');
    // With the reads on the pool (fs.createReadStream), its 4 threads would be
    // blocked in read(2) until data came, and this would never settle.
    const start = performance.now();
    const text = await within(readFile(file, 'utf8'), 5_000, 'fs.readFile with 16 idle pipe readers');
    const elapsedMs = performance.now() - start;
    assert.equal(text, 'small file');
    process.stderr.write(`# fs.readFile with 16 idle PipeReaders: ${elapsedMs.toFixed(1)} ms\n`);
    pipes.forEach(([r, w], i) => {
      ipc.write(w, `pipe ${i}`);
      ipc.close(w);
      ipc.close(r);
    });
    const got = await within(Promise.all(pending), DEADLINE_MS, 'the 16 reads');
    assert.deepEqual(
      got.map((b) => b!.toString()),
      pipes.map((_, i) => `pipe ${i}`),
    );
    readers.forEach((reader) => reader.close());
  });
});

describe('OwnedFd: a descriptor that closes itself', () => {
  it('closes at the end of a using block, and refuses use after close', () => {
    let number: number;
    let escaped: ipc.OwnedFd;
    {
      using end = ipc.OwnedFd.pipe()[0];
      number = end.fd;
      escaped = end;
      assert.ok(fstatSync(number).isFIFO());
    }
    assert.equal(escaped.closed, true);
    assert.throws(() => escaped.read(Buffer.alloc(1)), {
      name: 'SyscallError',
      code: 'EBADF',
      syscall: 'read',
      message: new RegExp(`descriptor ${number} was closed by its OwnedFd`),
    });
    assert.throws(() => escaped.close(), { code: 'EBADF', syscall: 'close' });
    assert.doesNotThrow(() => escaped[Symbol.dispose](), 'disposing twice is harmless');
  });

  it('reads, writes, and release() hands the number back to the caller', () => {
    const [reader, writer] = ipc.OwnedFd.pipe();
    assert.equal(writer.write('owned'), 5);
    const buffer = Buffer.alloc(8);
    assert.equal(buffer.subarray(0, reader.read(buffer)).toString(), 'owned');
    const raw = writer.release();
    assert.throws(() => writer.write('x'), { code: 'EBADF', message: /released/ });
    writer[Symbol.dispose](); // released: does not close
    assert.equal(ipc.write(raw, 'still open'), 10);
    ipc.close(raw);
    reader.close();
    assert.throws(() => new ipc.OwnedFd(-1), { code: 'ERR_OUT_OF_RANGE' });
  });

  it('fromServer: takes the listening socket out of a net.Server, which stops accepting', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const closed = new Promise((resolve) => server.once('close', resolve));
    const listener = ipc.OwnedFd.fromServer(server);
    await within(closed, DEADLINE_MS, "the server's 'close'");
    assert.equal(server.listening, false);
    // The socket is still listening, now served by another server, which
    // takes the descriptor over (and closes it when it closes): release() it.
    const second = net.createServer((socket) => socket.end('served'));
    await new Promise<void>((resolve) => second.listen({ fd: listener.release() }, resolve));
    const reply = await within(
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let text = '';
        socket
          .on('data', (d) => (text += d))
          .on('end', () => resolve(text))
          .on('error', reject);
      }),
      DEADLINE_MS,
      'a connection',
    );
    assert.equal(reply, 'served');
    await new Promise((resolve) => second.close(resolve));
    assert.throws(() => ipc.OwnedFd.fromServer(server), { code: 'ERR_SERVER_NOT_RUNNING' });
    assert.throws(() => ipc.OwnedFd.fromServer({} as net.Server), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

for (const how of ['pidfd', 'sigchld'] as const) {
  describe(`waitExit (${how}): a promise for a child's exit`, () => {
    const waitFor = (pid: number) => within(waitExitWith(pid, how), DEADLINE_MS, `waitExit(${pid})`);

    it('resolves with the exit status of a child of fork(), as waitpid decodes it', async () => {
      const pid = ipc.fork(() => {
        ipc.sleep(100);
        ipc._exit(7);
      });
      const status = await waitFor(pid);
      assert.equal(status.pid, pid);
      assert.equal(status.exited, true);
      assert.equal(status.exitCode, 7);
      assert.throws(() => ipc.waitpid(pid, ipc.WNOHANG), { code: 'ECHILD' }, 'reaped: no zombie left');
    });

    it('reports a signal, and several children ending in any order', async () => {
      const sleeper = ipc.fork(() => {
        ipc.sleep(30_000);
        ipc._exit(0);
      });
      const quick = [3, 1, 2].map((code) =>
        ipc.fork(() => {
          ipc.sleep(code * 40);
          ipc._exit(code);
        }),
      );
      const killed = waitFor(sleeper);
      const ended = Promise.all(quick.map(waitFor));
      process.kill(sleeper, 'SIGKILL');
      const status = await killed;
      assert.equal(status.signaled, true);
      assert.equal(status.signal, 'SIGKILL');
      assert.deepEqual(
        (await ended).map((s) => s.exitCode),
        [3, 1, 2],
      );
    });

    it('resolves at once for a child that has already ended', async () => {
      const pid = ipc.fork(() => ipc._exit(4));
      ipc.sleep(100);
      assert.equal((await waitFor(pid)).exitCode, 4);
    });

    it('two waits for one child, before and after it ended, both get its status', async () => {
      const running = ipc.fork(() => {
        ipc.sleep(100);
        ipc._exit(3);
      });
      const ended = ipc.fork(() => ipc._exit(5));
      ipc.sleep(100);
      const statuses = await Promise.all([waitFor(running), waitFor(running), waitFor(ended), waitFor(ended)]);
      assert.deepEqual(
        statuses.map((s) => [s.pid, s.exitCode]),
        [
          [running, 3],
          [running, 3],
          [ended, 5],
          [ended, 5],
        ],
      );
    });
  });
}

describe('waitExit: whose children', () => {
  it('rejects a process that is not a child with ECHILD, and bad pids with argument errors', async () => {
    await assert.rejects(ipc.waitExit(1), { code: 'ECHILD', syscall: 'waitpid' });
    await assert.rejects(ipc.waitExit(0), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(ipc.waitExit(-1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(ipc.waitExit('1' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it("never reaps a child_process child: refuses it, and the ChildProcess still gets its 'exit'", async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(5), 200)']);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await assert.rejects(ipc.waitExit(child.pid!), { code: 'ERR_CHILD_PROCESS_OWNED' });
    assert.equal(await within(exit, DEADLINE_MS, "the ChildProcess's 'exit'"), 5);
  });

  it('a forked child drops the waits it inherited: they do not keep it alive', () => {
    // In a process of its own: the child's event loop must run, which the
    // test runner's process cannot let it do.
    const script = `
      const ipc = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'index.js'))});
      const sleeper = ipc.fork(() => { ipc.sleep(30000); ipc._exit(0); });
      ipc.waitExit(sleeper).then((s) => console.log('sleeper', s.signal));
      const pid = ipc.fork();
      if (pid === 0) {
        // Nothing of its own to do: the loop runs dry unless the inherited wait holds it.
        setTimeout(() => console.log('child loop ran'), 10);
      } else {
        ipc.waitExit(pid).then((s) => {
          console.log('child', s.exitCode);
          process.kill(sleeper, 'SIGKILL');
        });
      }
    `;
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(run.signal, null, `timed out: ${run.stdout}${run.stderr}`);
    assert.equal(run.stdout, 'child loop ran\nchild 0\nsleeper SIGKILL\n');
  });
});

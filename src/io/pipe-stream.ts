// Event-loop I/O on pipe ends: PipeReader and PipeWriter.
//
// Each wraps libuv's own pipe handle (uv_pipe_t, through net.Socket) opened
// on a private descriptor, so reads and writes wait in the loop's epoll and
// never occupy a thread of libuv's pool. (fs.createReadStream on a pipe does
// the opposite: each pending read is a blocking read(2) on a pool thread, so
// four idle pipes leave no thread for fs, dns.lookup or zlib.)
//
// Ownership rule: the stream opens its own descriptor for the same pipe end
// (open(2) of /proc/self/fd/N: a new file description, so making it
// non-blocking, which libuv does, leaves yours as it was) and closes that one
// itself when it ends or is destroyed. The descriptor you pass stays yours:
// close(fd) afterwards is fine and does not disturb the stream; and until you
// close it, the pipe has one more reader or writer (a writer's peer sees end
// of file only once both are closed). Passing an OwnedFd moves it: the stream
// takes its own descriptor and the OwnedFd is closed at once.
//
// Man pages: pipe(7), open(2) (O_NONBLOCK), proc(5) (/proc/self/fd, fdinfo),
// epoll(7); libuv: uv_pipe_open, uv_read_start, uv_write.
import { openSync, constants as fsConstants, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { checkFd, checkInt, invalidArgument, invalidType, packageError } from '../errors';
import { fdFlags, O_ACCMODE } from '../internal/proc';
import { OwnedFd } from './owned';

/** Options of {@link PipeReader} and {@link PipeWriter}. */
export interface PipeStreamOptions {
  /** Bytes the stream buffers before it stops reading / before write() returns false. */
  highWaterMark?: number;
}

type Direction = 'read' | 'write';

/** Opens this process's own descriptor for the pipe end `source`, non-blocking. */
function openPrivate(source: number | OwnedFd, direction: Direction): number {
  if (!(typeof source === 'number' || source instanceof OwnedFd)) {
    throw invalidType('fd', 'of type number or an instance of OwnedFd', source);
  }
  const fd = typeof source === 'number' ? checkFd(source) : source.fd;
  if (!fstatSync(fd).isFIFO()) {
    throw invalidArgument('ERR_INVALID_FD_TYPE', `descriptor ${fd} is not a pipe; use net.Socket for sockets`);
  }
  const mode = fdFlags(fd) & O_ACCMODE; // O_RDONLY, O_WRONLY or O_RDWR
  const wanted = direction === 'read' ? fsConstants.O_RDONLY : fsConstants.O_WRONLY;
  if (mode !== wanted && mode !== fsConstants.O_RDWR) {
    const end = direction === 'read' ? 'read' : 'write';
    throw invalidArgument('ERR_INVALID_FD_TYPE', `descriptor ${fd} is not the ${end} end of a pipe`);
  }
  // O_NONBLOCK: opening a pipe for reading would otherwise wait for a writer;
  // for writing with no reader left it fails at once with ENXIO. libuv adds
  // O_CLOEXEC to every open.
  const copy = openSync(`/proc/self/fd/${fd}`, wanted | fsConstants.O_NONBLOCK);
  if (source instanceof OwnedFd) source.close();
  return copy;
}

function socketOptions(direction: Direction, options: PipeStreamOptions | undefined) {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidType('options', 'of type object', options);
  }
  const highWaterMark =
    options?.highWaterMark === undefined ? undefined : checkInt('options.highWaterMark', options.highWaterMark, 1);
  return {
    readable: direction === 'read',
    writable: direction === 'write',
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
  };
}

/** Settles when `stream` emits one of `events` ('error' rejects); removes its listeners. */
function nextEvent(stream: Readable | Writable, events: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const handlers = new Map<string, (arg?: unknown) => void>();
    const done = () => handlers.forEach((handler, event) => stream.off(event, handler));
    for (const event of ['error', ...events]) {
      const handler = (arg?: unknown) => {
        done();
        if (event === 'error') reject(arg);
        else resolve(event);
      };
      handlers.set(event, handler);
      stream.on(event, handler);
    }
  });
}

function isCanceled(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECANCELED';
}

function writeDropped(): Error {
  return packageError(
    'ERR_STREAM_DESTROYED',
    'the pipe stream was closed before the kernel had taken all of this write (part of it may have been written)',
  );
}

function prematureClose(): Error {
  return packageError('ERR_STREAM_PREMATURE_CLOSE', 'the pipe stream was closed');
}

/**
 * The read end of a pipe, read by the event loop. `stream` is a Readable
 * (backpressure: the handle stops reading while `highWaterMark` bytes wait
 * unread); `read()` is the same data as promises. Use one or the other.
 */
export class PipeReader implements Disposable {
  /** The Node stream: 'data', pipe(), for await, 'end' at end of file. */
  readonly stream: Readable;

  constructor(fd: number | OwnedFd, options?: PipeStreamOptions) {
    const socketOpts = socketOptions('read', options);
    this.stream = new Socket({ fd: openPrivate(fd, 'read'), ...socketOpts });
    // A read error stays on stream.errored and rejects read(); without a
    // listener of the caller's it must not end the process.
    this.stream.on('error', () => {});
  }

  /**
   * The next chunk, as the kernel delivered it (at most highWaterMark bytes),
   * or null at end of file (every write end closed). Rejects with the
   * stream's error, or ERR_STREAM_PREMATURE_CLOSE once close() was called.
   */
  async read(): Promise<Buffer | null> {
    for (;;) {
      if (this.stream.destroyed) {
        if (this.stream.readableEnded) return null;
        throw this.stream.errored ?? prematureClose();
      }
      const chunk = this.stream.read() as Buffer | null;
      if (chunk !== null) return chunk;
      if (this.stream.readableEnded) return null;
      await nextEvent(this.stream, ['readable', 'end', 'close']);
    }
  }

  /** Stops reading and closes the stream's descriptor (not the one you passed). */
  close(): void {
    this.stream.destroy();
  }

  /** close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The write end of a pipe, written by the event loop. `stream` is a Writable
 * (backpressure: write() returns false once `highWaterMark` bytes are queued,
 * then 'drain'); `write()` and `end()` are promises that settle when the
 * kernel has taken the bytes. Errors (EPIPE when no reader is left) reject
 * the promises and are also emitted as the stream's 'error'.
 */
export class PipeWriter implements Disposable {
  /** The Node stream: write(), end(), 'drain', 'finish'. */
  readonly stream: Writable;
  #error: Error | null = null;

  constructor(fd: number | OwnedFd, options?: PipeStreamOptions) {
    const socketOpts = socketOptions('write', options);
    this.stream = new Socket({ fd: openPrivate(fd, 'write'), ...socketOpts });
    // Kept for the promises, so that an error with no 'error' listener of the
    // caller's cannot end the process: it reaches the caller as a rejection.
    this.stream.on('error', (error: Error) => {
      if (!isCanceled(error)) this.#error ??= error; // ECANCELED: only close()'s dropping of writes
    });
  }

  /**
   * Writes all of `data`; resolves once the kernel has taken it (the pipe had
   * room). Rejects with ERR_STREAM_DESTROYED if close() comes first.
   */
  write(data: Uint8Array | string): Promise<void> {
    if (!(typeof data === 'string' || data instanceof Uint8Array)) {
      return Promise.reject(invalidType('data', 'of type string or an instance of Buffer or Uint8Array', data));
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.stream.destroyed || this.stream.writableEnded) return Promise.reject(prematureClose());
    // No bytes (a detached buffer has none, and Node's stream throws on one): all taken.
    if (typeof data !== 'string' && data.byteLength === 0) return Promise.resolve();
    const queuedBefore = this.stream.writableLength;
    return new Promise((resolve, reject) => {
      let taken = false;
      // A write libuv dropped at close(): Node 20 calls it back as a success,
      // later Nodes with ECANCELED. Only one the kernel took resolves.
      this.stream.write(data, (error?: Error | null) => {
        if (!taken && this.stream.destroyed && (!error || isCanceled(error))) reject(writeDropped());
        else if (error) reject(error);
        else resolve();
      });
      // Nothing more queued: the kernel took all of it while write() ran.
      taken = this.stream.writableLength === queuedBefore;
    });
  }

  /**
   * Writes what is queued, then closes the stream's descriptor; resolves when
   * it is closed. The reader sees end of file once every other write end
   * (yours included, if you kept it) is closed too.
   */
  async end(): Promise<void> {
    if (this.#error) throw this.#error;
    if (!this.stream.destroyed) {
      const closed = nextEvent(this.stream, ['close']);
      this.stream.end();
      await closed;
    }
    if (this.#error) throw this.#error;
  }

  /** Closes the descriptor at once; writes still queued are dropped and their promises reject. */
  close(): void {
    this.stream.destroy();
  }

  /** close(), for `using`: use `await end()` first to deliver queued writes. */
  [Symbol.dispose](): void {
    this.close();
  }
}

// startForkServer(): the caller's side of the fork server (the server's own
// side is server-main.ts; the protocol between them is protocol.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { checkInt, invalidArgument, invalidType, packageError, type PackageError } from '../errors';
import { OwnedFd, PipeReader, PipeWriter } from '../io';
import { sendmsg, SOCK_CLOEXEC, SOCK_SEQPACKET, SOCK_STREAM, socketpair } from '../socket';
import { close, decodeWaitStatus, O_CLOEXEC, type WaitStatus } from '../syscalls';
import { splitLines, type Reply, type Request, type WireError } from './protocol';

/** The server's entry, compiled beside this module (dist/forkserver/server-main.js). */
const SERVER_MAIN = path.join(__dirname, 'server-main.js');

/** Options of {@link startForkServer}. */
export interface ForkServerOptions {
  /**
   * Modules the server loads before it forks anything (paths or specifiers,
   * resolved from the caller's working directory). A module's exported async
   * `init()` is awaited: the place to load data every child should start with,
   * or to open descriptors every child inherits (a listening socket taken out
   * of the event loop with `OwnedFd.fromServer`, for a prefork server).
   */
  preload?: readonly string[];
  /**
   * The server's environment (default: this process's without
   * UV_USE_IO_URING, so that the server's libuv reads files on its thread
   * pool: on Node 20 fork() refuses a process that reads them on an io_uring).
   */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds the server may take, after its preload, to have nothing but its control channel pending (default 5000). */
  quietTimeoutMs?: number;
  /**
   * Aborts the start (an init() that may never end: `AbortSignal.timeout(ms)`):
   * the server is killed and the promise rejects with an AbortError.
   */
  signal?: AbortSignal;
}

/** Where a forked child's stdin, stdout or stderr goes. */
export type ForkServerStdio = 'pipe' | 'inherit' | 'ignore' | number;

/** Options of {@link ForkServer.fork}. */
export interface ForkServerForkOptions {
  /** The module to run, resolved in the server from the caller's working directory. */
  module: string;
  /** The function export to call (default: `default`, or the module itself when it is a function). */
  export?: string;
  /** Its arguments, which must survive JSON. */
  args?: readonly unknown[];
  /**
   * One value for all three, or `[stdin, stdout, stderr]`: `'pipe'` (the
   * default: a pipe created here, whose other end the child uses directly),
   * `'inherit'` (this process's own), `'ignore'` (/dev/null), or a descriptor.
   */
  stdio?: ForkServerStdio | readonly [ForkServerStdio, ForkServerStdio, ForkServerStdio];
  /** The child's whole environment (default: the server's). */
  env?: NodeJS.ProcessEnv;
}

/** A child that the server forked. */
export interface ForkServerChild {
  pid: number;
  /** Its stdin when `'pipe'`, otherwise null. */
  stdin: Writable | null;
  /** Its stdout when `'pipe'`, otherwise null. */
  stdout: Readable | null;
  /** Its stderr when `'pipe'`, otherwise null. */
  stderr: Readable | null;
  /**
   * Its end, as waitpid reports it (the server reaps it). Rejects with
   * `ERR_FORK_SERVER_JOB_THREW` (with `status`) when the job threw, and with
   * `ERR_FORK_SERVER_DIED` if the server ended first.
   */
  exited: Promise<WaitStatus>;
}

/** The error of a job that threw: its message, and the child's exit status. */
export type JobThrewError = PackageError & { status: WaitStatus; jobError: WireError };

interface PendingFork {
  resolve: (pid: number) => void;
  reject: (error: Error) => void;
  exited: { resolve: (status: WaitStatus) => void; reject: (error: Error) => void };
}

function fromWire(wire: WireError): Error {
  const error = new Error(wire.message) as Error & { code?: string };
  error.name = wire.name;
  if (wire.code !== undefined) error.code = wire.code;
  if (wire.stack !== undefined) error.stack = `${wire.stack}\n    (in the fork server)`;
  return error;
}

/** The rejection of a start that `signal` aborted, as Node's own APIs make it. */
function startAborted(signal: AbortSignal): Error {
  const error = packageError('ABORT_ERR', 'the fork server was still starting when the signal aborted');
  error.name = 'AbortError';
  error.cause = signal.reason;
  return error;
}

/** A promise whose rejection counts as handled until someone awaits it. */
function quietPromise<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** The running fork server: see {@link startForkServer}. */
export class ForkServer {
  /** The server process's pid. */
  readonly pid: number;
  readonly #process: ChildProcess;
  readonly #control: Socket;
  readonly #descriptors: OwnedFd;
  readonly #pending = new Map<number, PendingFork>();
  readonly #running = new Map<number, PendingFork['exited']>();
  readonly #exit: Promise<void>;
  #nextId = 1;
  #ended: Error | null = null;
  #closed = false;

  /** @internal Made by startForkServer once the server is ready. */
  constructor(server: ChildProcess, control: Socket, descriptors: OwnedFd, pid: number, exit: Promise<void>) {
    this.#process = server;
    this.#control = control;
    this.#descriptors = descriptors;
    this.pid = pid;
    this.#exit = exit;
    let partial = '';
    control.on('data', (chunk: Buffer) => {
      partial = splitLines(partial, chunk, (message) => (this.#onReply(message as Reply), true));
    });
    server.on('error', () => {}); // kill() failures: the server's end is seen by `exit`
    exit.then(() => this.#onServerEnd());
    this.#updateRef();
  }

  /**
   * Runs `options.module`'s export `options.export` with `options.args` in a
   * new child forked by the server, and resolves once the child exists.
   *
   * The child is a copy of the server: it starts with the preload modules and
   * their data in memory (shared copy-on-write), never with this process's
   * state. It ends as `node job.js` would: once the function's result (or
   * promise) has settled and its event loop is empty, with exit status 0, or
   * 1 if the job threw. Signal it by pid (`process.kill(child.pid)`).
   *
   * @throws (rejects) `MODULE_NOT_FOUND` and the module's own load errors,
   *   `ERR_FORK_SERVER_NO_EXPORT`, `ERR_FORK_SERVER_CLOSED` after close(),
   *   `ERR_FORK_SERVER_DIED` when the server has ended, a `SyscallError` if
   *   fork(2) failed in the server; argument errors as Node's.
   */
  async fork(options: ForkServerForkOptions): Promise<ForkServerChild> {
    const request = this.#checkFork(options);
    const stdio = stdioOf(options.stdio);
    if (this.#closed) throw packageError('ERR_FORK_SERVER_CLOSED', 'fork(): the fork server was closed');
    if (this.#ended !== null) throw this.#ended;
    const id = this.#nextId++;
    const ends = openStdio(stdio);
    try {
      // Before the request's line: the server reads this message when the line arrives.
      sendmsg(this.#descriptors.fd, String(id), ends.childFds);
    } catch (error) {
      ends.destroy();
      throw error;
    } finally {
      ends.closeChildFds();
    }
    const exited = quietPromise<WaitStatus>();
    const pid = new Promise<number>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, exited });
    });
    this.#send({ ...request, id, fds: ends.childFds.length });
    this.#updateRef();
    try {
      return { pid: await pid, ...ends.streams, exited: exited.promise };
    } catch (error) {
      ends.destroy();
      throw error;
    }
  }

  /**
   * Stops the server: it takes no more requests, sends `options.signal` (if
   * given) to each child still running, waits for every child to end
   * (their `exited` still resolve), and exits. Resolves once it has.
   */
  async close(options: { signal?: NodeJS.Signals | number } = {}): Promise<void> {
    if (options === null || typeof options !== 'object') throw invalidType('options', 'of type object', options);
    let signal: number | null = null;
    if (options.signal !== undefined) {
      signal =
        typeof options.signal === 'string'
          ? (osConstants.signals as Record<string, number>)[options.signal]
          : options.signal;
      if (signal === undefined)
        throw invalidArgument('ERR_UNKNOWN_SIGNAL', `Unknown signal: ${String(options.signal)}`);
      checkInt('options.signal', signal, 1);
    }
    if (!this.#closed && this.#ended === null) {
      this.#closed = true;
      this.#send({ type: 'close', signal });
      this.#process.ref();
      this.#control.ref();
    }
    await this.#exit;
  }

  #checkFork(options: ForkServerForkOptions): Omit<Extract<Request, { type: 'fork' }>, 'id' | 'fds'> {
    if (options === null || typeof options !== 'object') throw invalidType('options', 'of type object', options);
    if (typeof options.module !== 'string' || options.module.length === 0) {
      throw invalidType('options.module', 'a non-empty string', options.module);
    }
    if (options.export !== undefined && typeof options.export !== 'string') {
      throw invalidType('options.export', 'of type string', options.export);
    }
    const args = options.args ?? [];
    if (!Array.isArray(args)) throw invalidType('options.args', 'an instance of Array', args);
    let copied: unknown[];
    try {
      copied = JSON.parse(JSON.stringify(args));
    } catch (error) {
      throw invalidArgument('ERR_INVALID_ARG_VALUE', `options.args must survive JSON: ${(error as Error).message}`);
    }
    if (options.env !== undefined && (options.env === null || typeof options.env !== 'object')) {
      throw invalidType('options.env', 'of type object', options.env);
    }
    const env =
      options.env === undefined
        ? null
        : Object.fromEntries(
            Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
          );
    return { type: 'fork', module: options.module, export: options.export ?? null, args: copied, env };
  }

  #send(request: Request): void {
    this.#control.write(`${JSON.stringify(request)}\n`);
  }

  #onReply(reply: Reply): void {
    if (reply.type === 'forked') {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      this.#running.set(reply.id, pending.exited);
      pending.resolve(reply.pid);
    } else if (reply.type === 'refused') {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      pending?.reject(fromWire(reply.error));
    } else if (reply.type === 'exit') {
      const exited = this.#running.get(reply.id);
      this.#running.delete(reply.id);
      const status = decodeWaitStatus(reply.pid, reply.status);
      if (reply.thrown === null) exited?.resolve(status);
      else exited?.reject(jobThrew(reply.pid, status, reply.thrown));
    }
    this.#updateRef();
  }

  /** The server process has ended: every promise still waiting on it is rejected. */
  #onServerEnd(): void {
    const how = this.#process.signalCode ?? `status ${this.#process.exitCode}`;
    this.#ended = packageError(
      'ERR_FORK_SERVER_DIED',
      this.#closed ? 'the fork server was closed' : `the fork server (pid ${this.pid}) ended with ${how}`,
    );
    for (const pending of this.#pending.values()) {
      pending.reject(this.#ended);
      pending.exited.reject(this.#ended);
    }
    for (const exited of this.#running.values()) exited.reject(this.#ended);
    this.#pending.clear();
    this.#running.clear();
    this.#descriptors.close();
    this.#control.destroy();
  }

  /** The server keeps this process alive only while a fork or a child of it is outstanding (or close() waits). */
  #updateRef(): void {
    if (this.#closed || this.#ended !== null) return;
    const busy = this.#pending.size + this.#running.size > 0;
    if (busy) {
      this.#process.ref();
      this.#control.ref();
    } else {
      this.#process.unref();
      this.#control.unref();
    }
  }
}

function jobThrew(pid: number, status: WaitStatus, thrown: WireError): JobThrewError {
  const error = packageError(
    'ERR_FORK_SERVER_JOB_THREW',
    `the job in child ${pid} threw (exit status ${status.exitCode}): ${thrown.name}: ${thrown.message}`,
  ) as JobThrewError;
  error.status = status;
  error.jobError = thrown;
  return error;
}

function stdioOf(stdio: ForkServerForkOptions['stdio']): ForkServerStdio[] {
  const list =
    stdio === undefined ? ['pipe', 'pipe', 'pipe'] : Array.isArray(stdio) ? [...stdio] : [stdio, stdio, stdio];
  if (list.length !== 3)
    throw invalidArgument('ERR_INVALID_ARG_VALUE', 'options.stdio must name stdin, stdout and stderr');
  list.forEach((entry, i) => {
    if (typeof entry === 'number') checkInt(`options.stdio[${i}]`, entry, 0);
    else if (entry !== 'pipe' && entry !== 'inherit' && entry !== 'ignore') {
      throw invalidArgument(
        'ERR_INVALID_ARG_VALUE',
        `options.stdio[${i}] must be 'pipe', 'inherit', 'ignore' or a descriptor. Received ${String(entry)}`,
      );
    }
  });
  return list as ForkServerStdio[];
}

/** The descriptors to send for the child's stdio, and this side's streams. */
function openStdio(stdio: ForkServerStdio[]) {
  const childFds: number[] = [];
  const created: number[] = [];
  const streams: Pick<ForkServerChild, 'stdin' | 'stdout' | 'stderr'> = { stdin: null, stdout: null, stderr: null };
  const keep: (PipeReader | PipeWriter)[] = [];
  const closeCreated = () => {
    for (const fd of created.splice(0)) close(fd);
  };
  try {
    stdio.forEach((entry, target) => {
      if (entry === 'pipe') {
        const [reader, writer] = OwnedFd.pipe(O_CLOEXEC);
        const input = target === 0;
        const ours = input ? writer : reader;
        const theirs = input ? reader : writer;
        childFds.push(theirs.fd);
        created.push(theirs.release());
        const stream = input ? new PipeWriter(ours) : new PipeReader(ours);
        keep.push(stream);
        if (input) streams.stdin = (stream as PipeWriter).stream;
        else if (target === 1) streams.stdout = (stream as PipeReader).stream;
        else streams.stderr = (stream as PipeReader).stream;
      } else if (entry === 'ignore') {
        const fd = openSync('/dev/null', fsConstants.O_RDWR | O_CLOEXEC);
        childFds.push(fd);
        created.push(fd);
      } else {
        childFds.push(entry === 'inherit' ? target : entry);
      }
    });
  } catch (error) {
    closeCreated();
    for (const stream of keep) stream.close();
    throw error;
  }
  return {
    childFds,
    streams,
    closeChildFds: closeCreated,
    destroy: () => keep.forEach((stream) => stream.close()),
  };
}

/**
 * Starts a fork server: a fresh Node process that loads `options.preload`
 * (awaiting each module's `init()` export, if any), waits until nothing but
 * its control channel is pending, and then forks a child per
 * {@link ForkServer.fork} call from that quiet state, with this package's
 * fork(). Resolves once the server is ready.
 *
 * Use it instead of fork() in a program that is busy (servers, Workers,
 * watchers, I/O in flight): the children are copies of the quiet server,
 * never of the caller. The control channel is a pair of sockets inherited
 * at spawn, private to this process. The server ends when this process does;
 * it does not keep this process alive while no fork or child of it is
 * outstanding. Details: docs/fork-server.md.
 *
 * @throws (rejects) the preload's own errors (`MODULE_NOT_FOUND`, what
 *   `init()` threw), `ERR_FORK_SERVER_INIT_STUCK` for an `init()` whose
 *   promise nothing left in the server can settle, `ERR_FORK_SERVER_NOT_QUIET`
 *   when work the preload started is still pending after `quietTimeoutMs`,
 *   an AbortError when `options.signal` aborts first, the fork engine's
 *   refusal of this Node (`fork()`'s errors), `ERR_FORK_SERVER_DIED`.
 *
 * @example
 * const server = await startForkServer({ preload: [require.resolve('./catalog')] });
 * const child = await server.fork({ module: require.resolve('./jobs'), export: 'count', args: ['red'] });
 * child.stdout.pipe(process.stdout);
 * console.log(await child.exited);
 */
export async function startForkServer(options: ForkServerOptions = {}): Promise<ForkServer> {
  if (options === null || typeof options !== 'object') throw invalidType('options', 'of type object', options);
  const preload = options.preload ?? [];
  if (!Array.isArray(preload) || preload.some((entry) => typeof entry !== 'string')) {
    throw invalidType('options.preload', 'an array of strings', preload);
  }
  const quietTimeoutMs = checkInt('options.quietTimeoutMs', options.quietTimeoutMs ?? 5000, 0);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidType('options.signal', 'an instance of AbortSignal', signal);
  }
  if (signal?.aborted) throw startAborted(signal);
  const control = socketpair(SOCK_STREAM, SOCK_CLOEXEC);
  const descriptors = socketpair(SOCK_SEQPACKET, SOCK_CLOEXEC);
  let server: ChildProcess;
  try {
    // The server's fds 3 and 4 (CONTROL_FD, DESCRIPTOR_FD): inherited, not
    // close-on-exec there. --expose-gc: server-main.ts's collectGarbage.
    server = spawn(
      process.execPath,
      ['--expose-gc', SERVER_MAIN, JSON.stringify({ creator: process.pid, preload, quietTimeoutMs })],
      {
        stdio: ['ignore', 'ignore', 'inherit', control[1], descriptors[1]],
        env:
          options.env ?? Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'UV_USE_IO_URING')),
      },
    );
  } finally {
    close(control[1]);
    close(descriptors[1]);
  }
  const socket = new Socket({ fd: control[0], readable: true, writable: true });
  // Ended: its last replies read (the stream closed) and the process gone; a
  // process's 'exit' can come before the replies it wrote just before it.
  const ended = Promise.all([
    new Promise((resolve) => socket.once('close', resolve)),
    new Promise((resolve) => {
      if (server.exitCode !== null || server.signalCode !== null) resolve(undefined);
      else server.once('exit', resolve);
    }),
  ]).then(() => undefined);
  const endedHow = () => server.signalCode ?? `status ${server.exitCode}`;
  let onAbort = (): void => {};
  const first = await new Promise<Reply | Error>((resolve) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      partial = splitLines(partial, chunk, (message) => {
        socket.off('data', onData);
        resolve(message as Reply);
        return false;
      });
    };
    socket.on('data', onData);
    socket.on('error', () => {}); // its end is seen as 'close'
    server.once('error', resolve);
    ended.then(() =>
      resolve(packageError('ERR_FORK_SERVER_DIED', `the fork server ended while starting (${endedHow()})`)),
    );
    onAbort = () => {
      server.kill('SIGKILL');
      resolve(startAborted(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  signal?.removeEventListener('abort', onAbort);
  if (first instanceof Error || first.type !== 'ready') {
    socket.destroy();
    close(descriptors[0]);
    if (!(first instanceof Error)) await ended;
    if (first instanceof Error) throw first;
    throw first.type === 'start-failed'
      ? fromWire(first.error)
      : packageError('ERR_FORK_SERVER_PROTOCOL', 'unexpected reply');
  }
  return new ForkServer(server, socket, new OwnedFd(descriptors[0]), first.pid, ended);
}

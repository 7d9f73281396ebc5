// A prefork HTTP server: N workers accept on one shared listening socket.
//
//   node dist-dev/examples/prefork-server.js [--workers N] [--port P] [--direct]
//
// By default it runs on a fork server (docs/fork-server.md): this module is
// the server's preload, and its init() opens the listening socket on
// 127.0.0.1 inside the fork server, taking it out of that process's event
// loop (OwnedFd.fromServer), so the fork server stays quiet and holds a plain
// descriptor. Each worker is a child forked from the fork server: it inherits
// that descriptor and serves it (serveWorker); the kernel hands each new
// connection to one of the workers blocked in accept. This process only
// supervises: it learns of a worker's end from `exited`, asks for a
// replacement unless it is stopping, and on SIGTERM closes the fork server
// with SIGTERM for the workers, which then end, and exits 0.
//
// --direct keeps the original: this process listens and fork()s the workers
// itself, learns of a worker's end with waitExit (a pidfd in its event loop),
// and on SIGTERM stops and reaps every worker itself.
//
// It prints on stdout, for the test and the benchmark:
//   fork server <pid> listening    (not with --direct) once the socket is open
//   ready <port> <pid> <pid> ...   once all N workers listen
//   worker <pid> ready             for each replacement
//   worker <pid> ended <status>    for each worker that ended
//   stopped                        after SIGTERM, once every worker is reaped
import * as http from 'node:http';
import * as net from 'node:net';
import { fork, OwnedFd, PipeReader, startForkServer, waitExit, type WaitStatus } from '../src/index';
import { handler, serverArgs } from './handler';

/** The listening socket, as a plain descriptor (no handle in any event loop). */
let listener: OwnedFd | undefined;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function describe(status: WaitStatus): string {
  return status.exited ? `exit ${status.exitCode}` : `signal ${status.signal}`;
}

/** Listens on 127.0.0.1:`port` and keeps only the descriptor (see OwnedFd.fromServer). */
async function listen(port: number): Promise<{ socket: OwnedFd; port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { port: (server.address() as net.AddressInfo).port, socket: OwnedFd.fromServer(server) };
}

/**
 * A worker's whole life: serve `socket` (inherited through a fork) until
 * SIGTERM, then end once its connections are closed. Calls `onListening`
 * with the port once it accepts.
 */
function serve(socket: OwnedFd, onListening: (port: number) => void): void {
  const server = http.createServer(handler);
  server.listen({ fd: socket.release() }, () => onListening((server.address() as net.AddressInfo).port));
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
  });
}

// ---- On the fork server ----------------------------------------------------

/** The fork server's preload: the listening socket, on port PREFORK_PORT (default 0: any free port). */
export async function init(): Promise<void> {
  listener = (await listen(Number(process.env.PREFORK_PORT ?? 0))).socket;
}

/** A worker, in a child of the fork server: serves the socket init() opened; says "listening <port>" on stdout. */
export function serveWorker(): void {
  serve(listener!, (port) => out(`listening ${port}`));
}

/** The supervisor of the workers forked from a fork server. */
async function superviseForkServer(workerCount: number, port: number): Promise<void> {
  const forkServer = await startForkServer({
    preload: [__filename],
    env: { ...process.env, PREFORK_PORT: String(port) },
  });
  out(`fork server ${forkServer.pid} listening`);
  const board = new ReadyBoard(workerCount);
  let stopping = false;

  const startWorker = async (): Promise<void> => {
    const child = await forkServer.fork({
      module: __filename,
      export: 'serveWorker',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    board.started(child.pid);
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = /^listening (\d+)\n/.exec(text);
      if (line) board.ready(child.pid, Number(line[1]));
    });
    const status = await child.exited;
    board.ended(child.pid, status);
    if (!stopping) await startWorker();
  };
  // The fork server died, or refused a worker: stop everything, once.
  const fail = (error: Error) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`prefork-server: ${error.message}\n`);
    process.exitCode = 1;
    forkServer.close({ signal: 'SIGKILL' });
  };

  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    // The fork server signals every worker, waits for them all, and exits.
    forkServer.close({ signal: 'SIGTERM' }).then(() => out('stopped'));
  });
  for (let i = 0; i < workerCount; i++) startWorker().catch(fail);
}

// ---- --direct: on fork() ---------------------------------------------------

/** The supervisor of workers forked from this process itself. */
function superviseDirect(workerCount: number, port: number): void {
  const board = new ReadyBoard(workerCount);
  const workers = new Set<number>();
  let stopping = false;
  // Workers report "<pid>\n" on this pipe once they listen.
  const [readyEnd, readyWriter] = OwnedFd.pipe();
  const readyPipe = new PipeReader(readyEnd);
  let readyBuffer = '';
  let listeningPort = 0;

  /** Forks one worker; returns true in the worker, which must return at once. */
  const startWorker = (): boolean => {
    const pid = fork();
    if (pid === 0) {
      // fork() gives a clean child: the supervisor's pipe reader is detached
      // here, so a worker never takes its bytes, and its pending waitExit
      // calls are dropped. Listeners are program state and are kept: the
      // supervisor's SIGTERM handler is not a worker's (docs/fork.md).
      process.removeAllListeners('SIGTERM');
      serve(listener!, () => {
        readyWriter.write(`${process.pid}\n`);
        readyWriter.close();
      });
      return true;
    }
    workers.add(pid);
    board.started(pid);
    waitExit(pid).then((status) => onWorkerEnd(pid, status));
    return false;
  };

  const onWorkerEnd = (pid: number, status: WaitStatus): void => {
    workers.delete(pid);
    board.ended(pid, status);
    if (stopping) {
      if (workers.size === 0) stop();
      return;
    }
    startWorker();
  };

  readyPipe.stream.on('data', (chunk: Buffer) => {
    readyBuffer += chunk.toString();
    let newline;
    while ((newline = readyBuffer.indexOf('\n')) !== -1) {
      board.ready(Number(readyBuffer.slice(0, newline)), listeningPort);
      readyBuffer = readyBuffer.slice(newline + 1);
    }
  });

  const stop = (): void => {
    readyPipe.close();
    readyWriter.close();
    listener?.close();
    out('stopped');
  };

  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    if (workers.size === 0) stop();
    for (const pid of workers) process.kill(pid, 'SIGTERM');
  });

  listen(port).then((listening) => {
    listener = listening.socket;
    listeningPort = listening.port;
    for (let i = 0; i < workerCount; i++) {
      if (startWorker()) return; // in a worker: leave the parent's loop of forks
    }
  });
}

// ---- Both modes ------------------------------------------------------------

/** Tracks which workers listen and prints the lines above. */
class ReadyBoard {
  readonly #count: number;
  readonly #started = new Set<number>();
  readonly #ready = new Set<number>();
  #announced = false;

  constructor(count: number) {
    this.#count = count;
  }

  started(pid: number): void {
    this.#started.add(pid);
  }

  ready(pid: number, port: number): void {
    if (!this.#started.has(pid)) return; // ended before its line was read
    this.#ready.add(pid);
    if (this.#announced) out(`worker ${pid} ready`);
    else if (this.#ready.size === this.#count) {
      this.#announced = true;
      out(`ready ${port} ${[...this.#ready].join(' ')}`);
    }
  }

  ended(pid: number, status: WaitStatus): void {
    this.#started.delete(pid);
    this.#ready.delete(pid);
    out(`worker ${pid} ended ${describe(status)}`);
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const { workers, port } = serverArgs(argv);
  if (argv.includes('--direct')) superviseDirect(workers, port);
  else superviseForkServer(workers, port);
}

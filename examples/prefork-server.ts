// A prefork HTTP server on this package's fork().
//
//   node dist-dev/examples/prefork-server.js [--workers N] [--port P]
//
// The parent listens on 127.0.0.1, takes the listening socket out of its own
// event loop (OwnedFd.fromServer: the parent never accepts), and forks N
// workers that inherit the socket and serve it; the kernel hands each new
// connection to one of the workers blocked in accept. The parent supervises:
// it learns of a worker's end with waitExit (a pidfd in its event loop),
// forks a replacement unless it is stopping, and on SIGTERM stops every
// worker, reaps them all and exits 0, leaving no zombie.
//
// It prints on stdout, for the test and the benchmark:
//   ready <port> <pid> <pid> ...   once all N workers listen
//   worker <pid> ready             for each replacement
//   worker <pid> ended <status>    for each worker that ended
//   stopped                        after SIGTERM, once every worker is reaped
import * as http from 'node:http';
import * as net from 'node:net';
import { fork, OwnedFd, PipeReader, waitExit, type WaitStatus } from '../src/index';
import { handler, serverArgs } from './handler';

const { workers: workerCount, port } = serverArgs(process.argv.slice(2));
const workers = new Set<number>();
let stopping = false;
let announced = false;

// Workers report "<pid>\n" on this pipe once they listen.
const [readyEnd, readyWriter] = OwnedFd.pipe();
const ready = new PipeReader(readyEnd);
const readyPids = new Set<number>();
let readyBuffer = '';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function describe(status: WaitStatus): string {
  return status.exited ? `exit ${status.exitCode}` : `signal ${status.signal}`;
}

let listener: OwnedFd | undefined;
let listeningPort = 0;

/** The worker's whole life: serve the inherited socket until SIGTERM. */
function becomeWorker(): void {
  // fork() gives a clean child: the supervisor's pipe reader (`ready`) is
  // detached here, so a worker never takes its bytes, and its pending
  // waitExit calls are dropped. Listeners are program state and are kept:
  // the supervisor's SIGTERM handler is not a worker's (docs/fork.md).
  process.removeAllListeners('SIGTERM');
  // `listener` is a plain descriptor (no handle in the parent's loop), which
  // fork() copies into every child; the worker's server takes it over.
  const server = http.createServer(handler);
  server.listen({ fd: listener!.release() }, () => {
    readyWriter.write(`${process.pid}\n`);
    readyWriter.close();
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
  });
}

/** Forks one worker; returns true in the worker, which must return at once. */
function startWorker(): boolean {
  const pid = fork();
  if (pid === 0) {
    becomeWorker();
    return true;
  }
  workers.add(pid);
  waitExit(pid).then((status) => onWorkerEnd(pid, status));
  return false;
}

function onWorkerEnd(pid: number, status: WaitStatus): void {
  workers.delete(pid);
  readyPids.delete(pid);
  out(`worker ${pid} ended ${describe(status)}`);
  if (stopping) {
    if (workers.size === 0) stop();
    return;
  }
  startWorker();
}

ready.stream.on('data', (chunk: Buffer) => {
  readyBuffer += chunk.toString();
  let newline;
  while ((newline = readyBuffer.indexOf('\n')) !== -1) {
    const pid = Number(readyBuffer.slice(0, newline));
    readyBuffer = readyBuffer.slice(newline + 1);
    if (!workers.has(pid)) continue; // ended before it was read
    readyPids.add(pid);
    if (announced) out(`worker ${pid} ready`);
    else if (readyPids.size === workerCount) {
      announced = true;
      out(`ready ${listeningPort} ${[...readyPids].join(' ')}`);
    }
  }
});

function stop(): void {
  ready.close();
  readyWriter.close();
  listener?.close();
  out('stopped');
}

process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  if (workers.size === 0) stop();
  for (const pid of workers) process.kill(pid, 'SIGTERM');
});

const server = net.createServer();
server.listen(port, '127.0.0.1', () => {
  listeningPort = (server.address() as net.AddressInfo).port;
  listener = OwnedFd.fromServer(server);
  for (let i = 0; i < workerCount; i++) {
    if (startWorker()) return; // in a worker: leave the parent's loop of forks
  }
});

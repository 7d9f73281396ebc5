// The same server on Node's cluster module, the baseline of prefork-server.ts:
// same handler, same N, same output lines, same supervision (restart a worker
// that dies; on SIGTERM stop all, then exit).
//
//   node dist-dev/examples/cluster-server.js [--workers N] [--port P]
//
// cluster starts each worker as a new Node process (spawn + boot + load);
// by default on Linux the primary accepts the connections and passes them to
// the workers in turn (cluster.SCHED_RR).
import cluster, { type Worker } from 'node:cluster';
import * as http from 'node:http';
import { handler, serverArgs } from './handler';

const { workers: workerCount, port } = serverArgs(process.argv.slice(2));

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

if (cluster.isPrimary) {
  let stopping = false;
  let announced = false;
  const ready = new Set<number>();
  const live = new Set<Worker>();
  const start = (): void => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('listening', (address) => {
      const pid = worker.process.pid!;
      ready.add(pid);
      if (announced) out(`worker ${pid} ready`);
      else if (ready.size === workerCount) {
        announced = true;
        out(`ready ${address.port} ${[...ready].join(' ')}`);
      }
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    ready.delete(worker.process.pid!);
    out(`worker ${worker.process.pid} ended ${signal ? `signal ${signal}` : `exit ${code}`}`);
    if (!stopping) start();
    else if (live.size === 0) out('stopped');
  });
  process.on('SIGTERM', () => {
    stopping = true;
    for (const worker of live) worker.process.kill('SIGTERM');
  });
  for (let i = 0; i < workerCount; i++) start();
} else {
  const server = http.createServer(handler).listen(port, '127.0.0.1');
  process.on('SIGTERM', () => {
    // disconnect() closes the server and the IPC channel to the primary,
    // which would otherwise keep the worker alive.
    server.closeAllConnections();
    cluster.worker!.disconnect();
  });
}

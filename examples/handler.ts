// The request handler both example servers run (prefork-server.ts with this
// package's fork, cluster-server.ts with Node's cluster), so that a
// comparison measures the process model and nothing else: a small JSON body
// naming the process that served it.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function handler(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify({ pid: process.pid, url: request.url });
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Parses `--workers N --port P` (both optional) from argv. */
export function serverArgs(argv: string[]): { workers: number; port: number } {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(`--${name}`);
    if (at === -1) return fallback;
    const n = Number(argv[at + 1]);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be an integer >= 0`);
    return n;
  };
  const workers = value('workers', 4);
  if (workers < 1) throw new RangeError('--workers must be at least 1');
  return { workers, port: value('port', 0) };
}

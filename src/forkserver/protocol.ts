// The fork server's control protocol, shared by the caller (client.ts) and
// the server process (server-main.ts).
//
// Two socketpairs join them, both inherited by the server at spawn, never a
// path another process could open:
//  - the control stream (fd 3 in the server): one JSON object per line, both
//    ways, read by each side's event loop (a net.Socket);
//  - the descriptor channel (fd 4 in the server, SOCK_SEQPACKET): one message
//    per fork request that passes stdio, carrying the request's id and the
//    descriptors (SCM_RIGHTS). The caller sends it, synchronously, before the
//    request's line, so the server finds it queued when the line arrives.
// A socket read as a byte stream would discard the descriptors attached to
// the bytes it reads, hence two channels.

/** The server's descriptor for the control stream. */
export const CONTROL_FD = 3;
/** The server's descriptor for the descriptor channel. */
export const DESCRIPTOR_FD = 4;

/** An error as it crosses the channel: enough to rebuild a Node-shaped one. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** What the server is started with (its argv[2], as JSON). */
export interface ServerSettings {
  /** The creator's pid: the server's parent, with which it ends. */
  creator: number;
  preload: string[];
  quietTimeoutMs: number;
}

/** Caller -> server. */
export type Request =
  | {
      type: 'fork';
      id: number;
      module: string;
      export: string | null;
      args: unknown[];
      env: Record<string, string> | null;
      /** How many descriptors the request's message on the descriptor channel carries (stdin, stdout, stderr). */
      fds: number;
    }
  | { type: 'close'; signal: number | null };

/** Server -> caller. */
export type Reply =
  | { type: 'ready'; pid: number }
  | { type: 'start-failed'; error: WireError }
  | { type: 'forked'; id: number; pid: number }
  | { type: 'refused'; id: number; error: WireError }
  | { type: 'exit'; id: number; pid: number; status: number; thrown: WireError | null };

/** An Error (or anything thrown) as a WireError. */
export function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    const { code } = error as { code?: unknown };
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/**
 * Calls `onMessage` for each complete line of `chunk`, keeping a partial
 * line for the next chunk; returns the new partial line. Stops early (and
 * returns '') once `onMessage` returns false.
 */
export function splitLines(partial: string, chunk: Buffer, onMessage: (message: unknown) => boolean): string {
  const lines = (partial + chunk.toString('utf8')).split('\n');
  const rest = lines.pop()!;
  for (const line of lines) {
    if (line.length > 0 && !onMessage(JSON.parse(line))) return '';
  }
  return rest;
}

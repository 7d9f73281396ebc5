// `--trace`: every call through the package's syscall layer, printed to
// stderr as it happens, strace-style, from the program's own point of view:
//   [parent 4242] write(6 parent_write, "Parent message 0", 16) = 16
// Optionally every call is also recorded (as JSON lines, from both processes,
// into one file) for the sequence diagram.
import * as fs from 'node:fs';
import { getpid, setTracer, SyscallError, type TraceEvent, type WaitStatus } from '../index';

/** Names for the ends of the pipes, in the order the program creates them. */
export type PipeNames = [readEnd: string, writeEnd: string][];

/** The tutorial's: `let (parent_read, child_write) = create_pipe()?;` and the reverse. */
export const TUTORIAL_PIPES: PipeNames = [
  ['parent_read', 'child_write'],
  ['child_read', 'parent_write'],
];

export interface TraceOptions {
  pipes?: PipeNames;
  /** Print to stderr (default true). */
  print?: boolean;
  /** Colour: default on when stderr is a terminal and NO_COLOR is unset. */
  color?: boolean;
  /** Append each call as a JSON line to this file (both processes share it). */
  recordTo?: string;
}

/** A recorded call, as written for the diagram. */
export interface RecordedCall {
  t: number; // ms since tracing began
  role: string;
  pid: number;
  text: string;
  call: string;
  fd?: string;
  bytes?: number;
  data?: string;
  result?: string;
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

/** Bytes as strace shows them: a quoted C string, cut after 48 bytes. */
export function quote(bytes: Uint8Array, limit = 48): string {
  const text = Buffer.from(bytes.subarray(0, limit)).toString('latin1');
  const shown = text.replace(/[\x00-\x1f\x7f-\xff"\\]/g, (c) =>
    ESCAPES[c] ?? `\\${c.charCodeAt(0).toString(8)}`,
  );
  return `"${shown}"${bytes.length > limit ? '...' : ''}`;
}

function statusText(s: WaitStatus): string {
  if (s.pid === 0) return '0 (still running)';
  if (s.signaled) return `${s.pid} (killed by ${s.signal})`;
  if (s.stopped) return `${s.pid} (stopped by ${s.stopSignal})`;
  return `${s.pid} (exited ${s.exitCode})`;
}

/** Installs a tracer that prints (and optionally records) every call. Returns a function to remove it. */
export function startTracing(options: TraceOptions = {}): () => void {
  const pipes = options.pipes ?? TUTORIAL_PIPES;
  const names = new Map<number, string>([[0, 'stdin'], [1, 'stdout'], [2, 'stderr']]);
  const color = options.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const start = Date.now();
  let role = 'parent';
  let pipesMade = 0;

  const fdText = (fd: unknown) => {
    const name = names.get(fd as number);
    return name ? `${fd} ${name}` : String(fd);
  };

  setTracer((e: TraceEvent) => {
    if (e.phase === 'start' && e.call !== '_exit') return; // shown when it ends
    const pid = getpid();
    let args: string;
    let result: string;
    const record: Partial<RecordedCall> = { call: e.call };
    switch (e.call) {
      case 'read':
      case 'write': {
        const [fd, buffer, offset, length] = e.args as [number, Uint8Array, number, number];
        const moved = typeof e.result === 'number' ? e.result : 0;
        const shown = e.call === 'read' ? buffer.subarray(offset, offset + moved) : buffer.subarray(offset, offset + length);
        args = `${fdText(fd)}, ${quote(shown)}, ${length}`;
        record.fd = names.get(fd) ?? String(fd);
        record.bytes = moved;
        record.data = Buffer.from(shown).toString('utf8');
        break;
      }
      case 'pipe': {
        args = '';
        if (Array.isArray(e.result)) {
          const [r, w] = e.result as number[];
          const [rn, wn] = pipes[pipesMade++] ?? [`pipe${pipesMade}_read`, `pipe${pipesMade}_write`];
          names.set(r, rn);
          names.set(w, wn);
          args = e.args[0] ? `flags=${e.args[0]}` : '';
          record.data = `${rn}, ${wn}`;
        }
        break;
      }
      case 'close':
        args = fdText(e.args[0]);
        record.fd = names.get(e.args[0] as number) ?? String(e.args[0]);
        break;
      case 'waitpid':
        args = `${e.args[0]}, ${e.args[1]}`;
        break;
      case 'sleep':
        args = `${e.args[0]} ms`;
        break;
      default:
        args = e.args.map(String).join(', ');
    }
    if (e.error instanceof SyscallError) {
      result = paint(31, `-1 ${e.error.code} (${e.error.message.split(': ')[1].split(',')[0]})`);
    } else if (e.call === 'pipe' && Array.isArray(e.result)) {
      const [r, w] = e.result as number[];
      result = `[${fdText(r)}, ${fdText(w)}]`;
    } else if (e.call === 'waitpid') {
      result = statusText(e.result as WaitStatus);
    } else if (e.call === 'fork') {
      if (e.result === 0) role = 'child';
      result = String(e.result);
    } else if (e.call === '_exit') {
      result = '?';
    } else {
      result = e.result === undefined ? '0' : String(e.result);
    }
    if (e.call === 'close' && !e.error) names.delete(e.args[0] as number);
    const text = `${e.call}(${args}) = ${result}`;
    if (options.print !== false) {
      const label = paint(role === 'parent' ? 36 : 35, `[${role} ${pid}]`);
      fs.writeSync(2, `${label} ${text}\n`);
    }
    if (options.recordTo) {
      const plain = text.replace(/\x1b\[\d+m/g, '');
      fs.appendFileSync(
        options.recordTo,
        `${JSON.stringify({ ...record, t: Date.now() - start, role, pid, text: plain, result: plain.split(' = ').pop() })}\n`,
      );
    }
  });
  return () => setTracer(null);
}

// The write loop and the read loop: one write(2) or read(2) may move fewer
// bytes than asked for (pipe(7)), so moving a whole buffer takes a loop. The
// one step is the package's own call unless another is given (fs.writeSync
// for output the tracer must not see, a benchmark's variant, a retry policy).
import * as fs from 'node:fs';
import { native } from '../native';
import { POLLOUT, read, write } from '../syscalls';

/** One write of `bytes` from `offset` on: returns how many it wrote (0 to try again). */
export type WriteStep = (fd: number, bytes: Uint8Array, offset: number) => number;

/** One read into `buffer` at `offset`: returns how many it read, 0 at end of file. */
export type ReadStep = (fd: number, buffer: Uint8Array, offset: number) => number;

/** Writes every byte of `data` (a string as UTF-8) to `fd`, one `step` after another. */
export function writeAll(fd: number, data: Uint8Array | string, step: WriteStep = write): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let done = 0; done < bytes.length;) done += step(fd, bytes, done);
}

/**
 * One fs.writeSync, which the tracer does not see (a tool's own output). A
 * full non-blocking descriptor is 0 written, once poll(2) (untraced too) says
 * it has room, so that a loop over it sleeps instead of spinning.
 */
export function untracedWrite(fd: number, bytes: Uint8Array, offset: number): number {
  try {
    return fs.writeSync(fd, bytes, offset);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EAGAIN') throw error;
    native.poll(Int32Array.of(fd, POLLOUT, 0), -1);
    return 0;
  }
}

/** Reads into `buffer` until it is full or the end of file; returns how many bytes it holds. */
export function readFull(fd: number, buffer: Uint8Array, step: ReadStep = read): number {
  let got = 0;
  for (let n; got < buffer.length && (n = step(fd, buffer, got)) > 0;) got += n;
  return got;
}

/** Reads `fd` to the end of file; returns what it read, as UTF-8 text. */
export function readAll(fd: number): string {
  const buffer = Buffer.alloc(4096);
  const parts: Buffer[] = [];
  for (let n; (n = read(fd, buffer)) > 0;) parts.push(Buffer.from(buffer.subarray(0, n)));
  return Buffer.concat(parts).toString('utf8');
}

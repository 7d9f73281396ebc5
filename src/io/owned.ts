// OwnedFd: a file descriptor as an object that owns it, in the manner of
// Rust's std::os::fd::OwnedFd (which nix uses): closed exactly once, by
// close() or by leaving a `using` block (Symbol.dispose), and refusing every
// use afterwards with a clear error instead of acting on a number the kernel
// may since have given to something else. Beside the raw number API, not
// instead of it: `.fd` is the number, `release()` hands it back.
//
// Man pages: close(2), pipe(2), read(2), write(2), fcntl(2) (F_DUPFD_CLOEXEC).
import type { Server } from 'node:net';
import { checkFd, invalidType, packageError, SyscallError } from '../errors';
import { native } from '../native';
import { close, pipe, read, write } from '../syscalls';

const EBADF = 9; // errno.h; SyscallError's errno is libuv's negative form

/** The error for any use of an OwnedFd after close() or release(). */
function closedError(fd: number, call: string, how: 'closed' | 'released'): SyscallError {
  const message = `EBADF: bad file descriptor, ${call} (descriptor ${fd} was ${how} by its OwnedFd)`;
  return new SyscallError(message, 'EBADF', -EBADF, call);
}

/** A file descriptor owned by this object: closed once, never used after. */
export class OwnedFd implements Disposable {
  #fd: number;
  #state: 'open' | 'closed' | 'released' = 'open';

  /** Takes ownership of `fd`: from now on only this object closes it. */
  constructor(fd: number) {
    this.#fd = checkFd(fd);
  }

  /** pipe(2) as two owned ends: `[reader, writer]`. `flags` as {@link pipe}. */
  static pipe(flags: number = 0): [reader: OwnedFd, writer: OwnedFd] {
    const [readFd, writeFd] = pipe(flags);
    return [new OwnedFd(readFd), new OwnedFd(writeFd)];
  }

  /**
   * Takes the listening socket out of a listening `net.Server` (an
   * `http.Server` too): the server is closed, so this process's event loop
   * stops accepting on it, and the returned OwnedFd holds the same socket as a
   * plain descriptor (a duplicate, close-on-exec) that children of fork()
   * inherit and can serve with `server.listen({ fd })`. What a prefork
   * server's supervisor keeps.
   */
  static fromServer(server: Server): OwnedFd {
    if (server === null || typeof server !== 'object' || typeof server.listening !== 'boolean') {
      throw invalidType('server', 'an instance of net.Server', server);
    }
    // Node keeps the libuv handle on `_handle`; on Unix its `fd` getter gives
    // uv_fileno() (net.js reads it the same way). Only a listening server has one.
    const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
    if (!server.listening || typeof handle?.fd !== 'number' || handle.fd < 0) {
      throw packageError('ERR_SERVER_NOT_RUNNING', 'the server is not listening on a socket of its own');
    }
    const copy = native.duplicateListener(handle.fd);
    server.close();
    return new OwnedFd(copy);
  }

  /** The descriptor's number, for the raw API; throws EBADF once closed. */
  get fd(): number {
    return this.#use('fd');
  }

  /** Whether close() or release() has been called. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** {@link read} on this descriptor. */
  read(buffer: Uint8Array, offset: number = 0, length?: number): number {
    return read(this.#use('read'), buffer, offset, length);
  }

  /** {@link write} on this descriptor. */
  write(data: Uint8Array | string, offset: number = 0, length?: number): number {
    return write(this.#use('write'), data, offset, length);
  }

  /** Closes the descriptor (close(2)); a second close throws EBADF. */
  close(): void {
    const fd = this.#use('close');
    this.#state = 'closed';
    close(fd);
  }

  /**
   * Gives up ownership and returns the number, which the caller must now
   * close (Rust's `into_raw_fd`). The object then refuses every use.
   */
  release(): number {
    const fd = this.#use('release');
    this.#state = 'released';
    return fd;
  }

  /** Closes the descriptor unless it is already closed or released (`using`). */
  [Symbol.dispose](): void {
    if (this.#state === 'open') this.close();
  }

  #use(call: string): number {
    if (this.#state !== 'open') throw closedError(this.#fd, call, this.#state);
    return this.#fd;
  }
}

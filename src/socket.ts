// Unix-domain socket pairs, and messages that carry file descriptors from one
// process to another (SCM_RIGHTS). Man pages: socketpair(2), sendmsg(2),
// recvmsg(2), shutdown(2), unix(7), cmsg(3).
//
// EINTR policy (as the other calls): sendmsg and recvmsg are retried inside
// the addon; socketpair and shutdown do not block.
import { checkFd, checkInt, invalidType, outOfRange } from './errors';
import { native } from './native';
import { traced, tracer } from './tracer';

/** socketpair(2) type: a byte stream, like a pipe in both directions. */
export const SOCK_STREAM: number = native.constants.SOCK_STREAM;
/** socketpair(2) type: messages kept whole and in order, each read by one recvmsg. */
export const SOCK_SEQPACKET: number = native.constants.SOCK_SEQPACKET;
/** socketpair(2) flag: close both descriptors on exec. */
export const SOCK_CLOEXEC: number = native.constants.SOCK_CLOEXEC;
/** socketpair(2) flag: calls on both descriptors fail with EAGAIN instead of blocking. */
export const SOCK_NONBLOCK: number = native.constants.SOCK_NONBLOCK;
/** sendmsg(2) / recvmsg(2) flag: this call fails with EAGAIN instead of blocking. */
export const MSG_DONTWAIT: number = native.constants.MSG_DONTWAIT;
/** sendmsg(2) flag: a peer that has closed gives EPIPE and no SIGPIPE. */
export const MSG_NOSIGNAL: number = native.constants.MSG_NOSIGNAL;

/** shutdown(2): no more receiving on this socket. */
export const SHUT_RD: number = native.constants.SHUT_RD;
/** shutdown(2): no more sending; the peer reads end of file once it has read what was sent. */
export const SHUT_WR: number = native.constants.SHUT_WR;
/** shutdown(2): both directions. */
export const SHUT_RDWR: number = native.constants.SHUT_RDWR;

/** The kernel's limit of descriptors in one message (SCM_MAX_FD). */
export const MAX_FDS_PER_MESSAGE = 253;

/**
 * Creates a connected pair of Unix-domain sockets. See socketpair(2).
 *
 * Returns `[fd0, fd1]`: what is sent on one is received on the other, both
 * ways. `type` is {@link SOCK_STREAM} (the default) or {@link SOCK_SEQPACKET};
 * `flags` is 0 or an OR of {@link SOCK_CLOEXEC} and {@link SOCK_NONBLOCK}.
 * Unlike a pipe, a socket can carry descriptors ({@link sendmsg}).
 *
 * @example
 * const [parentEnd, childEnd] = socketpair(SOCK_SEQPACKET, SOCK_CLOEXEC);
 */
export function socketpair(type: number = SOCK_STREAM, flags: number = 0): [fd0: number, fd1: number] {
  checkInt('type', type, 0);
  if (type !== SOCK_STREAM && type !== SOCK_SEQPACKET) {
    throw outOfRange('type', 'SOCK_STREAM or SOCK_SEQPACKET', type);
  }
  checkInt('flags', flags, 0);
  if ((flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) !== 0) {
    throw outOfRange('flags', 'an OR of SOCK_CLOEXEC and SOCK_NONBLOCK', flags);
  }
  if (tracer !== null) return traced('socketpair', [type, flags], () => native.socketpair(type, flags));
  return native.socketpair(type, flags);
}

function checkBytes(name: string, value: unknown): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (!(value instanceof Uint8Array)) {
    throw invalidType(name, 'of type string or an instance of Buffer or Uint8Array', value);
  }
  return value;
}

/**
 * Sends `data` on the Unix-domain socket `fd`, with the descriptors `fds`
 * attached. See sendmsg(2) and SCM_RIGHTS in unix(7).
 *
 * The receiver gets new descriptors for the same open files, as dup(2) would
 * give; yours stay open and yours to close (closing them right after the call
 * is fine: the message holds its own references). At least one byte must go
 * with descriptors, at most {@link MAX_FDS_PER_MESSAGE} descriptors. `flags`
 * is 0 or an OR of {@link MSG_DONTWAIT} and {@link MSG_NOSIGNAL}. Returns the
 * bytes sent: on a stream socket possibly fewer than `data` holds (the
 * descriptors then went with the first of them); a {@link SOCK_SEQPACKET}
 * message goes whole or fails with EMSGSIZE. Blocks while the socket's buffer
 * is full, unless MSG_DONTWAIT.
 *
 * @example
 * sendmsg(socket, 'x', [pipeWriteEnd]); // the receiver may now write to the pipe
 */
export function sendmsg(fd: number, data: Uint8Array | string, fds: readonly number[] = [], flags: number = 0): number {
  checkFd(fd);
  const bytes = checkBytes('data', data);
  if (!Array.isArray(fds)) throw invalidType('fds', 'an instance of Array', fds);
  fds.forEach((entry, i) => checkInt(`fds[${i}]`, entry, 0));
  if (fds.length > MAX_FDS_PER_MESSAGE) {
    throw outOfRange('fds.length', `<= ${MAX_FDS_PER_MESSAGE} (SCM_MAX_FD)`, fds.length);
  }
  if (fds.length > 0 && bytes.byteLength === 0) {
    throw outOfRange('data', 'at least one byte when descriptors are sent', "''");
  }
  checkInt('flags', flags, 0);
  if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) !== 0) {
    throw outOfRange('flags', 'an OR of MSG_DONTWAIT and MSG_NOSIGNAL', flags);
  }
  const list = [...fds];
  const call = () => native.sendmsg(fd, bytes, 0, bytes.byteLength, list, flags);
  return tracer !== null ? traced('sendmsg', [fd, bytes, list, flags], call) : call();
}

/** What {@link recvmsg} received. */
export interface ReceivedMessage {
  /** The bytes read into the buffer; 0 at end of stream (the peer closed). */
  bytesRead: number;
  /** The descriptors that came with them: new, close-on-exec, and yours to close. */
  fds: number[];
}

/**
 * Receives into `buffer` from the Unix-domain socket `fd`, with the
 * descriptors sent along. See recvmsg(2) and SCM_RIGHTS in unix(7).
 *
 * Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC). `maxFds` (at most
 * {@link MAX_FDS_PER_MESSAGE}) is how many you expect; a message that carried
 * more, or a {@link SOCK_SEQPACKET} message larger than the buffer, fails with
 * EMSGSIZE: the kernel has then already dropped what did not fit, so the
 * descriptors that did arrive are closed rather than returned as if the
 * message were whole (its bytes are consumed). `flags` is 0 or
 * {@link MSG_DONTWAIT}. Blocks until a message arrives, unless MSG_DONTWAIT.
 *
 * @example
 * const { bytesRead, fds } = recvmsg(socket, Buffer.alloc(64), 1);
 */
export function recvmsg(fd: number, buffer: Uint8Array, maxFds: number = 0, flags: number = 0): ReceivedMessage {
  checkFd(fd);
  if (!(buffer instanceof Uint8Array)) throw invalidType('buffer', 'an instance of Buffer or Uint8Array', buffer);
  checkInt('maxFds', maxFds, 0);
  if (maxFds > MAX_FDS_PER_MESSAGE) throw outOfRange('maxFds', `<= ${MAX_FDS_PER_MESSAGE} (SCM_MAX_FD)`, maxFds);
  checkInt('flags', flags, 0);
  if ((flags & ~MSG_DONTWAIT) !== 0) throw outOfRange('flags', '0 or MSG_DONTWAIT', flags);
  const call = (): ReceivedMessage => {
    const [bytesRead, fds] = native.recvmsg(fd, buffer, 0, buffer.byteLength, maxFds, flags);
    return { bytesRead, fds };
  };
  return tracer !== null ? traced('recvmsg', [fd, buffer, maxFds, flags], call) : call();
}

/**
 * Ends one direction of a connected socket: {@link SHUT_WR} (the peer reads
 * end of file while it can still send to this end), {@link SHUT_RD}, or
 * {@link SHUT_RDWR}. See shutdown(2). It acts on the socket itself, so for
 * every descriptor of it in every process, which close(2) of one descriptor
 * does not; the descriptor stays open and still has to be closed. Fails with
 * ENOTSOCK for a descriptor that is not a socket. Does not block.
 *
 * @example
 * write(socket, request);
 * shutdown(socket, SHUT_WR); // the peer's read now returns 0 after the request
 */
export function shutdown(fd: number, how: number): void {
  checkFd(fd);
  checkInt('how', how, 0);
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) {
    throw outOfRange('how', 'SHUT_RD, SHUT_WR or SHUT_RDWR', how);
  }
  if (tracer !== null) return traced('shutdown', [fd, how], () => native.shutdown(fd, how));
  native.shutdown(fd, how);
}

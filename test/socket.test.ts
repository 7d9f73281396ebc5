// socketpair(2), and sendmsg(2) / recvmsg(2) carrying descriptors: what the
// kernel reports (/proc/self/fd, fdinfo flags, bytes through the passed
// descriptors), errno errors, argument checks.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as ipc from '../src/index';
import { fdFlags } from '../src/internal/proc';
import { native } from '../src/native';
import { inChild } from './helpers';

const { close, pipe, read, recvmsg, sendmsg, socketpair, write } = ipc;
const O_CLOEXEC_FLAG = 0o2000000; // fdinfo's flags field, octal as the kernel prints it

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function syscallError(code: string, syscall: string) {
  return (error: unknown) => ipc.isSyscallError(error, code) && error.syscall === syscall;
}

function text(buffer: Buffer, n: number): string {
  return buffer.toString('utf8', 0, n);
}

describe('socketpair', () => {
  it('gives two new connected descriptors that carry bytes both ways', () => {
    const before = openFds();
    const [a, b] = socketpair();
    assert.equal(openFds(), before + 2);
    write(a, 'ping');
    write(b, 'pong');
    const buffer = Buffer.alloc(16);
    assert.equal(text(buffer, read(b, buffer)), 'ping');
    assert.equal(text(buffer, read(a, buffer)), 'pong');
    close(a);
    close(b);
    assert.equal(openFds(), before);
  });

  it('passes SOCK_CLOEXEC and SOCK_NONBLOCK to the kernel', () => {
    const [a, b] = socketpair(ipc.SOCK_STREAM, ipc.SOCK_CLOEXEC | ipc.SOCK_NONBLOCK);
    assert.ok(fdFlags(a) & O_CLOEXEC_FLAG);
    assert.throws(() => read(a, Buffer.alloc(1)), syscallError('EAGAIN', 'read'));
    const [c, d] = socketpair();
    assert.equal(fdFlags(c) & O_CLOEXEC_FLAG, 0);
    for (const fd of [a, b, c, d]) close(fd);
  });

  it('SOCK_SEQPACKET keeps each message whole: one recvmsg, one message', () => {
    const [a, b] = socketpair(ipc.SOCK_SEQPACKET);
    sendmsg(a, 'first');
    sendmsg(a, 'second');
    const buffer = Buffer.alloc(64);
    assert.equal(text(buffer, recvmsg(b, buffer).bytesRead), 'first');
    assert.equal(text(buffer, recvmsg(b, buffer).bytesRead), 'second');
    close(a);
    assert.equal(recvmsg(b, buffer).bytesRead, 0, 'end of stream once the peer is closed');
    close(b);
  });

  it('refuses a type or flags it does not take, before any call', () => {
    assert.throws(() => socketpair(2 /* SOCK_DGRAM */), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    assert.throws(() => socketpair(ipc.SOCK_STREAM, 1 << 20), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => socketpair('stream' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('sendmsg and recvmsg with SCM_RIGHTS', () => {
  it('a descriptor sent is a new descriptor, close-on-exec, for the same pipe', () => {
    const [a, b] = socketpair(ipc.SOCK_SEQPACKET, ipc.SOCK_CLOEXEC);
    const [r, w] = pipe();
    assert.equal(sendmsg(a, 'w', [w]), 1);
    close(w); // the message holds its own reference
    const buffer = Buffer.alloc(8);
    const { bytesRead, fds } = recvmsg(b, buffer, 1);
    assert.equal(text(buffer, bytesRead), 'w');
    assert.equal(fds.length, 1);
    assert.ok(fdFlags(fds[0]) & O_CLOEXEC_FLAG, 'MSG_CMSG_CLOEXEC');
    write(fds[0], 'through the passed end');
    close(fds[0]);
    const out = Buffer.alloc(64);
    assert.equal(text(out, read(r, out)), 'through the passed end');
    assert.equal(read(r, out), 0, 'end of file: every write end is closed');
    for (const fd of [r, a, b]) close(fd);
  });

  it('carries a descriptor from one process to another', () => {
    const [parentEnd, childEnd] = socketpair(ipc.SOCK_STREAM, ipc.SOCK_CLOEXEC);
    const result = inChild(() => {
      close(parentEnd);
      const [r, w] = pipe();
      write(w, 'made in the child');
      close(w);
      sendmsg(childEnd, 'r', [r]);
    });
    close(childEnd);
    assert.equal(result.status.exitCode, 0, result.report);
    const { fds } = recvmsg(parentEnd, Buffer.alloc(4), 1);
    const out = Buffer.alloc(64);
    assert.equal(text(out, read(fds[0], out)), 'made in the child');
    close(fds[0]);
    close(parentEnd);
  });

  it('more descriptors than maxFds: EMSGSIZE, and none of them is left open', () => {
    const [a, b] = socketpair(ipc.SOCK_SEQPACKET);
    const pipes = [pipe(), pipe()];
    sendmsg(a, 'x', pipes.flat());
    const before = openFds();
    assert.throws(() => recvmsg(b, Buffer.alloc(8), 1), syscallError('EMSGSIZE', 'recvmsg'));
    assert.equal(openFds(), before, 'the descriptors that arrived were closed');
    sendmsg(a, 'y', [pipes[0][0]]);
    assert.throws(() => recvmsg(b, Buffer.alloc(8), 0), syscallError('EMSGSIZE', 'recvmsg'));
    assert.equal(openFds(), before);
    for (const fd of [a, b, ...pipes.flat()]) close(fd);
  });

  it('a SOCK_SEQPACKET message larger than the buffer: EMSGSIZE, never a short message', () => {
    const [a, b] = socketpair(ipc.SOCK_SEQPACKET);
    const [r, w] = pipe();
    sendmsg(a, 'a message of 27 characters', [r]);
    const before = openFds();
    assert.throws(() => recvmsg(b, Buffer.alloc(4), 1), syscallError('EMSGSIZE', 'recvmsg'));
    assert.equal(openFds(), before);
    for (const fd of [a, b, r, w]) close(fd);
  });

  it('reports errno errors: EBADF, ENOTSOCK, EPIPE, EAGAIN', () => {
    const [r, w] = pipe();
    const [a, b] = socketpair();
    close(b);
    assert.throws(() => sendmsg(w, 'x', [r]), syscallError('ENOTSOCK', 'sendmsg'));
    assert.throws(() => sendmsg(a, 'x', [], ipc.MSG_NOSIGNAL), syscallError('EPIPE', 'sendmsg'));
    assert.throws(() => sendmsg(a, 'x', [999_999]), syscallError('EBADF', 'sendmsg'));
    const [c, d] = socketpair();
    assert.throws(() => recvmsg(c, Buffer.alloc(1), 0, ipc.MSG_DONTWAIT), syscallError('EAGAIN', 'recvmsg'));
    for (const fd of [r, w, a, c, d]) close(fd);
    assert.throws(() => recvmsg(c, Buffer.alloc(1)), syscallError('EBADF', 'recvmsg'));
  });

  it('refuses bad arguments with Node codes before any call', () => {
    const [a, b] = socketpair();
    assert.throws(() => sendmsg(a, '', [0]), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => sendmsg(a, 'x', [-1]), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => sendmsg(a, 'x', 3 as unknown as number[]), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => sendmsg(a, 'x', new Array(254).fill(0)), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => sendmsg(a, 'x', [], 0x4000_0000), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => recvmsg(a, 'x' as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => recvmsg(a, Buffer.alloc(1), 254), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => recvmsg(a, Buffer.alloc(1), 0, ipc.MSG_NOSIGNAL), { code: 'ERR_OUT_OF_RANGE' });
    close(a);
    close(b);
  });

  it('the addon checks its own arguments: a direct call never crashes', () => {
    const calls = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    assert.throws(() => calls.sendmsg(0, 'x', 0, 1, [], 0), TypeError);
    assert.throws(() => calls.sendmsg(0, Buffer.alloc(1), 0, 2, [], 0), RangeError);
    assert.throws(() => calls.recvmsg(0, Buffer.alloc(1), 0, 1, 999, 0), RangeError);
    assert.throws(() => calls.socketpair(99, 0), RangeError);
  });
});

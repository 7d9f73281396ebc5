// A descriptor sent over a Unix socket (SCM_RIGHTS) to a process that did
// not inherit it: the receiver's new descriptor is the same open file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { close, fork, read, recvmsg, sendmsg, SOCK_SEQPACKET, socketpair, waitpid } from '../../index';
import { openFds } from '../../internal/proc';
import { type Lesson } from './common';

const TEXT = 'abcdefghijklmnopqrstuvwxyz\n';
const STEP = 5;

/** One message over a SOCK_SEQPACKET socket, as text, with any descriptors it carried. */
function receive(socket: number): { text: string; fds: number[] } {
  const buf = Buffer.alloc(256); // more than any message here (SOCK_SEQPACKET: EMSGSIZE if not)
  const { bytesRead, fds } = recvmsg(socket, buf, 1);
  return { text: buf.toString('utf8', 0, bytesRead), fds };
}

/** The file offset of descriptor `fd` of `pid`: the pos line of /proc/PID/fdinfo/FD. */
function position(pid: number | 'self', fd: number): number {
  return Number(/^pos:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]);
}

/** Reads STEP bytes from `fd` with read(2). */
function readStep(fd: number): string {
  const buf = Buffer.alloc(STEP);
  return buf.toString('utf8', 0, read(fd, buf));
}

/**
 * The receiver: forked before the file is opened. It answers each message:
 * a path, by opening it itself; a descriptor, with the number it got; 'read',
 * by reading STEP bytes through that descriptor; 'done', by leaving.
 */
function receiver(socket: number): void {
  let fd = -1;
  for (;;) {
    const { text, fds } = receive(socket);
    if (fds.length > 0) {
      fd = fds[0];
      sendmsg(socket, `${fd}`);
    } else if (text === 'read') {
      sendmsg(socket, readStep(fd));
    } else if (text === 'done' || text === '') {
      return;
    } else {
      try {
        sendmsg(socket, `fd ${fs.openSync(text, 'r')}`);
      } catch (error) {
        sendmsg(socket, (error as { code?: string }).code ?? String(error));
      }
    }
  }
}

export const passADescriptor: Lesson = {
  name: 'pass-a-descriptor',
  title: 'Passing an open file to another process (SCM_RIGHTS)',
  run(say) {
    const [mine, theirs] = socketpair(SOCK_SEQPACKET);
    const pid = fork(() => {
      close(mine);
      receiver(theirs);
    });
    close(theirs);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pass-a-descriptor-'));
    const file = path.join(dir, 'letters');
    fs.writeFileSync(file, TEXT);
    const fd = fs.openSync(file, 'r');
    const inode = fs.fstatSync(fd).ino;
    fs.unlinkSync(file); // as a temporary file often is: only the open descriptor reaches it now
    const first = readStep(fd);
    say(
      `A child (pid ${pid}) is forked first; then this process opens a file,\n` +
        `unlinks it, and reads ${JSON.stringify(first)} (fdinfo pos: ${position('self', fd)}).\n`,
    );

    say('The mistake: send the name, for the child to open.\n');
    sendmsg(mine, file);
    const opened = receive(mine).text;
    // The child is now in its loop (it has answered): its descriptor table is settled.
    const inheritedNone = !openFds(pid).some((f) => f.target.startsWith(file));
    say(
      `  its open(2) of the name: ${opened}; the file has no name any more, and\n` +
        `  /proc/${pid}/fd: the child holds ${inheritedNone ? 'no descriptor of it' : 'a descriptor of it'}` +
        ':\n  fork copied only what existed then.\n',
    );

    say('The fix: send the descriptor itself (sendmsg, SCM_RIGHTS) over a socketpair.\n');
    sendmsg(mine, 'x', [fd]);
    const theirFd = Number(receive(mine).text);
    const link = fs.readlinkSync(`/proc/${pid}/fd/${theirFd}`);
    const sameInode = fs.statSync(`/proc/${pid}/fd/${theirFd}`).ino === inode;
    const theirPos = position(pid, theirFd);
    say(
      `  recvmsg gave the child fd ${theirFd}; /proc/${pid}/fd/${theirFd} -> ${path.basename(link)};\n` +
        `  same inode as this process's fd ${fd}: ${sameInode}; fdinfo pos there: ${theirPos}.\n`,
    );
    sendmsg(mine, 'read');
    const theirRead = receive(mine).text;
    const ourRead = readStep(fd);
    const positions = [position('self', fd), position(pid, theirFd)];
    say(
      `  the child reads ${JSON.stringify(theirRead)}; then this process reads ${JSON.stringify(ourRead)}: ` +
        'one offset,\n' +
        `  moved by both (pos ${positions[0]} here, ${positions[1]} there): one open file description.\n`,
    );
    sendmsg(mine, 'done');
    const status = waitpid(pid);
    close(mine);
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true });
    return {
      first,
      inheritedNone,
      opened,
      sameInode,
      deleted: / \(deleted\)$/.test(link),
      theirPos,
      theirRead,
      ourRead,
      positions,
      exitCode: status.exitCode,
    };
  },
};

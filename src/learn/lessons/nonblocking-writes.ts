// pipe(7)'s four cases of a write to a non-blocking pipe, by size (up to
// PIPE_BUF or more) and by room, each measured with FIONREAD before and after.
import { spawnSync } from 'node:child_process';
import {
  _exit,
  bytesQueued,
  close,
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  fcntl,
  fork,
  isSyscallError,
  O_NONBLOCK,
  pipe,
  read,
  write,
} from '../../index';
import { processState } from '../../internal/proc';
import { blockedIn, killAndReap, PIPE_BUF, waitBounded, waitUntil, type Lesson } from './common';

/** The page size the cases are built on; the lesson prints the kernel's own (getconf PAGESIZE). */
const PAGE = 4096;
/** The capacity every case starts from, set with F_SETPIPE_SZ: 16 pages, the default. */
const CAPACITY = 16 * PAGE;

/** A pipe of CAPACITY bytes holding `queued` bytes, written a page at a time, then `tail` bytes. */
function pipeHolding(flags: number, pages: number, tail: number): [number, number] {
  const [r, w] = pipe(flags);
  fcntl(w, F_SETPIPE_SZ, CAPACITY);
  for (let i = 0; i < pages; i++) write(w, Buffer.alloc(PAGE));
  if (tail > 0) write(w, Buffer.alloc(tail));
  return [r, w];
}

interface Case {
  asked: number;
  room: number;
  /** What write() returned, or the errno name it failed with. */
  result: number | string;
  /** The bytes the write added, by FIONREAD. */
  added: number;
}

/** Writes `asked` bytes once into a non-blocking pipe of `pages` full pages and a `tail`. */
function measure(asked: number, pages: number, tail: number): Case {
  const [r, w] = pipeHolding(O_NONBLOCK, pages, tail);
  const before = bytesQueued(r);
  const room = fcntl(w, F_GETPIPE_SZ) - before;
  let result: number | string;
  try {
    result = write(w, Buffer.alloc(asked, 0x61));
  } catch (error) {
    if (!isSyscallError(error)) throw error;
    result = error.code;
  }
  const added = bytesQueued(r) - before;
  close(r);
  close(w);
  return { asked, room, result, added };
}

function outcome(c: Case): string {
  return typeof c.result === 'number' ? `returned ${c.result}` : `failed with ${c.result}`;
}

export const nonblockingWrites: Lesson = {
  name: 'nonblocking-writes',
  title: 'Non-blocking writes: all, part or EAGAIN, by size and room',
  run(say) {
    const getconf = spawnSync('getconf', ['PIPE_BUF', '/'], { encoding: 'utf8' }).stdout.trim();
    const pageSize = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout);
    say(
      `PIPE_BUF is ${getconf} here (getconf PIPE_BUF /). Each case below is a new pipe with\n` +
        `O_NONBLOCK, sized ${CAPACITY} bytes (F_SETPIPE_SZ), filled in part, written once;\n` +
        'FIONREAD before and after the write counts the bytes it added.\n',
    );
    const fits = measure(PIPE_BUF, 0, 0);
    const noRoom = measure(PIPE_BUF, 15, PAGE / 2);
    const partial = measure(5 * PAGE, 14, 0);
    const full = measure(5 * PAGE, 16, 0);
    const line = (label: string, c: Case) =>
      `  ${label}: ${c.asked} bytes, ${c.room} free: ${outcome(c)}, ${c.added} added\n`;
    say(
      'The mistake: to take EAGAIN as "nothing fits" and a return as "all went in".\n' +
        'n <= PIPE_BUF: all n bytes or none, never part of them.\n',
    );
    say(line('room     ', fits));
    say(line('not room ', noRoom));
    say('n > PIPE_BUF: a part may go in, and write() then returns less than n.\n');
    say(line('some room', partial));
    say(line('no room  ', full));
    say(
      `(Linux counts the room in pages, of ${pageSize} bytes here (getconf PAGESIZE):\n` +
        `${partial.room} free bytes are ${partial.room / PAGE} empty pages; ` +
        `the ${noRoom.room} free bytes of a half page\ntook no ${PIPE_BUF}-byte write.)\n`,
    );

    say(
      'The fix: write what write() did not take once poll() reports POLLOUT, and keep\n' +
        'records that must arrive whole to PIPE_BUF bytes.\n',
    );
    say('Without O_NONBLOCK, the same small write into the same room waits instead:\n');
    const [r, w] = pipeHolding(0, 15, PAGE / 2);
    const before = bytesQueued(r);
    const pid = fork(() => _exit(write(w, Buffer.alloc(PIPE_BUF)) === PIPE_BUF ? 0 : 1));
    const blocked = waitUntil(() => processState(pid) === 'S' && /pipe/.test(blockedIn(pid)), 2000);
    const state = `${processState(pid)} in ${blockedIn(pid)}`;
    const waiting = bytesQueued(r) - before;
    say(`  the writer is in state ${state}, ${waiting} bytes added meanwhile.\n`);
    const drained = read(r, Buffer.alloc(PAGE));
    const status = waitBounded(pid, 5000) ?? killAndReap(pid);
    const after = bytesQueued(r);
    close(r);
    close(w);
    say(
      `  once a read took ${drained} bytes, it wrote all ${PIPE_BUF} and exited ${status.exitCode}\n` +
        `  (FIONREAD: ${before}, then ${after}).\n`,
    );
    return {
      pipeBuf: Number(getconf),
      pageSize,
      fits,
      noRoom,
      partial,
      full,
      blockingState: blocked ? 'S' : state,
      addedWhileBlocked: waiting,
      blockingExit: status.exitCode,
      queuedBefore: before,
      queuedAfter: after,
    };
  },
};

// A named pipe: mkfifo(3) puts a pipe in the directory tree, where processes
// that share no descriptor find it by name; its opens wait for each other.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bytesQueued, close, fork, mkfifo, pipe, write } from '../../index';
import { readAll } from '../../internal/io-loops';
import { openFds, processState } from '../../internal/proc';
import { blockedIn, killAndReap, waitBounded, waitUntil, type Lesson } from './common';

const MESSAGE = 'sent by name';

/** The errno name that opening `file` with `flags` fails with, or 'none'. */
function openError(file: string, flags: number): string {
  try {
    fs.closeSync(fs.openSync(file, flags));
    return 'none';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

export const fifo: Lesson = {
  name: 'fifo',
  title: 'A named pipe (mkfifo): opened by path; a blocking open waits',
  run(say) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fifo-lesson-'));
    const file = path.join(dir, 'fifo');
    try {
      mkfifo(file, 0o600);
      const stat = fs.statSync(file);
      const mode = `0${(stat.mode & 0o7777).toString(8)}`;
      say(
        `mkfifo made\n  ${file}\n` +
          `stat: ${stat.isFIFO() ? 'a FIFO' : 'not a FIFO'}, mode ${mode}, ${stat.size} bytes. Any process allowed\n` +
          'to open the path reaches the pipe: no descriptor has to come through fork.\n',
      );
      const enxio = openError(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const writer = fs.openSync(file, fs.constants.O_WRONLY);
      write(writer, MESSAGE);
      const queued = bytesQueued(reader);
      const sizeWithData = fs.statSync(file).size;
      fs.closeSync(writer);
      fs.closeSync(reader);
      say(
        `The mistake: open(O_WRONLY | O_NONBLOCK) with no reader fails with ${enxio}\n` +
          '(fifo(7)). With a reader open (O_RDONLY | O_NONBLOCK returns at once),\n' +
          `O_WRONLY opens and a write goes in: FIONREAD counts ${queued} bytes, stat's size\n` +
          `stays ${sizeWithData}: they wait in the kernel; a FIFO has no content on disk.\n`,
      );

      say('A child opens it for reading (fs.openSync is a real open(2)), with no writer:\n');
      const [reportR, reportW] = pipe();
      const pid = fork(() => {
        close(reportR);
        const fd = fs.openSync(file, fs.constants.O_RDONLY);
        write(reportW, readAll(fd));
      });
      close(reportW);
      const holdsFifo = () => openFds(pid).some((f) => f.target === file);
      const blocked = waitUntil(() => processState(pid) === 'S' && /fifo|partner/.test(blockedIn(pid)), 2000);
      const state = `${processState(pid)} in ${blockedIn(pid)}`;
      const heldWhileBlocked = holdsFifo();
      say(
        `  /proc/${pid} shows state ${state};\n` +
          `  /proc/${pid}/fd holds the FIFO: ${heldWhileBlocked}. open() itself waits for a writer.\n`,
      );
      // Non-blocking: the waiting reader counts, so this opens; were the child gone, ENXIO, not a hang.
      const w = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      const link = fs.readlinkSync(`/proc/self/fd/${w}`);
      const opened = waitUntil(holdsFifo, 2000);
      say(
        'The fix: both sides open it, in either order. Once this process opens it for\n' +
          `writing, the child's open returns: its fd table holds the FIFO: ${opened}.\n` +
          `/proc/self/fd/${w} links to the path, not pipe:[inode]:\n` +
          `  ${link}\n`,
      );
      write(w, MESSAGE);
      fs.closeSync(w);
      const received = readAll(reportR);
      close(reportR);
      const status = waitBounded(pid, 5000) ?? killAndReap(pid);
      say(`  the child read "${received}" until EOF and exited ${status.exitCode}.\n`);
      return {
        isFifo: stat.isFIFO(),
        mode,
        size: stat.size,
        nonblockingWriteOpen: enxio,
        queued,
        sizeWithData,
        openerState: blocked ? 'S' : state,
        openerWchan: state.split(' in ')[1],
        heldWhileBlocked,
        openedAfterWriter: opened,
        link,
        file,
        received,
        exitCode: status.exitCode,
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

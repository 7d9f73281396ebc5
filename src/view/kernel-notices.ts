// Signals and exits as the kernel reports them to a tracer (ptrace(2)): strace
// attached to the run's first process and, through -f, to every process it
// forks. Each signal delivered ("--- SIGCHLD {...} ---"), each process's end
// ("+++ exited with 0 +++", "+++ killed by SIGPIPE +++") and each call a
// signal interrupted ("= ? ERESTARTSYS") is read back from its output, with
// the time strace stamped it, and put on the events' clock.
//
// strace is started by a shell that exits at once, so it is no child of the
// run: a waitpid(-1) of the program can never reap it, and it never shows in
// the run's process tree.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { missingStrace } from '../compare/compare';
import { untracedSleep } from '../internal/untraced-sleep';
import { now } from '../tracer';

/** Something the kernel did to a process, seen by the tracer. */
export interface KernelNotice {
  /** 'signal': a signal delivered; 'exit': the process ended; 'interrupted': a signal broke off a blocking call. */
  kind: 'signal' | 'exit' | 'interrupted';
  /** The thread the kernel acted on (the process's pid for its main thread). */
  tid: number;
  /** Its process (thread group), as /proc told when the watch stopped; the tid when it was gone by then. */
  pid: number;
  /** On the events' clock (ms). */
  time: number;
  /** 'SIGCHLD' (signal, interrupted, exit by a signal). */
  signal?: string;
  /** For a signal: who sent it (si_pid) and why (si_code); for SIGCHLD, the child's status (si_status). */
  from?: number;
  code?: string;
  status?: string;
  /** For an exit: its status, or null when a signal ended it. */
  exitCode?: number | null;
  coreDumped?: boolean;
  /** For an interrupted call: its name, and what became of it ('restarted', or the error the program got). */
  call?: string;
  outcome?: string;
}

/** How long attaching or detaching may take before the run goes on without it. */
const ATTACH_MS = 5000;
/** The calls whose interruption by a signal is shown: the ones a program blocks in. */
const BLOCKING_CALLS = 'read,write,wait4,waitid,clock_nanosleep,nanosleep,poll,ppoll,pselect6,pause,restart_syscall';

function tracersOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // it has ended (and been reaped)
  }
  return tasks.map((tid) => {
    try {
      return Number(/^TracerPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]);
    } catch {
      return -1; // the thread ended meanwhile
    }
  });
}

/** Waits until every thread of `pid` is traced (or none is); false when that did not happen in time. */
function awaitTraced(pid: number, traced: boolean): boolean {
  const deadline = Date.now() + ATTACH_MS;
  for (;;) {
    const tracers = tracersOf(pid).filter((t) => t >= 0);
    if (tracers.every((t) => (t !== 0) === traced)) return true;
    if (Date.now() >= deadline) return false;
    untracedSleep(2);
  }
}

/** The notices in strace's output (with -ttt); `offset` turns its clock (s, CLOCK_REALTIME) into the events' (ms). */
export function parseNotices(text: string, offset: number): KernelNotice[] {
  const notices: KernelNotice[] = [];
  const interrupted = new Map<number, KernelNotice>(); // tid -> its call broken off, waiting for the signal's line
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    const time = Number(m[2]) * 1000 - offset;
    const body = m[3];
    const signal = /^--- (SIG\w+) \{(.*)\} ---$/.exec(body);
    if (signal) {
      const field = (name: string) => new RegExp(`\\b${name}=([^,]+)`).exec(signal[2])?.[1];
      const notice: KernelNotice = { kind: 'signal', tid, pid: tid, time, signal: signal[1], code: field('si_code') };
      if (field('si_pid') !== undefined) notice.from = Number(field('si_pid'));
      if (field('si_status') !== undefined) notice.status = field('si_status');
      notices.push(notice);
      const broken = interrupted.get(tid);
      if (broken && broken.signal === undefined) broken.signal = signal[1];
      continue;
    }
    const exited = /^\+\+\+ exited with (\d+) \+\+\+$/.exec(body);
    const killed = /^\+\+\+ killed by (SIG\w+)( \(core dumped\))? \+\+\+$/.exec(body);
    if (exited || killed) {
      notices.push({
        kind: 'exit',
        tid,
        pid: tid,
        time,
        exitCode: exited ? Number(exited[1]) : null,
        signal: killed?.[1],
        coreDumped: killed?.[2] !== undefined,
      });
      continue;
    }
    // A call a signal broke off: "= ? ERESTARTSYS ..." (the kernel restarts it) or "= -1 EINTR" (the program sees it).
    const stopped = /^(?:<\.\.\. (\w+) resumed>|(\w+)\().*= (\? (ERESTART\w*)|-1 EINTR)/.exec(body);
    if (stopped) {
      const notice: KernelNotice = {
        kind: 'interrupted',
        tid,
        pid: tid,
        time,
        call: stopped[1] ?? stopped[2],
        outcome: stopped[4] ? 'restarted' : 'EINTR',
      };
      notices.push(notice);
      interrupted.set(tid, notice);
      continue;
    }
    if (!body.startsWith('---')) interrupted.delete(tid);
  }
  return notices;
}

/** A tracer attached to the run; stop() detaches it and gives what it saw. */
export interface NoticeWatch {
  /** What was watched with: 'strace 6.1 (ptrace)'. */
  by: string;
  stop(): KernelNotice[];
}

/**
 * Attaches strace to `root` (and, as they are forked, to its descendants).
 * Returns why it cannot when this machine has no strace or forbids ptrace.
 */
export function watchKernelNotices(root: number, dir: string): NoticeWatch | string {
  const missing = missingStrace();
  if (missing.length > 0) return missing.join('; ');
  const file = path.join(dir, 'strace.txt');
  const started = spawnSync(
    'sh',
    [
      '-c',
      'strace -q -f -ttt -s 0 -e trace="$2" -e signal=all -p "$1" -o "$3" </dev/null >/dev/null 2>"$3.err" & echo $!',
      'sh',
      String(root),
      `${BLOCKING_CALLS},exit_group`,
      file,
    ],
    { encoding: 'utf8' },
  );
  const stracePid = Number(started.stdout.trim());
  if (!(stracePid > 0) || !awaitTraced(root, true)) {
    if (stracePid > 0) process.kill(stracePid, 'SIGTERM');
    return `strace did not attach: ${fs.existsSync(`${file}.err`) ? fs.readFileSync(`${file}.err`, 'utf8').trim() : started.stderr.trim()}`;
  }
  const version = /version (\S+)/.exec(spawnSync('strace', ['-V'], { encoding: 'utf8' }).stdout)?.[1] ?? '';
  // A mark on both clocks: a read of /dev/null, timed here and stamped by strace.
  const marker = fs.openSync('/dev/null', 'r');
  const before = now();
  fs.readSync(marker, Buffer.alloc(1), 0, 1, null);
  const after = now();
  fs.closeSync(marker);
  return {
    by: `strace ${version} (ptrace)`.replace('  ', ' '),
    stop() {
      try {
        process.kill(stracePid, 'SIGTERM');
      } catch {
        // strace has left already: everything it traced has ended
      }
      awaitTraced(root, false);
      // strace writes its last lines as it exits
      const deadline = Date.now() + ATTACH_MS;
      while (
        fs.existsSync(`/proc/${stracePid}`) &&
        !/^State:\s+Z/m.test(readStatus(stracePid)) &&
        Date.now() < deadline
      )
        untracedSleep(2);
      const text = fs.readFileSync(file, 'utf8');
      const mark = new RegExp(`^${process.pid}\\s+(\\d+\\.\\d+) read\\(${marker}, "", 1\\)\\s+= 0$`, 'm').exec(text);
      const offset = mark ? Number(mark[1]) * 1000 - (before + after) / 2 : Date.now() - now();
      const notices = parseNotices(text, offset);
      for (const n of notices) {
        const group = /^Tgid:\s+(\d+)/m.exec(readStatus(n.tid));
        if (group) n.pid = Number(group[1]);
      }
      return notices;
    },
  };
}

function readStatus(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

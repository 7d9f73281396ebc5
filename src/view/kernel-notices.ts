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
export function parseNotices(
  text: string,
  offset: number,
  interrupted = new Map<number, KernelNotice>(), // tid -> its call broken off, until it is seen again
): KernelNotice[] {
  const notices: KernelNotice[] = [];
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
      if (broken && broken.signal === undefined) {
        // The call was broken off when the signal came (strace stamps a call's line with its start).
        broken.signal = signal[1];
        broken.time = time;
      }
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
        // ERESTART*: the kernel restarts it if the handler asked for that (SA_RESTART); seen when it is made again.
        outcome: stopped[4] ? 'not restarted' : 'EINTR',
      };
      notices.push(notice);
      interrupted.set(tid, notice);
      continue;
    }
    // After the handler's own calls, the same call made again (or resumed by restart_syscall): restarted.
    const broken = interrupted.get(tid);
    if (broken && broken.outcome !== 'EINTR' && new RegExp(`^(${broken.call}|restart_syscall)\\(`).test(body)) {
      broken.outcome = 'restarted';
      interrupted.delete(tid);
    }
  }
  return notices;
}

/** A tracer attached to the run. */
export interface NoticeWatch {
  /** What was watched with: 'strace 6.1 (ptrace)'. */
  by: string;
  /** What it has reported since the last call (whole lines written so far). */
  poll(): KernelNotice[];
  /** Detaches it; everything it saw. */
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
  const markLine = new RegExp(`^${process.pid}\\s+(\\d+\\.\\d+) read\\(${marker}, "", 1\\)\\s+= 0$`, 'm');
  let offset: number | undefined;
  /** strace's clock (s) less the events' (ms), from the mark once strace has written it. */
  const clockOffset = (text: string) => {
    const mark = markLine.exec(text);
    if (mark) offset = Number(mark[1]) * 1000 - (before + after) / 2;
    return offset;
  };
  const withPids = (notices: KernelNotice[]) => {
    for (const n of notices) {
      const group = /^Tgid:\s+(\d+)/m.exec(readStatus(n.tid));
      if (group) n.pid = Number(group[1]);
    }
    return notices;
  };
  // Read through one descriptor, so that the caller may remove the file's directory at once.
  const reader = fs.openSync(file, 'r');
  const readAll = (from: number): string => {
    const chunk = Buffer.alloc(fs.fstatSync(reader).size - from);
    let got = 0;
    for (let n; got < chunk.length && (n = fs.readSync(reader, chunk, got, chunk.length - got, from + got)) > 0;)
      got += n;
    return chunk.toString('utf8', 0, got);
  };
  let read = 0;
  const broken = new Map<number, KernelNotice>();
  return {
    by: `strace ${version} (ptrace)`.replace('  ', ' '),
    poll() {
      // pread(2), which strace is not asked to trace: reading its file must not make it write more.
      const text = readAll(read);
      const whole = text.lastIndexOf('\n') + 1;
      if (offset === undefined && clockOffset(text.slice(0, whole)) === undefined) return [];
      read += whole;
      return withPids(parseNotices(text.slice(0, whole), offset!, broken));
    },
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
      const text = readAll(0);
      fs.closeSync(reader);
      return withPids(parseNotices(text, clockOffset(text) ?? Date.now() - now()));
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

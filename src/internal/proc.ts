// What the kernel shows of a process in /proc (proc(5)): its state, its
// parent, what it is blocked in, its children, its descriptor table with each
// pipe end's inode and flags, and its signal masks. The steps, the lessons,
// --trace, the exercise checks and the web view's recorder all read it here.
import * as fs from 'node:fs';
import * as os from 'node:os';

/** A process id, or 'self' for the calling process. */
export type Pid = number | 'self';

/** The fields of /proc/PID/stat that the tools use. */
export interface ProcStat {
  /** The command name ('node', or 'ls' after an exec), at most 15 bytes. */
  comm: string;
  /** R running, S sleeping (blocked), D uninterruptible, T stopped, Z zombie... */
  state: string;
  ppid: number;
}

/** Reads /proc/PID/stat; throws when the process is gone (reaped). */
export function readStat(pid: Pid): ProcStat {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
  const close = stat.lastIndexOf(')');
  const [state, ppid] = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state, ppid: Number(ppid) };
}

/** The process state letter from /proc/PID/stat: R, S, D, Z, T...; throws when the process is gone. */
export function processState(pid: Pid): string {
  return readStat(pid).state;
}

/** The kernel function a process waits in, from /proc/PID/wchan ('pipe_read', 'do_wait'); '' if none or unreadable. */
export function wchan(pid: Pid): string {
  try {
    return fs.readFileSync(`/proc/${pid}/wchan`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The children of `pid`'s main thread (/proc/PID/task/PID/children); [] when it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** One open descriptor, from /proc/PID/fd, and for a pipe from /proc/PID/fdinfo. */
export interface OpenFd {
  fd: number;
  /** The link's text: 'pipe:[1234]', '/dev/pts/0', 'anon_inode:[eventpoll]'... */
  target: string;
  /** For a pipe end: the pipe's inode. */
  pipe?: number;
  /** For a pipe end: its file status flags (O_WRONLY, O_NONBLOCK, O_CLOEXEC...). */
  flags?: number;
}

const PIPE_LINK = /^pipe:\[(\d+)\]$/;

/** The file status flags of descriptor `fd` of `pid`, from /proc/PID/fdinfo (octal there). */
export function fdFlags(fd: number, pid: Pid = 'self'): number {
  const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
  return parseInt(/flags:\s+(\d+)/.exec(info)![1], 8);
}

/** fcntl.h's mask of the access mode bits (fs.constants lacks it). */
export const O_ACCMODE = 0o3;

/** Which end of a pipe a descriptor with these flags is: its access mode, O_WRONLY or not. */
export function pipeEnd(flags: number): 'read' | 'write' {
  return (flags & O_ACCMODE) === fs.constants.O_WRONLY ? 'write' : 'read';
}

/**
 * The descriptors of `pid`, in order; [] for a zombie, which has none. A
 * descriptor closed while it is being read is left out.
 */
export function openFds(pid: Pid): OpenFd[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const fds: OpenFd[] = [];
  for (const entry of entries) {
    const fd = Number(entry);
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${entry}`);
      const pipe = PIPE_LINK.exec(target);
      fds.push(pipe ? { fd, target, pipe: Number(pipe[1]), flags: fdFlags(fd, pid) } : { fd, target });
    } catch {
      // closed meanwhile
    }
  }
  return fds.sort((a, b) => a.fd - b.fd);
}

/**
 * The signal masks of a /proc status file (proc(5): SigPnd, ShdPnd, SigBlk,
 * SigIgn, SigCgt), as hex by field name; {} when it cannot be read (the
 * process or thread has ended).
 */
export function signalMasks(statusFile: string): Record<string, string> {
  let status: string;
  try {
    status = fs.readFileSync(statusFile, 'utf8');
  } catch {
    return {};
  }
  const masks: Record<string, string> = {};
  for (const [, field, hex] of status.matchAll(/^(Sig\w+|ShdPnd):\s+([0-9a-f]+)$/gm)) masks[field] = hex;
  return masks;
}

/** Whether a hex signal mask holds signal `name` ('SIGCHLD'); false for no mask. */
export function maskHas(mask: string | undefined, name: string): boolean {
  const n = (os.constants.signals as Record<string, number>)[name];
  return mask !== undefined && n !== undefined && ((BigInt(`0x${mask}`) >> BigInt(n - 1)) & 1n) === 1n;
}

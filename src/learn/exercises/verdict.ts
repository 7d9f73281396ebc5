// What the exercises' checks read from a run: who blocked where and on which
// pipe, who held its ends, bytes moved, exit statuses, descriptors open at an
// exec, children left at the end. Each sentence is built from the recording
// and /proc, never assumed.
import type { FdEntry, ProcessSnapshot, RawEvent, Snapshot } from '../../view/types';
import type { Observation } from './observe';

/** A check's outcome: whether the program does the task, and why, in sentences. */
export interface Verdict {
  pass: boolean;
  sentences: string[];
}

/** A child's end as the program's waitpid() reported it. */
export interface Reaped {
  pid: number;
  exited?: boolean;
  exitCode?: number | null;
  signaled?: boolean;
  signal?: string | null;
}

/** 'the program (pid 10)', 'wc (pid 12)' after an exec, 'child 11' for a forked Node. */
export function who(obs: Observation, pid: number, snapshot?: Snapshot): string {
  if (pid === obs.pid) return `the program (pid ${pid})`;
  const comm = snapshot?.processes.find((p) => p.pid === pid)?.comm;
  return comm && comm !== 'node' ? `${comm} (pid ${pid})` : `child ${pid}`;
}

/** The pid of every process the program forked (fork's result in its parent). */
export function forked(obs: Observation): number[] {
  return obs.events.flatMap((e) =>
    e.kind === 'end' && e.call === 'fork' && typeof e.result === 'number' && e.result > 0 ? [e.result] : [],
  );
}

/** The children a process reaped, as its waitpid() calls returned them. */
export function reaped(obs: Observation, by = obs.pid): Reaped[] {
  return obs.events.flatMap((e) => {
    const r = e.result as Reaped | undefined;
    return e.kind === 'end' && e.call === 'waitpid' && e.pid === by && r && r.pid > 0 ? [r] : [];
  });
}

/** 'exited with status 0', 'was killed by SIGPIPE'. */
export function fate(r: Reaped): string {
  return r.signaled ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`;
}

/** Bytes one read() or write() moved, as its end recorded it. */
export function moved(e: RawEvent): number {
  const r = e.result as number | { bytes: number };
  return typeof r === 'number' ? r : r.bytes;
}

/** Bytes a process's read() or write() calls moved, in total. */
export function bytesMoved(obs: Observation, pid: number, call: 'read' | 'write'): number {
  let total = 0;
  for (const e of obs.events) if (e.kind === 'end' && e.pid === pid && e.call === call && !e.error) total += moved(e);
  return total;
}

/** The pipes (inodes) a process's read() calls read from. */
export function pipesReadBy(obs: Observation, pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const e of obs.events) if (e.kind === 'end' && e.pid === pid && e.call === 'read' && e.pipe) inodes.add(e.pipe);
  return inodes;
}

/**
 * The results of each read() of a process from a pipe the program made, in
 * order: bytes and their first characters.
 */
export function readsOf(obs: Observation, pid: number): { bytes: number; text: string }[] {
  const pipes = programPipes(obs);
  return obs.events.flatMap((e) => {
    if (e.kind !== 'end' || e.pid !== pid || e.call !== 'read' || e.error) return [];
    if (e.pipe === undefined || !pipes.has(e.pipe)) return [];
    const r = e.result as number | { bytes: number; text: string };
    return [typeof r === 'number' ? { bytes: r, text: '' } : r];
  });
}

/**
 * Whether a poll() of `pid` reported POLLHUP on a read end of one of the
 * program's pipes: no write end left open, as a read() returning 0 says.
 */
export function pollSawHangup(obs: Observation, pid: number): boolean {
  const pipes = programPipes(obs);
  let table: FdEntry[] = [];
  for (const e of obs.events) {
    if (e.pid !== pid) continue;
    const fds = own(e.snapshot, pid)?.fds;
    if (fds) table = fds; // the last table this process recorded holds until its next
    if (e.kind !== 'end' || e.call !== 'poll' || !Array.isArray(e.result)) continue;
    for (const { fd, revents } of e.result as { fd: number; revents: string }[]) {
      const f = table.find((t) => t.fd === fd);
      if (/POLLHUP/.test(revents) && f?.end === 'read' && f.pipe !== undefined && pipes.has(f.pipe)) return true;
    }
  }
  return false;
}

/** The process's own entry in a snapshot. */
function own(snapshot: Snapshot | undefined, pid: number): ProcessSnapshot | undefined {
  return snapshot?.processes.find((p) => p.pid === pid);
}

/** The inodes of the pipes the program's pipe() calls made. */
function programPipes(obs: Observation): Set<number> {
  const inodes = new Set<number>();
  for (const e of obs.events) {
    if (e.kind !== 'end' || e.call !== 'pipe' || !Array.isArray(e.result)) continue;
    for (const f of own(e.snapshot, e.pid)?.fds ?? []) if (e.result.includes(f.fd) && f.pipe) inodes.add(f.pipe);
  }
  return inodes;
}

/**
 * Each execvp() a process made, with the descriptors of the program's pipes
 * above 2 it held then without close-on-exec: those the exec'd program
 * inherits.
 */
export function execs(obs: Observation): { pid: number; program: string; leaked: FdEntry[] }[] {
  const pipes = programPipes(obs);
  return obs.events.flatMap((e) => {
    if (e.kind !== 'start' || e.call !== 'execvp') return [];
    const fds = own(e.snapshot, e.pid)?.fds ?? [];
    const leaked = fds.filter((f) => f.fd > 2 && f.pipe !== undefined && pipes.has(f.pipe) && !f.cloexec);
    return [{ pid: e.pid, program: String(e.args?.[0]), leaked }];
  });
}

/** What a program printed, for a sentence: whole when short, else its start and its size. */
export function printedText(text: string): string {
  const lines = text.split('\n');
  if (text.length <= 120) return `'${text}'`;
  return `'${text.slice(0, 60)}...' (${lines.length} lines)`;
}

/** 'fd 4 (write end of pipe:[123])' */
export function fdText(f: FdEntry): string {
  return f.pipe === undefined ? `fd ${f.fd} (${f.target})` : `fd ${f.fd} (${f.end} end of pipe:[${f.pipe}])`;
}

/** The call each process was in when the program was stopped: its last start without an end. */
function pendingCalls(events: RawEvent[]): Map<number, RawEvent> {
  const open = new Map<number, RawEvent>();
  for (const e of events) {
    if (e.kind === 'start') open.set(e.pid, e);
    else if (e.kind === 'end' && open.get(e.pid)?.id === e.id) open.delete(e.pid);
  }
  return open;
}

/** The pipe a blocked process waits on: its pending call's descriptor, else the one pipe it holds that end of. */
function pipeWaitedOn(p: ProcessSnapshot, pending: RawEvent | undefined, end: 'read' | 'write'): FdEntry | undefined {
  const byCall = pending?.args ? p.fds.find((f) => f.fd === pending.args![0] && f.pipe !== undefined) : undefined;
  if (byCall) return byCall;
  // An exec'd program (wc) records nothing: the one pipe it holds that end of, by whichever descriptors.
  const candidates = p.fds.filter((f) => f.end === end);
  return new Set(candidates.map((f) => f.pipe)).size === 1 ? candidates[0] : undefined;
}

/** Who holds `end` of pipe `inode`, and by which descriptors. */
function holders(snapshot: Snapshot, inode: number, end: 'read' | 'write'): { pid: number; fds: number[] }[] {
  return snapshot.processes.flatMap((p) => {
    const fds = p.fds.filter((f) => f.pipe === inode && f.end === end).map((f) => f.fd);
    return fds.length > 0 ? [{ pid: p.pid, fds }] : [];
  });
}

/** What was blocked where when the check stopped a program, in the lessons' words. */
export function stuckSentences(obs: Observation): string[] {
  const stuck = obs.stuck!;
  const snap = stuck.snapshot;
  const seconds = (stuck.afterMs / 1000).toFixed(1);
  const sentences = [
    stuck.reason === 'bound'
      ? `It was still running after ${seconds} s, the check's bound; the check killed it. What /proc showed then:`
      : `After ${seconds} s every process of it was blocked in the kernel and nothing moved; ` +
        'the check killed them. What /proc showed then:',
  ];
  const pending = pendingCalls(obs.events);
  const name = (pid: number) => who(obs, pid, snap);
  const held = (list: { pid: number; fds: number[] }[], self: number) =>
    list.map((h) => `${h.pid === self ? 'itself' : name(h.pid)} (fd ${h.fds.join(', ')})`).join(', ');
  for (const p of snap.processes) {
    const me = name(p.pid);
    if (p.state === 'Z') {
      sentences.push(`${me} is a zombie (state Z): it has ended and no one has reaped it.`);
      continue;
    }
    if (/pipe_read$/.test(p.wchan)) {
      const f = pipeWaitedOn(p, pending.get(p.pid), 'read');
      if (!f) {
        sentences.push(`${me} is blocked in read() of a pipe (wchan ${p.wchan}).`);
        continue;
      }
      const writers = holders(snap, f.pipe!, 'write');
      sentences.push(
        `${me} is blocked in read() of fd ${f.fd}, the read end of pipe:[${f.pipe}] (wchan ${p.wchan}). ` +
          (writers.length === 0
            ? 'No process holds its write end.'
            : `Its write end is still held by ${held(writers, p.pid)}: the kernel gives end of file ` +
              'only once no process holds a write end, so this read() waits for ever.'),
      );
    } else if (/pipe_write$/.test(p.wchan)) {
      const f = pipeWaitedOn(p, pending.get(p.pid), 'write');
      if (!f) {
        sentences.push(`${me} is blocked in write() to a full pipe (wchan ${p.wchan}).`);
        continue;
      }
      const level = snap.pipes.find((q) => q.inode === f.pipe);
      const fill =
        level?.queued != null && level.capacity != null ? ` (${level.queued} of ${level.capacity} bytes queued)` : '';
      const readers = holders(snap, f.pipe!, 'read').filter((h) => h.pid !== p.pid);
      const stuckReaders = readers.filter((h) => /pipe_write$/.test(own(snap, h.pid)?.wchan ?? ''));
      sentences.push(
        `${me} is blocked in write() to fd ${f.fd}, pipe:[${f.pipe}], which is full${fill} ` +
          `(wchan ${p.wchan}): it waits for a reader to make room.` +
          (stuckReaders.length > 0
            ? ` Its reader, ${name(stuckReaders[0].pid)}, is itself blocked in write() instead of ` +
              'reading: each waits for the other. That is a deadlock.'
            : readers.length > 0
              ? ` Its reader is ${held(readers, p.pid)}, which does not read it.`
              : ''),
      );
    } else if (p.wchan === 'do_wait') {
      sentences.push(`${me} is blocked in waitpid() (wchan do_wait): a child it waits for has not ended.`);
    } else if (p.wchan === 'do_epoll_wait') {
      sentences.push(
        `${me} is waiting in Node's event loop (epoll_wait): its code has returned, ` +
          'but something still keeps the loop alive.',
      );
    } else if (p.state === 'R') {
      sentences.push(`${me} is in state R: running, not blocked (a loop that does not end?).`);
    } else {
      sentences.push(`${me} is in state ${p.state}${p.wchan && p.wchan !== '0' ? `, in ${p.wchan}` : ''}.`);
    }
  }
  return sentences;
}

/**
 * What every check starts from: how the program ended (or where it was
 * stuck), and each child it forked, reaped or not. `ok` when it ended by
 * itself with status 0 and reaped every child, each with status 0 unless
 * `anyStatus`.
 */
export function runSentences(obs: Observation, anyStatus = false): { ok: boolean; sentences: string[] } {
  if (obs.stuck) return { ok: false, sentences: stuckSentences(obs) };
  const how = obs.signal ? `was killed by ${obs.signal}` : `exited with status ${obs.exitCode}`;
  const sentences = [`The program ${how}.`];
  // Node prints the line that threw before the error itself: the error's own line first.
  const lines = obs.stderr.split('\n');
  const errorLine =
    lines.find((l) => /^\s*\w*(Error|Exception)\b/.test(l)) ?? lines.find((l) => /Error|error:/.test(l));
  if (obs.exitCode !== 0 && errorLine) sentences.push(`Its stderr says: ${errorLine.trim().slice(0, 200)}`);
  let ok = obs.signal === null && obs.exitCode === 0;
  const done = reaped(obs);
  for (const pid of forked(obs)) {
    const r = done.find((d) => d.pid === pid);
    if (!r) {
      ok = false;
      sentences.push(`Child ${pid} was never reaped: no waitpid() of the program returned it.`);
    } else {
      if (!anyStatus && (r.signaled || r.exitCode !== 0)) ok = false;
      sentences.push(`Child ${pid} ${fate(r)} (waitpid() returned it).`);
    }
  }
  return { ok, sentences };
}

// Reading `strace -f` output: lines into calls, calls into processes, and the
// tutorial's calls picked out of everything a runtime does around them.
import { TUTORIAL_PIPES } from '../internal/pipe-names';

/** One system call as strace printed it, with unfinished/resumed halves joined. */
export interface TracedCall {
  tid: number;
  name: string;
  args: string[];
  /** The return value; -1 for a failure. */
  result: number;
  /** The errno name of a failure ('EPIPE'), else null. */
  error: string | null;
  /** Raw return text (a pid, an address, `0 (Timeout)`). */
  returned: string;
}

/** Splits strace's argument list at top-level commas (outside quotes and brackets). */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '' || args.length > 0) args.push(last);
  return args;
}

function parseCall(tid: number, body: string): TracedCall | null {
  const open = body.indexOf('(');
  // strace pads with spaces before " = result"; the last such ")  = " ends the arguments.
  let close = -1;
  let end = -1;
  for (const m of body.matchAll(/\)\s+= /g)) {
    close = m.index!;
    end = m.index! + m[0].length;
  }
  if (open <= 0 || close < open) return null;
  const name = body.slice(0, open);
  const returned = body.slice(end).trim();
  const failure = /^-1 (E[A-Z0-9]+)/.exec(returned);
  return {
    tid,
    name,
    args: splitArgs(body.slice(open + 1, close)),
    result: failure ? -1 : Number.parseInt(returned, returned.startsWith('0x') ? 16 : 10),
    error: failure ? failure[1] : null,
    returned,
  };
}

/**
 * Parses the output of `strace -f -o FILE`. Each line starts with the thread
 * id; a call interrupted by another thread's line is printed as
 * `name(args <unfinished ...>` and later `<... name resumed>rest`, and is
 * returned here once, whole, at the place where it returned. Signal and exit
 * notices are skipped. `exit_group`, which never returns, is kept with result 0.
 */
export function parseStrace(text: string): TracedCall[] {
  const calls: TracedCall[] = [];
  const unfinished = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    let body = m[2];
    if (body.startsWith('---') || body.startsWith('+++')) continue;
    const resumed = /^<\.\.\. [\w]+ resumed>\s?(.*)$/.exec(body);
    if (resumed) {
      body = (unfinished.get(tid) ?? '') + resumed[1];
      unfinished.delete(tid);
    }
    // An exit never returns: whole, `exit_group(0) = ?`; cut short by another
    // process's line, `exit_group(0 <unfinished ...>`, with no closing parenthesis.
    const exit = /^(exit(?:_group)?)\((-?\d+)(?:\)\s+= \?|\)?\s+<unfinished \.\.\.>)$/.exec(body);
    if (exit) {
      calls.push({ tid, name: exit[1], args: [exit[2]], result: 0, error: null, returned: '?' });
      continue;
    }
    if (body.endsWith('<unfinished ...>')) {
      const head = body.slice(0, -'<unfinished ...>'.length).trimEnd();
      unfinished.set(tid, head.endsWith(',') ? `${head} ` : head);
      continue;
    }
    const call = parseCall(tid, body);
    if (call) calls.push(call);
  }
  return calls;
}

const FORK_CALLS = new Set(['fork', 'vfork', 'clone', 'clone3']);

/** Whether a clone-family call made a thread rather than a process. */
function makesThread(call: TracedCall): boolean {
  return call.args.some((a) => a.includes('CLONE_THREAD'));
}

/** The process each thread id belongs to, named by the pid of its main thread. */
export function processOf(calls: TracedCall[], rootPid: number): Map<number, number> {
  const owner = new Map<number, number>([[rootPid, rootPid]]);
  // A new thread's first lines may come before its creator's clone returns,
  // so creations are collected first.
  const created: [number, number, boolean][] = [];
  for (const call of calls) {
    if (FORK_CALLS.has(call.name) && call.result > 0) {
      created.push([call.tid, call.result, makesThread(call)]);
    }
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (const [creator, tid, thread] of created) {
      if (owner.has(tid) || !owner.has(creator)) continue;
      owner.set(tid, thread ? owner.get(creator)! : tid);
      changed = true;
    }
  }
  return owner;
}

/** A tutorial call with descriptors named by role and pids by parent/child. */
export interface TutorialCall {
  /** e.g. `write(parent_write, "Parent message 0", 16) = 16` */
  text: string;
  /** The system call that strace saw (`pipe2`, `clock_nanosleep`, ...). */
  syscall: string;
}

export interface TutorialTrace {
  parent: TutorialCall[];
  child: TutorialCall[];
  /** Every other call, per process (all its threads): syscall name -> count. */
  runtime: { parent: Map<string, number>; child: Map<string, number> };
  parentPid: number;
  childPid: number | null;
}

const SLEEP_CALLS = new Set(['nanosleep', 'clock_nanosleep']);
const WAIT_CALLS = new Set(['wait4', 'waitid', 'waitpid']);

function sleepText(call: TracedCall): string {
  const spec = call.args.find((a) => a.includes('tv_sec')) ?? '';
  const sec = Number(/tv_sec=(\d+)/.exec(spec)?.[1] ?? 0);
  const nsec = Number(/tv_nsec=(\d+)/.exec(spec)?.[1] ?? 0);
  return `sleep(${sec * 1000 + nsec / 1e6} ms)`;
}

/**
 * Picks the tutorial's calls out of a whole-program trace: from the first
 * `pipe`/`pipe2(…, 0)` of the main thread on, the pipes, the fork, sleeps,
 * waits and the exit, and the reads, writes and closes on the tutorial's four
 * descriptors and on stdout. Calls of other threads, calls on other
 * descriptors (even ones that reuse a closed tutorial number), and the
 * parent's calls between reaping the child and exit_group (the runtime's
 * shutdown: Node 26 slept 1 and 2 ms there, measuring the CPU clock, until
 * native/fork.cc had that done before the fork) are the runtime's. The
 * child's first calls may come before the parent's fork returns (strace
 * prints a call where it returned): the child is known from the start, and
 * starts with the descriptors its parent had.
 */
export function tutorialCalls(calls: TracedCall[], rootPid: number): TutorialTrace {
  const owner = processOf(calls, rootPid);
  const trace: TutorialTrace = {
    parent: [],
    child: [],
    runtime: { parent: new Map(), child: new Map() },
    parentPid: rootPid,
    childPid: null,
  };
  // The tutorial's fork: the first that the root's main thread made a process with.
  const fork = calls.find((c) => c.tid === rootPid && FORK_CALLS.has(c.name) && !makesThread(c) && c.result > 0);
  trace.childPid = fork?.result ?? null;
  const roles = { parent: new Map<number, string>(), child: null as Map<number, string> | null };
  let started = false;
  let reaped = false; // the parent has waited for the child: its part is over but for the exit
  let pipes = 0;
  const name = (pid: number | null) => (pid === rootPid ? 'parent' : pid === trace.childPid ? 'child' : String(pid));

  for (const call of calls) {
    const pid = owner.get(call.tid);
    const side = pid === rootPid ? 'parent' : pid !== undefined && pid === trace.childPid ? 'child' : null;
    if (side === null) continue; // a process the tutorial did not make
    const mainThread = call.tid === pid;
    if (side === 'child') roles.child ??= new Map(roles.parent); // what the parent had at the fork
    const fdRoles = side === 'parent' ? roles.parent : roles.child!;
    const fd = Number.parseInt(call.args[0] ?? '', 10);
    let text: string | null = null;

    if (!started && side === 'parent' && mainThread && /^pipe2?$/.test(call.name)) {
      started = call.name === 'pipe' || call.args[1] === '0';
    }
    if (started && mainThread && (!reaped || side !== 'parent' || call.name === 'exit_group')) {
      if (/^pipe2?$/.test(call.name) && side === 'parent' && pipes < 2 && call.result === 0) {
        const fds = /\[(\d+), (\d+)\]/.exec(call.args[0]);
        if (fds) {
          const [readRole, writeRole] = TUTORIAL_PIPES[pipes++];
          fdRoles.set(Number(fds[1]), readRole);
          fdRoles.set(Number(fds[2]), writeRole);
          text = `pipe() = [${readRole}, ${writeRole}]`;
        }
      } else if (call === fork) {
        roles.child ??= new Map(fdRoles);
        text = 'fork() = child';
      } else if (call.name === 'close' && fdRoles.has(fd)) {
        text = `close(${fdRoles.get(fd)}) = ${call.error ?? call.result}`;
        fdRoles.delete(fd);
      } else if (
        (call.name === 'read' || call.name === 'write') &&
        (fdRoles.has(fd) || (fd === 1 && call.name === 'write'))
      ) {
        const role = fdRoles.get(fd) ?? 'stdout';
        text = `${call.name}(${role}, ${call.args[1]}, ${call.args[2]}) = ${call.error ?? call.result}`;
      } else if (SLEEP_CALLS.has(call.name)) {
        text = sleepText(call);
      } else if (WAIT_CALLS.has(call.name)) {
        text = `wait4(-1) = ${call.error ?? name(call.result)}`;
        reaped ||= side === 'parent' && call.result === trace.childPid;
      } else if (call.name === 'exit_group') {
        text = `exit_group(${call.args[0]})`;
      }
    }
    if (text !== null) {
      trace[side].push({ text, syscall: call.name });
    } else {
      const counts = trace.runtime[side];
      counts.set(call.name, (counts.get(call.name) ?? 0) + 1);
    }
  }
  if (trace.childPid !== null) trace.child.unshift({ text: 'fork() = 0', syscall: 'fork' });
  return trace;
}

// `bidirectional-ipc steps`: the tutorial one step at a time, each named after
// the function of src/tutorial/main.ts that takes it. Before each step it says
// what the step does and why; after it, it shows what the kernel now holds,
// read from /proc and from the pipes themselves: each process's state, its
// descriptors 0-2 and its pipe ends, how many readers and writers each pipe
// has, and the bytes queued in each pipe (ioctl FIONREAD) with their text.
//
// The child stops itself with SIGSTOP after each of its steps, and the parent
// looks at both while it is stopped (waitpid with WUNTRACED), then lets it go
// on with SIGCONT: no extra pipe is needed to keep the two in step, so the
// tables show only the tutorial's own descriptors.
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import {
  bytesQueued,
  close,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  FD_CLOEXEC,
  fcntl,
  fork,
  getpid,
  kill,
  O_CLOEXEC,
  O_NONBLOCK,
  pipe,
  read,
  waitpid,
  write,
  WUNTRACED,
  type WaitStatus,
} from '../index';
import { untracedSleep } from '../internal/untraced-sleep';
import { TUTORIAL_PIPES } from '../internal/pipe-names';
import { fdFlags, openFds, pipeEnd, processState } from '../internal/proc';
import { wrap, wrapLine } from '../internal/text';

/** One process's descriptors that refer to pipes, from /proc/<pid>/fd. */
export interface FdTable {
  pid: number;
  pipes: { fd: number; inode: number; end: 'read' | 'write' }[];
  /** What descriptors 0, 1 and 2 refer to (a terminal, a pipe, /dev/null...). */
  stdio?: string[];
}

/** Reads /proc/<pid>/fd and /proc/<pid>/fdinfo: which descriptors are pipes, which pipe, which end. */
export function fdTable(pid: number): FdTable {
  const fds = openFds(pid);
  const stdio: string[] = [];
  for (const { fd, target } of fds.filter((f) => f.fd <= 2)) stdio[fd] = target;
  const pipes = fds.flatMap((f) => (f.pipe === undefined ? [] : [{ fd: f.fd, inode: f.pipe, end: pipeEnd(f.flags!) }]));
  return { pid, pipes, stdio };
}

interface KnownPipe {
  label: number; // 1, 2: the order pipe() made them in
  direction: string; // 'child -> parent'
  inode: number;
  names: { read: string; write: string };
  /** Every byte written into it so far; the queued ones are its last FIONREAD bytes. */
  written: string;
}

/**
 * The bytes queued in pipe `k` (ioctl FIONREAD), through a read end that one
 * of the processes holds, opened anew from /proc/<pid>/fd (non-blocking: it
 * must not wait for a writer); -1 when no process holds a read end.
 */
function queuedIn(k: KnownPipe, tables: FdTable[]): number {
  for (const table of tables) {
    const end = table.pipes.find((p) => p.inode === k.inode && p.end === 'read');
    if (!end) continue;
    const fd = fs.openSync(`/proc/${table.pid}/fd/${end.fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      return bytesQueued(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  return -1;
}

const STATES: Record<string, string> = {
  R: 'running',
  S: 'sleeping, blocked in a call',
  T: 'stopped by a signal',
  Z: 'zombie: exited, not yet waited for',
  D: 'in uninterruptible sleep',
};

/**
 * What the tables show after one step, line by line, each under a key that
 * names what it describes ('child', 'child fd 19', 'pipe 2'): the next step
 * prints only the keys whose lines changed.
 */
type Picture = Map<string, string[]>;

/** Lines of a table, each fitted to the terminal under its own indentation. */
const fitted = (lines: string[], indent: string): string[] =>
  lines.flatMap((line) => wrapLine(line, { indent, keepQuoted: true }));

function describeTable(who: string, table: FdTable, known: KnownPipe[], picture: Picture): void {
  const state = processState(table.pid);
  picture.set(who, [`  ${who} (pid ${table.pid}), state ${state} (${STATES[state] ?? '?'}), holds:`]);
  (table.stdio ?? []).forEach((target, fd) =>
    picture.set(
      `${who} fd ${fd}`,
      fitted(
        [`    fd ${String(fd).padEnd(3)} ${['stdin', 'stdout', 'stderr'][fd].padEnd(13)} ${target}`],
        ' '.repeat(25),
      ),
    ),
  );
  const ours = table.pipes.filter((p) => known.some((k) => k.inode === p.inode));
  if (ours.length === 0) picture.set(`${who} none`, ["    none of the tutorial's pipe ends"]);
  for (const p of ours) {
    const k = known.find((k) => k.inode === p.inode)!;
    picture.set(`${who} fd ${p.fd}`, [
      `    fd ${String(p.fd).padEnd(3)} ${k.names[p.end].padEnd(13)} pipe ${k.label} (${k.direction}), ${p.end} end`,
    ]);
  }
  const others = table.pipes.filter((p) => p.fd > 2).length - ours.length;
  if (others > 0) picture.set(`${who} others`, [`    (and ${others} other pipe descriptors of Node's own)`]);
}

/** Each pipe: who holds which end, how many readers and writers, and what is queued in it. */
function drawPipes(tables: { who: string; table: FdTable }[], known: KnownPipe[], picture: Picture): void {
  for (const k of known) {
    const holders = (end: 'read' | 'write') =>
      tables.filter(({ table }) => table.pipes.some((p) => p.inode === k.inode && p.end === end)).map((t) => t.who);
    const writers = holders('write');
    const readers = holders('read');
    const queued = queuedIn(
      k,
      tables.map((t) => t.table),
    );
    const text = queued > 0 ? ` "${Buffer.from(k.written).subarray(-queued).toString()}"` : '';
    const lines = [
      `  pipe ${k.label}: [${(writers.join('+') || 'nobody').padStart(12)}] ${k.names.write} ==> ${k.names.read} [${readers.join('+') || 'nobody'}]`,
      writers.length + readers.length === 0
        ? '          no process holds either end: the kernel has freed the pipe'
        : `          ${writers.length} writer(s), ${readers.length} reader(s); ` +
          (queued >= 0
            ? `${queued} bytes queued${text}`
            : 'no reader left: a write gets SIGPIPE (EPIPE where that is ignored, caught or blocked)') +
          (writers.length === 0 ? '; no writer left: a read returns 0, end of file' : ''),
    ];
    picture.set(`pipe ${k.label}`, fitted(lines, ' '.repeat(10)));
  }
}

/** Every line of a picture: the processes' tables, then the pipes. */
function fullText(picture: Picture): string[] {
  const lines: string[] = [];
  for (const [key, entry] of picture) {
    if (key.startsWith('pipe ') && !lines.includes('')) lines.push('');
    lines.push(...entry);
  }
  return lines;
}

/** What changed from `before` to `after`: a process's state, the ends it gained or lost, a pipe's holders or bytes. */
function changes(before: Picture, after: Picture): string[] {
  const lines: string[] = [];
  const processes = new Set([...before.keys(), ...after.keys()].filter((k) => /^\w+$/.test(k)));
  for (const who of processes) {
    const was = before.get(who)?.[0];
    const now = after.get(who)?.[0];
    if (was === undefined) {
      // A new process: its whole table.
      lines.push(...[...after].filter(([key]) => key === who || key.startsWith(`${who} `)).flatMap(([, e]) => e));
      continue;
    }
    const name = was.replace(/, state .*$/, '').trim();
    if (now === undefined) {
      lines.push(`  ${name} is gone: /proc has no entry for it any more`);
      continue;
    }
    if (now !== was) lines.push(`  ${name}: ${now.replace(/^.*?, state /, 'now state ').replace(/, holds:$/, '')}`);
    const lost: string[] = [];
    const gained: string[] = [];
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      if (!key.startsWith(`${who} fd `)) continue;
      const old = before.get(key);
      const current = after.get(key);
      if (old?.join() === current?.join()) continue;
      if (old !== undefined) lost.push(...old);
      if (current !== undefined) gained.push(...current);
    }
    if (lost.length > 0) lines.push(`  ${name} no longer holds:`, ...lost);
    if (gained.length > 0) lines.push(`  ${name} now holds:`, ...gained);
    if (!before.has(`${who} zombie`)) lines.push(...(after.get(`${who} zombie`) ?? []));
  }
  const pipes = [...after].filter(
    ([key, entry]) => key.startsWith('pipe ') && before.get(key)?.join() !== entry.join(),
  );
  if (pipes.length > 0) lines.push('', ...pipes.flatMap(([, entry]) => entry));
  return lines.length > 0 ? lines : ["  nothing changed in the kernel's tables"];
}

/** A question asked before a step, and the kernel's answer read after it. */
interface Question {
  ask: string;
  /** The kernel's answer, from what was seen after the step (and what read() returned). */
  answer(seen: Seen, readReturned: number): string;
  /** The answer said as a sentence, for the reveal. */
  says(answer: string): string;
}

const holdersOf = (seen: Seen, label: number, end: 'read' | 'write') =>
  Object.values(seen.tables).filter((t) => t.pipes.some((p) => p.inode === seen.inodes[label] && p.end === end)).length;

/** Before each step (named by what is seen after it), what the student is asked to predict. */
const QUESTIONS: Record<string, Question> = {
  createPipe: {
    ask: "How many of the tutorial's pipe ends will the parent hold?",
    answer: (seen) =>
      String(seen.tables.parent.pipes.filter((p) => Object.values(seen.inodes).includes(p.inode)).length),
    says: (n) => `/proc/PID/fd of the parent shows ${n} ends of the two pipes`,
  },
  fork: {
    ask: 'How many processes will hold the write end of pipe 1 (child_write)?',
    answer: (seen) => String(holdersOf(seen, 1, 'write')),
    says: (n) => `${n} processes hold it, in /proc/PID/fd`,
  },
  'close unused ends': {
    ask: 'How many processes will hold the write end of pipe 1 now?',
    answer: (seen) => String(holdersOf(seen, 1, 'write')),
    says: (n) => `${n} process${n === '1' ? '' : 'es'} hold${n === '1' ? 's' : ''} it, in /proc/PID/fd`,
  },
  'parentProcess: write': {
    ask: 'How many bytes will be queued in pipe 2 after the write?',
    answer: (seen) => String(seen.queued[2]),
    says: (n) => `${n} bytes queued in pipe 2 (FIONREAD)`,
  },
  'childProcess: read and echo': {
    ask: 'How many bytes will be queued in pipe 1 after the echo?',
    answer: (seen) => String(seen.queued[1]),
    says: (n) => `${n} bytes queued in pipe 1 (FIONREAD)`,
  },
  'parentProcess: read': {
    ask: "What will the parent's read(parent_read, 1024 bytes) return?",
    answer: (_seen, readReturned) => String(readReturned),
    says: (n) => `read() returned ${n}`,
  },
  'exited, not waited for': {
    ask: 'Which state will the child be in before wait() (R, S, T or Z)?',
    answer: (seen) => seen.states.child ?? 'gone',
    says: (state) => `/proc/PID/stat shows state ${state} (${STATES[state] ?? '?'})`,
  },
};

/** Whether `given` is the kernel's `answer`: the same number, or the same state letter. */
export function judge(given: string, answer: string): boolean {
  const text = given.trim();
  if (/^\d+$/.test(answer)) return /^\d+$/.test(text) && Number(text) === Number(answer);
  return text.toUpperCase().startsWith(answer.toUpperCase()) && text.length > 0;
}

/** Thrown when the answers run out (end of stdin): the walk ends there. */
class EndOfAnswers extends Error {}

export interface StepsOptions {
  pause: boolean;
  /** Every table at every step; by default the first step shows them all and the others what changed. */
  full?: boolean;
  out: (text: string) => void;
  /** Called on Ctrl-C while waiting for Enter (readline takes the terminal's SIGINT). */
  onInterrupt?: () => void;
  /** Ask before each step what the student expects, one answer a line from this stream; reveal after. */
  predict?: NodeJS.ReadableStream;
}

/** What was seen after one step (for tests). */
export interface Seen {
  step: string;
  tables: Record<string, FdTable>;
  /** Bytes queued per pipe label, from FIONREAD. */
  queued: Record<number, number>;
  /** The inode of each pipe, per label. */
  inodes: Record<number, number>;
  states: Record<string, string>;
}

/**
 * Walks the tutorial's steps. Returns what was seen after each one; with
 * `predict`, what was seen until the answers ran out.
 */
export async function runSteps(options: StepsOptions): Promise<Seen[]> {
  const seen: Seen[] = [];
  try {
    return await walk(options, seen);
  } catch (error) {
    if (!(error instanceof EndOfAnswers)) throw error;
    options.out('\n  (no more answers: the walk ends here)\n');
    return seen;
  }
}

async function walk(options: StepsOptions, seen: Seen[]): Promise<Seen[]> {
  const { out } = options;
  const rl = options.pause ? readline.createInterface({ input: process.stdin, output: process.stderr }) : null;
  if (rl && options.onInterrupt) rl.on('SIGINT', options.onInterrupt);
  const answers = options.predict
    ? readline.createInterface({ input: options.predict, terminal: false })[Symbol.asyncIterator]()
    : null;
  let pending: { step: string; question: Question; given: string } | null = null;
  let readReturned = -1;
  /** Before a step: wait for Enter, or ask what the step `step` will show. */
  const pause = async (step: string) => {
    const question = QUESTIONS[step];
    if (answers && question) {
      out(`  Predict: ${question.ask}\n  > `);
      const next = await answers.next();
      if (next.done) {
        cleanUp(); // the child is stopped between two steps: end it
        childPid = 0;
        process.off('exit', cleanUp);
        rl?.close();
        throw new EndOfAnswers();
      }
      pending = { step, question, given: String(next.value) };
      if (!process.stdin.isTTY || options.predict !== process.stdin) out(`${next.value}\n`);
      return;
    }
    if (rl) await new Promise<void>((resolve) => rl.question('  [Enter] to go on ', () => resolve()));
  };
  /** After a step: the kernel's answer to the question asked before it. */
  const reveal = (now: Seen) => {
    if (pending === null || pending.step !== now.step) return;
    const answer = pending.question.answer(now, readReturned);
    const right = judge(pending.given, answer);
    out(
      `${wrap(`  The kernel: ${pending.question.says(answer)}. You said ${JSON.stringify(pending.given.trim())}: ${right ? 'right' : 'not this time'}.`, { indent: '  ' })}\n\n`,
    );
    pending = null;
  };
  const known: KnownPipe[] = [];
  let childPid = 0;
  // If this process ends early (an error, Ctrl-C, the reader of stdout gone),
  // a child stopped between two steps would stay stopped: end it.
  const cleanUp = () => {
    if (childPid !== 0) {
      kill(childPid, 'SIGKILL');
      waitpid(childPid);
    }
  };
  process.on('exit', cleanUp);
  let previous: Picture | null = null;
  const show = (step: string) => {
    const tables: Record<string, FdTable> = { parent: fdTable(process.pid) };
    if (childPid && fs.existsSync(`/proc/${childPid}/fd`)) tables.child = fdTable(childPid);
    const states: Record<string, string> = { parent: processState(process.pid) };
    if (childPid && fs.existsSync(`/proc/${childPid}`)) states.child = processState(childPid);
    const queued: Record<number, number> = {};
    const inodes: Record<number, number> = {};
    for (const k of known) {
      queued[k.label] = queuedIn(k, Object.values(tables));
      inodes[k.label] = k.inode;
    }
    seen.push({ step, tables, queued, inodes, states });
    const picture: Picture = new Map();
    for (const [who, table] of Object.entries(tables)) describeTable(who, table, known, picture);
    if (states.child === 'Z')
      picture.set('child zombie', [
        `  child (pid ${childPid}), state Z (${STATES.Z}):`,
        '  its descriptors are all closed',
      ]);
    drawPipes(
      Object.entries(tables).map(([who, table]) => ({ who, table })),
      known,
      picture,
    );
    const lines = previous === null || options.full ? fullText(picture) : changes(previous, picture);
    previous = picture;
    out(`${lines.join('\n')}\n\n`);
    reveal(seen[seen.length - 1]);
  };
  /** Waits until the child has stopped itself (it is then between two steps). */
  const childStopped = (): WaitStatus => waitpid(childPid, WUNTRACED);
  const resumeChild = () => kill(childPid, 'SIGCONT');

  out(
    'Step 1. main: createPipe() twice.\n' +
      '  A pipe carries bytes one way only, so two-way talk needs two: pipe 1 for\n' +
      '  child -> parent (parent_read, child_write), pipe 2 for parent -> child\n' +
      '  (child_read, parent_write). pipe(2) returns two descriptors, read end first,\n' +
      '  each the lowest number not in use. Descriptors 0-2 are stdin, stdout,\n' +
      '  stderr; the Rust program holds nothing else, so its ends are 3-6. Node\n' +
      '  already holds more (its event loop, its own pipes), so here they come after\n' +
      '  those.\n',
  );
  await pause('createPipe');
  const [parentRead, childWrite] = pipe();
  const [childRead, parentWrite] = pipe();
  known.push(
    {
      label: 1,
      direction: 'child -> parent',
      inode: fs.fstatSync(parentRead).ino,
      names: { read: TUTORIAL_PIPES[0][0], write: TUTORIAL_PIPES[0][1] },
      written: '',
    },
    {
      label: 2,
      direction: 'parent -> child',
      inode: fs.fstatSync(childRead).ino,
      names: { read: TUTORIAL_PIPES[1][0], write: TUTORIAL_PIPES[1][1] },
      written: '',
    },
  );
  show('createPipe');
  const before = fs
    .readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => fd > 2 && fd < parentRead);
  out(
    `  The lowest-free-number rule at work: ${before.length} of the ${parentRead - 3} numbers from 3\n` +
      `  to ${parentRead - 1} were in use (Node's own descriptors), so the ends got\n` +
      `  ${parentRead}, ${childWrite}, ${childRead}, ${parentWrite}.\n\n`,
  );

  out(
    'Step 2. main: fork().\n' +
      '  The child is a copy of the parent, descriptor table included: both\n' +
      '  processes now hold all four ends. A copied descriptor points to the same\n' +
      '  open file description (one per end, in the kernel), so the file status\n' +
      '  flags (O_NONBLOCK...) set through one are seen through the other; the\n' +
      '  descriptor flag FD_CLOEXEC belongs to each descriptor alone (fcntl(2)).\n' +
      '  A pipe gives end of file only when every write end, in every process, is\n' +
      '  closed.\n',
  );
  await pause('fork');
  const pid = fork();
  if (pid === 0) {
    const stop = () => kill(getpid(), 'SIGSTOP');
    stop(); // after fork
    close(parentRead);
    close(parentWrite);
    stop(); // after closing the ends it does not use
    const buf = Buffer.alloc(1024);
    const n = read(childRead, buf);
    out(`  [child] Child received: ${buf.toString('utf8', 0, n)}\n`);
    write(childWrite, `Child echoing: ${buf.toString('utf8', 0, n)}`);
    stop(); // after the echo
    close(childRead);
    close(childWrite);
    process.exit(0);
  }
  childPid = pid;
  childStopped();
  show('fork');
  // One open file description per end: a flag set in the parent shows in the child's fdinfo.
  fcntl(parentWrite, F_SETFL, fcntl(parentWrite, F_GETFL) | O_NONBLOCK);
  const flagsInChild = fdFlags(parentWrite, childPid);
  fcntl(parentWrite, F_SETFL, fcntl(parentWrite, F_GETFL) & ~O_NONBLOCK);
  // The descriptor flag is not shared: fdinfo shows O_CLOEXEC for a descriptor marked close-on-exec.
  fcntl(parentWrite, F_SETFD, FD_CLOEXEC);
  const cloexecInParent = (fdFlags(parentWrite) & O_CLOEXEC) !== 0;
  const cloexecInChild = (fdFlags(parentWrite, childPid) & O_CLOEXEC) !== 0;
  fcntl(parentWrite, F_SETFD, 0);
  out(
    `  Shared, not copied: the parent set O_NONBLOCK on its fd ${parentWrite} (parent_write),\n` +
      `  and /proc/${childPid}/fdinfo/${parentWrite} of the child now shows it ` +
      `${(flagsInChild & O_NONBLOCK) !== 0 ? 'set too' : 'NOT set'}:\n` +
      '  one open file description, two descriptors.\n' +
      '  Per descriptor: the parent set\n' +
      `  FD_CLOEXEC on the same fd (${cloexecInParent ? 'set' : 'NOT set'} in its own fdinfo); the child's\n` +
      `  fdinfo shows it ${cloexecInChild ? 'set too' : 'not set'}. (Both cleared again.)\n\n`,
  );

  out(
    'Step 3. main: close the ends each process does not use.\n' +
      '  The parent closes child_read and child_write; the child closes parent_read\n' +
      '  and parent_write. Each pipe is left with one writer and one reader, in\n' +
      '  different processes.\n',
  );
  await pause('close unused ends');
  close(childRead);
  close(childWrite);
  resumeChild();
  childStopped();
  show('close unused ends');

  out(
    'Step 4. parentProcess: write(parent_write, "Parent message 0").\n' +
      '  The 16 bytes go into pipe 2 and wait there: the child is stopped and has not\n' +
      '  read them.\n',
  );
  await pause('parentProcess: write');
  write(parentWrite, 'Parent message 0');
  known[1].written += 'Parent message 0';
  show('parentProcess: write');

  out(
    'Step 5. childProcess: read(child_read), println,\n' +
      '        write(child_write, "Child echoing: ...").\n' +
      '  The child takes the 16 bytes out of pipe 2 and puts its 31-byte echo into\n' +
      '  pipe 1.\n',
  );
  await pause('childProcess: read and echo');
  resumeChild();
  childStopped();
  known[0].written += 'Child echoing: Parent message 0';
  show('childProcess: read and echo');

  out(
    'Step 6. parentProcess: read(parent_read).\n' +
      '  read(2) returns what the pipe holds, up to the buffer size: the whole echo.\n',
  );
  await pause('parentProcess: read');
  const buf = Buffer.alloc(1024);
  const n = read(parentRead, buf);
  readReturned = n;
  out(`  the parent read ${n} bytes: "${buf.toString('utf8', 0, n)}"\n`);
  show('parentProcess: read');

  out(
    'Step 7. parentProcess and childProcess: close both ends;\n' +
      '        parentProcess: wait().\n' +
      '  Once no process holds either end of a pipe, the kernel frees it (pipe(7)):\n' +
      '  nothing is left to read or write. The child exits and stays a zombie until\n' +
      '  the parent waits for it; wait() reaps it and reports its status.\n',
  );
  await pause('exited, not waited for');
  close(parentRead);
  close(parentWrite);
  resumeChild();
  const deadline = Date.now() + 5000;
  while (processState(childPid) !== 'Z' && Date.now() < deadline) untracedSleep(5);
  show('exited, not waited for');
  const status = waitpid(childPid);
  childPid = 0;
  out(`  wait: the child ${status.pid} exited with status ${status.exitCode}\n`);
  show('wait');
  process.off('exit', cleanUp);
  rl?.close();
  return seen;
}

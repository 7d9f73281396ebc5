// `bidirectional-ipc steps`: the tutorial one step at a time. Before each step
// it says what the step does and why; after it, it shows what the kernel now
// holds: each process's descriptor table from /proc/<pid>/fd, every pipe
// descriptor named by pipe (matched by inode) and end.
//
// The child stops itself with SIGSTOP after each of its steps, and the parent
// looks at both tables while it is stopped (waitpid with WUNTRACED), then lets
// it go on with SIGCONT: no extra pipe is needed to keep the two in step, so
// the tables show only the tutorial's own descriptors.
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { close, fork, pipe, read, waitpid, write, WUNTRACED, type WaitStatus } from '../index';

export interface PipeEnd {
  fd: number;
  /** e.g. 'pipe A (parent → child), read end' */
  what: string;
  name: string;
}

/** One process's descriptors that refer to pipes, from /proc/<pid>/fd. */
export interface FdTable {
  pid: number;
  pipes: { fd: number; inode: number; end: 'read' | 'write' }[];
}

/** Reads /proc/<pid>/fd and /proc/<pid>/fdinfo: which descriptors are pipes, which pipe, which end. */
export function fdTable(pid: number): FdTable {
  const pipes: FdTable['pipes'] = [];
  for (const entry of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${entry}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^pipe:\[(\d+)\]$/.exec(target);
    if (!m) continue;
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${entry}`, 'utf8');
    const flags = parseInt(/flags:\s+(\d+)/.exec(info)![1], 8);
    pipes.push({ fd: Number(entry), inode: Number(m[1]), end: (flags & 3) === 0 ? 'read' : 'write' });
  }
  return { pid, pipes: pipes.sort((a, b) => a.fd - b.fd) };
}

interface KnownPipe {
  label: string; // 'A'
  direction: string; // 'parent -> child'
  inode: number;
  names: { read: string; write: string };
}

function describeTable(who: string, table: FdTable, known: KnownPipe[]): string[] {
  const lines = [`  ${who} (pid ${table.pid}) holds:`];
  const ours = table.pipes.filter((p) => known.some((k) => k.inode === p.inode));
  if (ours.length === 0) lines.push("    none of the tutorial's pipe ends");
  for (const p of ours) {
    const pipeInfo = known.find((k) => k.inode === p.inode)!;
    const what = `pipe ${pipeInfo.label} (${pipeInfo.direction}), ${p.end} end`;
    lines.push(`    fd ${String(p.fd).padEnd(3)} ${pipeInfo.names[p.end].padEnd(13)} ${what}`);
  }
  const others = table.pipes.length - ours.length;
  if (others > 0) lines.push(`    (and ${others} other pipe descriptors: Node's event loop, inherited stdio)`);
  return lines;
}

/** The two pipes drawn with who holds which end. */
function drawPipes(tables: { who: string; table: FdTable }[], known: KnownPipe[]): string[] {
  const lines: string[] = [];
  for (const k of known) {
    const holders = (end: 'read' | 'write') =>
      tables.filter(({ table }) => table.pipes.some((p) => p.inode === k.inode && p.end === end)).map((t) => t.who).join('+') || 'nobody';
    lines.push(`  pipe ${k.label}: [${holders('write').padStart(12)}] ${k.names.write} ==> ${k.names.read} [${holders('read')}]`);
  }
  return lines;
}

export interface StepsOptions {
  pause: boolean;
  out: (text: string) => void;
  /** Called on Ctrl-C while waiting for Enter (readline takes the terminal's SIGINT). */
  onInterrupt?: () => void;
}

/** Walks the tutorial's steps. Returns the tables seen after each step, for tests. */
export async function runSteps(options: StepsOptions): Promise<{ step: string; tables: Record<string, FdTable> }[]> {
  const seen: { step: string; tables: Record<string, FdTable> }[] = [];
  const { out } = options;
  const rl = options.pause ? readline.createInterface({ input: process.stdin, output: process.stderr }) : null;
  if (rl && options.onInterrupt) rl.on('SIGINT', options.onInterrupt);
  const pause = async () => {
    if (rl) await new Promise<void>((resolve) => rl.question('  [Enter] to go on ', () => resolve()));
  };
  const known: KnownPipe[] = [];
  let childPid = 0;
  // If this process ends early (an error, the reader of stdout gone), a child
  // stopped between two steps would stay stopped: end it.
  const cleanUp = () => {
    if (childPid !== 0) {
      process.kill(childPid, 'SIGKILL');
      waitpid(childPid);
    }
  };
  process.on('exit', cleanUp);
  const show = (step: string) => {
    const tables: Record<string, FdTable> = { parent: fdTable(process.pid) };
    if (childPid && fs.existsSync(`/proc/${childPid}/fd`)) tables.child = fdTable(childPid);
    seen.push({ step, tables });
    const lines: string[] = [];
    for (const [who, table] of Object.entries(tables)) lines.push(...describeTable(who, table, known));
    lines.push('', ...drawPipes(Object.entries(tables).map(([who, table]) => ({ who, table })), known));
    out(`${lines.join('\n')}\n\n`);
  };
  /** Waits until the child has stopped itself (it is then between two steps). */
  const childStopped = (): WaitStatus => waitpid(childPid, WUNTRACED);
  const resumeChild = () => process.kill(childPid, 'SIGCONT');

  out('Step 1. Create two pipes.\n' +
    '  A pipe carries bytes one way only, so two-way talk needs two: pipe A for parent -> child,\n' +
    '  pipe B for child -> parent. pipe(2) returns two descriptors, the read end and the write end.\n');
  await pause();
  const [parentRead, childWrite] = pipe();
  const [childRead, parentWrite] = pipe();
  known.push(
    { label: 'B', direction: 'child -> parent', inode: fs.fstatSync(parentRead).ino, names: { read: 'parent_read', write: 'child_write' } },
    { label: 'A', direction: 'parent -> child', inode: fs.fstatSync(childRead).ino, names: { read: 'child_read', write: 'parent_write' } },
  );
  show('pipes');

  out('Step 2. fork().\n' +
    '  The child is a copy of the parent, descriptor table included: both processes now hold\n' +
    '  all four ends. A pipe reports end of file only when every write end, in every process, is closed.\n');
  await pause();
  const pid = fork();
  if (pid === 0) {
    const stop = () => process.kill(process.pid, 'SIGSTOP');
    stop(); // after fork
    close(parentRead);
    close(parentWrite);
    stop(); // after closing the ends it does not use
    const buf = Buffer.alloc(1024);
    const n = read(childRead, buf);
    write(childWrite, `Child echoing: ${buf.toString('utf8', 0, n)}`);
    stop(); // after the exchange
    close(childRead);
    close(childWrite);
    process.exit(0);
  }
  childPid = pid;
  childStopped();
  show('fork');

  out('Step 3. Close the ends you do not use.\n' +
    '  The parent closes child_read and child_write; the child closes parent_read and parent_write.\n' +
    '  Each pipe is left with one writer and one reader, in different processes.\n');
  await pause();
  close(childRead);
  close(childWrite);
  resumeChild();
  childStopped();
  show('close unused ends');

  out('Step 4. Exchange a message.\n' +
    '  The parent writes "Parent message 0" into pipe A; the child reads it and writes its echo into pipe B;\n' +
    '  the parent reads the echo. read(2) blocks until bytes arrive.\n');
  await pause();
  write(parentWrite, 'Parent message 0');
  resumeChild();
  const buf = Buffer.alloc(1024);
  const n = read(parentRead, buf);
  out(`  the parent read ${n} bytes: "${buf.toString('utf8', 0, n)}"\n`);
  childStopped();
  show('exchange');

  out('Step 5. Close and wait.\n' +
    '  Both close their ends; the parent waits for the child, which reaps it (no zombie is left).\n');
  await pause();
  close(parentRead);
  close(parentWrite);
  resumeChild();
  const status = waitpid(childPid);
  childPid = 0;
  out(`  waitpid: the child ${status.pid} exited with status ${status.exitCode}\n`);
  show('close and wait');
  process.off('exit', cleanUp);
  rl?.close();
  return seen;
}

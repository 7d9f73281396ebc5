// `--diagram FILE`: a Mermaid sequence diagram of a real run, built from the
// event log that every traced process appended to (see trace-printer.ts).
//
// Drawn in happens-before order, not in the order the calls returned: a
// process's own calls keep their order; the child starts at the fork; a read
// that takes bytes [a, b) of a pipe comes after the write that put byte a in
// it (offsets are counted per pipe, writes and reads each in their order); a
// waitpid that reports a child comes after that child's last call. Among
// calls that none of these rules orders, the earlier one goes first.
import * as fs from 'node:fs';
import { NOTICE_CALLS, type RecordedCall } from './trace-printer';

function clean(text: string): string {
  return text.replace(/[;#"]/g, (c) => ({ ';': ',', '#': 'no. ', '"': "'" })[c]!).replace(/\n/g, '\\n');
}

interface Event {
  end: RecordedCall;
  /** When the call started (a sleep is shown with its start). */
  startT: number;
  /** Byte offsets [from, to) a read or write moved in its pipe. */
  from?: number;
  to?: number;
  after: Event[];
}

/** Puts the calls in happens-before order (Kahn's algorithm, earliest start first among the free ones). */
function order(calls: RecordedCall[]): Event[] {
  const starts = new Map<string, RecordedCall>();
  for (const c of calls) if (c.phase === 'start') starts.set(`${c.pid}:${c.id}`, c);
  const ended = new Set(calls.filter((c) => c.phase === 'end').map((c) => `${c.pid}:${c.id}`));
  // A call that never returned (_exit, a successful execvp) is shown by its start.
  const all: Event[] = calls
    .filter(
      (c) =>
        !c.internal &&
        (c.phase === 'end' || (!ended.has(`${c.pid}:${c.id}`) && (c.call === '_exit' || c.call === 'execvp'))),
    )
    .map((c) => ({ end: c, startT: starts.get(`${c.pid}:${c.id}`)?.t ?? c.t, after: [] }));
  // The kernel's notices (signals, ends) have no call number: each goes among its process's calls by its time.
  const notices = all.filter((e) => NOTICE_CALLS.has(e.end.call));
  const events = all.filter((e) => !NOTICE_CALLS.has(e.end.call));
  const byPid = new Map<number, Event[]>();
  for (const e of events) {
    const list = byPid.get(e.end.pid) ?? [];
    list.push(e);
    byPid.set(e.end.pid, list);
  }
  // Program order; the child's fork() end comes first in the child (it inherits the parent's ids).
  for (const list of byPid.values()) {
    list.sort((a, b) =>
      a.end.call === 'fork' && a.end.result === '0'
        ? -1
        : b.end.call === 'fork' && b.end.result === '0'
          ? 1
          : a.end.id - b.end.id,
    );
  }
  for (const n of notices) {
    const list = byPid.get(n.end.pid) ?? [];
    const at = list.findIndex((e) => e.startT > n.end.t);
    list.splice(at < 0 ? list.length : at, 0, n);
    byPid.set(n.end.pid, list);
    events.push(n);
  }
  for (const list of byPid.values()) {
    for (let i = 1; i < list.length; i++) list[i].after.push(list[i - 1]);
  }
  for (const e of events) {
    if (e.end.call === 'fork' && e.end.child) byPid.get(e.end.child)?.[0]?.after.push(e);
    if (e.end.call === 'waitpid' && e.end.child) {
      const last = byPid.get(e.end.child)?.at(-1);
      if (last) e.after.push(last);
    }
  }
  // Byte offsets per pipe.
  const pipes = new Map<number, { writes: Event[]; reads: Event[] }>();
  for (const e of events) {
    const { call, pipe, failed, bytes } = e.end;
    if (pipe === undefined || failed || (call !== 'read' && call !== 'write') || bytes === undefined) continue;
    const entry = pipes.get(pipe) ?? { writes: [], reads: [] };
    (call === 'write' ? entry.writes : entry.reads).push(e);
    pipes.set(pipe, entry);
  }
  for (const { writes, reads } of pipes.values()) {
    for (const list of [writes, reads]) {
      list.sort((a, b) => a.end.t - b.end.t);
      let offset = 0;
      for (const e of list) {
        e.from = offset;
        offset += e.end.bytes!;
        e.to = offset;
      }
    }
    for (const read of reads) {
      if (read.end.bytes === 0) continue;
      const source = writes.find((w) => w.from! <= read.from! && read.from! < w.to!);
      if (source) read.after.push(source);
    }
  }
  // Kahn's algorithm.
  const waiting = new Map(events.map((e) => [e, new Set(e.after)]));
  const placed: Event[] = [];
  const done = new Set<Event>();
  while (placed.length < events.length) {
    let next: Event | undefined;
    for (const [e, deps] of waiting) {
      if ([...deps].every((d) => done.has(d)) && (next === undefined || e.end.t < next.end.t)) next = e;
    }
    if (next === undefined) next = [...waiting.keys()].sort((a, b) => a.end.t - b.end.t)[0]; // a cycle: cannot happen; be safe
    waiting.delete(next);
    done.add(next);
    placed.push(next);
  }
  return placed;
}

/** Renders the recorded calls (JSON lines from every process) as a `sequenceDiagram`. */
export function sequenceDiagram(calls: RecordedCall[]): string {
  const lines = ['sequenceDiagram'];
  const events = order(calls);
  const parentPid = calls.find((c) => c.role === 'parent')?.pid;
  const who = new Map<number, string>();
  if (parentPid !== undefined) who.set(parentPid, 'P');
  lines.push(`    participant P as Parent (pid ${parentPid ?? '?'})`);
  const pipeIds = new Map<number, string>();
  let children = 0;
  for (const e of events) {
    const c = e.end;
    const me = who.get(c.pid) ?? 'P';
    const span = e.from !== undefined ? `[${e.from}, ${e.to})` : '';
    const pipe = c.pipe !== undefined ? pipeIds.get(c.pipe) : undefined;
    if (c.failed) {
      lines.push(`    Note over ${me}: ${clean(c.text)}`);
    } else if (c.call === 'pipe' && c.made) {
      const id = `pipe${c.made.label}`;
      pipeIds.set(c.made.inode, id);
      lines.push(`    create participant ${id} as pipe ${c.made.label} (${c.made.write} → ${c.made.read})`);
      lines.push(`    ${me}->>${id}: ${clean(c.text)}`);
    } else if (c.call === 'fork' && c.role === 'parent' && c.child) {
      children++;
      const id = children === 1 ? 'C' : `C${children}`;
      who.set(c.child, id);
      lines.push(`    create participant ${id} as Child (pid ${c.child})`);
      lines.push(`    ${me}->>${id}: fork() = ${c.child} (${Math.round(c.t)} ms)`);
    } else if (c.call === 'fork') {
      // the child's end of fork: its life begins (drawn by the arrow above)
    } else if (c.call === 'write' && c.fd === 'stdout') {
      lines.push(`    Note over ${me}: prints ${clean(c.data ?? '').replace(/\\n$/, '')}`);
    } else if (c.call === 'write' && pipe) {
      lines.push(`    ${me}->>${pipe}: write '${clean(c.data ?? '')}' (${c.bytes} bytes ${span})`);
    } else if (c.call === 'read' && pipe) {
      lines.push(
        c.bytes === 0
          ? `    ${pipe}-->>${me}: read = 0, end of file`
          : `    ${pipe}->>${me}: read '${clean(c.data ?? '')}' (${c.bytes} bytes ${span})`,
      );
    } else if (c.call === 'close' && c.pipe !== undefined) {
      lines.push(`    Note over ${me}: close ${c.fd}`);
    } else if (NOTICE_CALLS.has(c.call)) {
      lines.push(`    Note over ${me}: ${clean(c.text)}`);
    } else if (c.call === 'sleep') {
      lines.push(`    Note over ${me}: sleep ${c.ms} ms (from ${Math.round(e.startT)} ms)`);
    } else if (c.call === 'waitpid' && c.child && who.has(c.child)) {
      lines.push(`    ${who.get(c.child)}-->>${me}: waitpid = ${clean(c.result ?? '')}`);
    } else {
      lines.push(`    Note over ${me}: ${clean(c.text)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Reads the event log and writes the diagram: a Markdown file with a mermaid block (.mmd: the bare diagram; '-': stdout). */
export function writeDiagram(recorded: string, target: string): void {
  const calls = fs
    .readFileSync(recorded, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedCall);
  const body = sequenceDiagram(calls);
  const text = target.endsWith('.mmd') ? body : `\`\`\`mermaid\n${body}\`\`\`\n`;
  if (target === '-') fs.writeSync(1, text);
  else fs.writeFileSync(target, text);
}

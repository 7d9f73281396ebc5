// `--diagram FILE`: a Mermaid sequence diagram of a real run, built from the
// calls that both processes recorded while tracing.
import * as fs from 'node:fs';
import type { RecordedCall } from './trace';

function clean(text: string): string {
  return text.replace(/[;#"]/g, (c) => ({ ';': ',', '#': 'no. ', '"': "'" })[c]!).replace(/\n/g, '\\n');
}

/** Renders recorded calls (JSON lines from both processes) as a `sequenceDiagram`. */
export function sequenceDiagram(calls: RecordedCall[]): string {
  const byTime = [...calls].sort((a, b) => a.t - b.t);
  const parent = byTime.find((c) => c.role === 'parent');
  const child = byTime.find((c) => c.role === 'child');
  const lines = ['sequenceDiagram'];
  lines.push(`    participant P as Parent (pid ${parent?.pid ?? '?'})`);
  lines.push(`    participant C as Child (pid ${child?.pid ?? '?'})`);
  for (const c of byTime) {
    const me = c.role === 'child' ? 'C' : 'P';
    const other = me === 'P' ? 'C' : 'P';
    const at = `${c.t} ms`;
    const failed = / = -1 /.test(c.text);
    if (c.call === 'fork' && c.role === 'parent') {
      lines.push(`    P->>C: fork() creates the child (${at})`);
    } else if (c.call === 'write' && c.fd === 'stdout') {
      lines.push(`    Note over ${me}: prints ${clean(c.data ?? '').replace(/\\n$/, '')} (${at})`);
    } else if (c.call === 'write' && !failed) {
      lines.push(`    ${me}->>${other}: ${clean(c.data ?? '')} (${c.bytes} bytes into ${c.fd}, ${at})`);
    } else if (c.call === 'read' && !failed) {
      lines.push(`    Note over ${me}: read ${c.bytes} bytes from ${c.fd} (${at})`);
    } else if (c.call === 'pipe') {
      lines.push(`    Note over P: pipe() gives ${c.data} (${at})`);
    } else if (c.call === 'close') {
      lines.push(`    Note over ${me}: close ${c.fd} (${at})`);
    } else if (c.call === 'sleep') {
      lines.push(`    Note over ${me}: ${clean(c.text.replace(/ = .*/, ''))} (${at})`);
    } else if (c.call === 'waitpid') {
      lines.push(`    C-->>P: wait() reports ${clean(c.result ?? '')} (${at})`);
    } else if (failed) {
      lines.push(`    Note over ${me}: ${clean(c.text)} (${at})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Reads the recorded calls and writes the diagram as a Markdown file with a mermaid block. */
export function writeDiagram(recorded: string, target: string): void {
  const calls = fs
    .readFileSync(recorded, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedCall);
  const body = sequenceDiagram(calls);
  fs.writeFileSync(target, target.endsWith('.mmd') ? body : `\`\`\`mermaid\n${body}\`\`\`\n`);
}

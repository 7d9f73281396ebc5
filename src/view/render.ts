// The page: one self-contained HTML file (its CSS, script and data inline; no
// request leaves it) that replays a recording.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../internal/paths';
import type { Recording } from './types';

/** The page's own files, kept as plain CSS and browser JavaScript beside this module's source. */
const ASSETS = 'src/view/assets';

/** Text for a <script> or <style> element: nothing in it may close the element early. */
function inline(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * The recording as the page carries it: the process tables of the snapshots,
 * which repeat from one step to the next, stored once each and referred to by
 * number (the page's script reads both forms).
 */
function compact(recording: Recording): Recording & { processTables: unknown[] } {
  const processTables: unknown[] = [];
  const seen = new Map<string, number>();
  const events = recording.events.map((e) => {
    if (!e.snapshot) return e;
    const text = JSON.stringify(e.snapshot.processes);
    let n = seen.get(text);
    if (n === undefined) {
      n = processTables.push(e.snapshot.processes) - 1;
      seen.set(text, n);
    }
    return { ...e, snapshot: { ...e.snapshot, processes: n as unknown as [] } };
  });
  return { ...recording, events, processTables };
}

/** The HTML page replaying `recording`. */
export function renderPage(recording: Recording): string {
  const dir = path.join(PACKAGE_ROOT, ASSETS);
  const css = fs.readFileSync(path.join(dir, 'page.css'), 'utf8');
  const script = fs.readFileSync(path.join(dir, 'page.js'), 'utf8');
  const template = fs.readFileSync(path.join(dir, 'page.html'), 'utf8');
  // JSON inside a <script type="application/json">: '<' escaped so no '</script>' can end it.
  const data = JSON.stringify(compact(recording)).replace(/</g, '\\u003c');
  return template
    .replace('{{title}}', () => escapeHtml(`${recording.title} — bidirectional-ipc view`))
    .replace('{{style}}', () => inline(css))
    .replace('{{recording}}', () => data)
    .replace('{{script}}', () => inline(script));
}

// The JavaScript side of a forked child's copy of the parent's event loop
// (the native side is native/child.cc).
import { unwatchFile } from 'node:fs';
import { forkEngine } from '../native';

/**
 * Called after every fork in both processes (so that its bytecode exists
 * before any child needs it); acts in the child only. fs.watchFile keeps one
 * watcher per file, shared by every listener of that file. The child's copies
 * of the parent's watchers are stopped (their listeners are the parent's),
 * so a child's own fs.watchFile of the same file joined a stopped watcher and
 * never fired: each of those files is unwatched here, and a later
 * fs.watchFile starts a watcher of the child's own.
 */
export function releaseInheritedWatchers(inChild: boolean): void {
  if (!inChild) return;
  for (const file of forkEngine().childInheritedWatchedFiles()) unwatchFile(file);
}

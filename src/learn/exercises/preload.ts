// Loaded (node --require) into a student's program by `exercise check`,
// before the program itself: the program's `bidirectional-ipc` is the package
// that runs the check, wherever the file is, and every call it makes is
// recorded as `view` records a lesson's. At its end, the program's children
// as /proc shows them then (a zombie is gone once the program has exited).
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { childrenOf, readStat, wchan } from '../../internal/proc';
import { startRecording } from '../../view/record';

/** Where the check wants the recording: set by the check in the program's environment. */
export const RECORDING_DIR_VARIABLE = 'BIDIRECTIONAL_IPC_EXERCISE_DIR';
export const RECORDING_FILE = 'events.jsonl';
export const END_FILE = 'end.json';

/** The package's entry point, beside this module's compiled tree. */
const ENTRY = path.join(__dirname, '..', '..', 'index.js');

/** The program's children at its end: pid, state, where each waits. */
export interface EndOfProgram {
  pid: number;
  children: { pid: number; state: string; comm: string; wchan: string }[];
}

function resolveThePackage(): void {
  type Resolve = (specifier: string, context: unknown, next: (s: string, c: unknown) => unknown) => unknown;
  const hooks = Module as unknown as { registerHooks?: (hooks: { resolve: Resolve }) => void };
  if (typeof hooks.registerHooks === 'function') {
    // Node 22.15+: one synchronous hook for require() and import alike.
    hooks.registerHooks({
      resolve: (specifier, context, next) =>
        specifier === 'bidirectional-ipc'
          ? { url: pathToFileURL(ENTRY).href, format: 'commonjs', shortCircuit: true }
          : next(specifier, context),
    });
    return;
  }
  // Older Nodes: require() through the resolver below, import through a
  // loader hook (it runs on a thread of its own, hence its source as text).
  const register = (Module as unknown as { register?: (specifier: string) => void }).register;
  if (typeof register === 'function') {
    const url = JSON.stringify(pathToFileURL(ENTRY).href);
    const hook =
      'export async function resolve(specifier, context, next) {\n' +
      `  if (specifier === 'bidirectional-ipc') return { url: ${url}, format: 'commonjs', shortCircuit: true };\n` +
      '  return next(specifier, context);\n}\n';
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
  }
  const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'bidirectional-ipc' ? ENTRY : resolve.call(this, request, ...rest);
  };
}

const dir = process.env[RECORDING_DIR_VARIABLE];
if (dir) {
  delete process.env[RECORDING_DIR_VARIABLE]; // not for the programs it execs
  resolveThePackage();
  startRecording({ file: path.join(dir, RECORDING_FILE) });
  const root = process.pid;
  process.on('exit', () => {
    if (process.pid !== root) return; // a forked child ending
    const children = childrenOf(root).flatMap((pid) => {
      try {
        const { state, comm } = readStat(pid);
        return [{ pid, state, comm, wchan: wchan(pid) }];
      } catch {
        return [];
      }
    });
    const end: EndOfProgram = { pid: root, children };
    fs.writeFileSync(path.join(dir, END_FILE), JSON.stringify(end));
  });
}

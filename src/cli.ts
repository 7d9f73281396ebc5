#!/usr/bin/env node
// The `bidirectional-ipc` command: the tutorial demo and its companions.
import { parseArgs } from 'node:util';
import { compare, formatReport, MissingToolError, toJSON } from './compare/compare';
import { waitpid, WNOHANG } from './index';
import { main } from './tutorial/main';

const USAGE = `Usage: bidirectional-ipc [demo] [options]

Runs the Rust pipes tutorial (two pipes, fork, ten messages and their echoes)
on real pipe(2), fork(2), read(2), write(2), close(2) and waitpid(2) calls.
Prints the same 20 lines as the Rust program.

Commands:
  demo          run the tutorial program (the default)
  compare       build the Rust original, run both programs under strace, and
                show their output, times and system calls side by side

Options:
  --json        (compare) print the result as JSON
  -h, --help    show this help
`;

function fail(message: string): never {
  process.stderr.write(`bidirectional-ipc: ${message}\n`);
  process.exit(1);
}

/** How the demo's child ended, if it has: for the one line that reports a failure. */
function childFate(): string {
  try {
    const child = waitpid(-1, WNOHANG);
    if (child.pid === 0) return '';
    if (child.signaled) return ` (the child, pid ${child.pid}, was killed by ${child.signal})`;
    return ` (the child, pid ${child.pid}, exited with status ${child.exitCode})`;
  } catch {
    return ''; // no child: the failure came before the fork, or in the child itself
  }
}

function runDemo(): void {
  const outcome = main();
  if (outcome.role === 'child') return; // the child ends when its loop is empty, status 0
  const child = outcome.child;
  if (child.signaled) fail(`the child was killed by ${child.signal}`);
  if (child.exitCode !== 0) fail(`the child exited with status ${child.exitCode}`);
}

function runCompare(json: boolean): void {
  let result;
  try {
    result = compare();
  } catch (error) {
    if (error instanceof MissingToolError) fail(`compare: ${error.message}`);
    throw error;
  }
  process.stdout.write(json ? `${JSON.stringify(toJSON(result), null, 2)}\n` : formatReport(result));
  const same = result.stdout.identical && result.parent.identical && result.child.identical;
  if (!same) process.exitCode = 1;
}

function run(argv: string[]): void {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command = 'demo', ...rest] = positionals;
  if (rest.length > 0) fail(`unexpected argument '${rest[0]}'\n\n${USAGE}`);
  switch (command) {
    case 'demo':
      try {
        runDemo();
      } catch (error) {
        const e = error as Error & { code?: string };
        fail(`${e.code ? e.message : String(e.stack ?? e)}${childFate()}`);
      }
      return;
    case 'compare':
      runCompare(values.json === true);
      return;
    default:
      fail(`unknown command '${command}'\n\n${USAGE}`);
  }
}

run(process.argv.slice(2));

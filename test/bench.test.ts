// The benchmark harness, run with tiny sizes: every row is produced, with
// sane figures. (Speed itself is judged in bench/RESULTS.md, not here.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { it } from 'node:test';
import { skipUnless } from './helpers';

// The Rust baseline needs cargo (and Debian's libc crate, or crates.io).
const noCargo = spawnSync('cargo', ['--version']).error !== undefined;

it(
  'npm run bench -- --quick --json prints every case with its ratio',
  { skip: skipUnless(noCargo ? ['cargo is not installed: `apt-get install cargo librust-libc-dev`'] : []) },
  () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'bench', 'run.js'), '--quick', '--json'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const { rows, quick } = JSON.parse(run.stdout);
    assert.equal(quick, true);
    const variants = (prefix: string) =>
      rows.filter((r: { case: string }) => r.case.startsWith(prefix)).map((r: { variant: string }) => r.variant);
    const pingpong = ['Rust', 'addon', 'C', "Python's os", 'fs.readSync/writeSync', 'child_process.fork + send'];
    assert.deepEqual(variants('ping-pong (pinned'), pingpong);
    assert.deepEqual(variants('ping-pong (free'), pingpong);
    assert.deepEqual(variants('bulk'), ['Rust', 'addon', 'C', 'fs.writeSync/readSync', 'child_process.spawn stdin']);
    assert.deepEqual(variants('per call'), ['Rust', 'addon', 'fs.writeSync/readSync']);
    for (const bytes of [16, 65536]) {
      assert.deepEqual(variants(`ping-pong by message size (free): ${bytes} B`), ['C', 'addon', "Python's os"]);
    }
    // Python's and Ruby's forks name the RSS their parent reached; Ruby is there where it is installed.
    const forkVariants = variants('fork + child').map((v: string) => v.replace(/ \(parent \d+ MB RSS\)/, ''));
    const ruby = spawnSync('ruby', ['--version']).status === 0;
    assert.deepEqual(forkVariants, [
      "Python's os.fork",
      'addon fork()',
      'floor: bare fork, whole heap',
      ...(ruby ? ["Ruby's Process.fork"] : []),
      "bare fork, V8's MADV_DONTFORK kept (child cannot run JS)",
      'child_process.fork until first message',
    ]);
    assert.deepEqual(variants('4 children'), [
      "Python's os.fork",
      'addon fork()',
      ...(ruby ? ["Ruby's Process.fork"] : []),
    ]);
    assert.deepEqual(variants('child memory'), ['private memory the child adds']);
    assert.deepEqual(variants('demo'), [
      'Rust original',
      'TypeScript demo (npm start)',
      'node -e 0 (Node start and exit)',
    ]);
    for (const row of rows) {
      assert.ok(Number.isFinite(row.median) && row.median > 0, `${row.case} / ${row.variant}: ${row.median}`);
      if (row.baseline) assert.ok(Number.isFinite(row.ratio) && row.ratio > 0);
    }
  },
);

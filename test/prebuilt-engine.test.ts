// The fork engine as a packed package carries it prebuilt (scripts/prebuild.sh):
// prebuilds/linux-x64/bidirectional_ipc_fork.abiNNN.node beside a JSON of the
// releases it was verified on. Each case builds such a package in a temporary
// directory from this build's addons and this package's compiled code, with
// the JSON it needs, and runs it in a Node of its own: which engine file is
// mapped is read from /proc/self/maps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const BUILT = process.env.BIDIRECTIONAL_IPC_BUILD ?? path.join(ROOT, 'build', 'Release');
const ENGINE_NAME = `bidirectional_ipc_fork.abi${process.versions.modules}`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prebuilt-engine-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Layout {
  /** The releases the prebuilt engine's JSON lists; no JSON if undefined. */
  verifiedOn?: string[];
  /** Whether the package also has an engine of its own build (build/Release). */
  localEngine?: boolean;
}

/** A package with the prebuilt core and engine, laid out as the packed one; returns its root. */
function packageWith(name: string, { verifiedOn, localEngine = false }: Layout): string {
  const root = path.join(scratch, name);
  const prebuilt = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  fs.mkdirSync(prebuilt, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
  fs.cpSync(path.join(ROOT, 'dist-dev', 'src'), path.join(root, 'dist-dev', 'src'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  fs.copyFileSync(path.join(BUILT, 'bidirectional_ipc_core.node'), path.join(prebuilt, 'bidirectional_ipc_core.node'));
  const engine = path.join(BUILT, 'bidirectional_ipc_fork.node');
  fs.copyFileSync(engine, path.join(prebuilt, `${ENGINE_NAME}.node`));
  if (verifiedOn) {
    const builtFor = {
      node: process.versions.node,
      modules: Number(process.versions.modules),
      uv: process.versions.uv,
    };
    fs.writeFileSync(path.join(prebuilt, `${ENGINE_NAME}.json`), JSON.stringify({ builtFor, verifiedOn }));
  }
  if (localEngine) {
    fs.mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(engine, path.join(root, 'build', 'Release', 'bidirectional_ipc_fork.node'));
  }
  return root;
}

interface Outcome {
  /** What the child wrote through the pipe, or the error fork() threw. */
  forked: string;
  code?: string;
  message?: string;
  /** The addon files mapped into the parent afterwards, relative to the package. */
  mapped: string[];
  /** What pipe/write/read carried afterwards. */
  read: string;
}

/** fork() once in a fresh Node from the package at `root`. */
function forkFrom(root: string): Outcome {
  const script = `
    const fs = require('node:fs');
    const path = require('node:path');
    const ipc = require(${JSON.stringify(path.join(root, 'dist-dev', 'src', 'index.js'))});
    const root = ${JSON.stringify(fs.realpathSync(root))};
    const outcome = {};
    try {
      const [r, w] = ipc.pipe();
      const pid = ipc.fork();
      if (pid === 0) { ipc.write(w, 'from the child'); ipc._exit(0); }
      ipc.close(w);
      const buf = Buffer.alloc(32);
      outcome.forked = buf.toString('utf8', 0, ipc.read(r, buf));
      if (ipc.waitpid(pid).exitCode !== 0) outcome.forked += ' (exit status not 0)';
    } catch (error) {
      Object.assign(outcome, { forked: 'threw', code: error.code, message: error.message });
    }
    outcome.mapped = [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .map((line) => line.split(/\\s+/).pop()).filter((file) => file.includes('bidirectional_ipc_')))]
      .map((file) => path.relative(root, file)).sort();
    const [r, w] = ipc.pipe();
    ipc.write(w, 'ping');
    const buf = Buffer.alloc(8);
    outcome.read = buf.toString('utf8', 0, ipc.read(r, buf));
    console.log(JSON.stringify(outcome));`;
  const env = { ...process.env };
  delete env.BIDIRECTIONAL_IPC_BUILD;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(run.status, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Outcome;
}

const CORE = path.join('prebuilds', `${process.platform}-${process.arch}`, 'bidirectional_ipc_core.node');
const PREBUILT_ENGINE = path.join('prebuilds', `${process.platform}-${process.arch}`, `${ENGINE_NAME}.node`);
const LOCAL_ENGINE = path.join('build', 'Release', 'bidirectional_ipc_fork.node');

/** This Node's version with its patch number raised by `step`: a release it is not. */
function laterPatch(step: number): string {
  const [major, minor, patch] = process.versions.node.split('.').map(Number);
  return `${major}.${minor}.${patch + step}`;
}

describe('the prebuilt fork engine', () => {
  it('is loaded by the first fork() on a release its JSON lists', () => {
    const outcome = forkFrom(packageWith('verified', { verifiedOn: [process.versions.node, laterPatch(1)] }));
    assert.equal(outcome.forked, 'from the child', outcome.message);
    assert.deepEqual(outcome.mapped, [CORE, PREBUILT_ENGINE].sort());
  });

  it('is refused before it is loaded on a release its JSON does not list, naming the compiler', () => {
    const outcome = forkFrom(packageWith('unverified', { verifiedOn: [laterPatch(1), laterPatch(2)] }));
    assert.equal(outcome.forked, 'threw');
    assert.equal(outcome.code, 'ERR_FORK_ENGINE_NOT_VERIFIED');
    assert.match(
      outcome.message ?? '',
      new RegExp(`compiled for Node ${process.versions.node.replace(/\./g, '\\.')},`),
    );
    assert.match(
      outcome.message ?? '',
      new RegExp(`verified on 2 releases, Node ${laterPatch(1).replace(/\./g, '\\.')} to`),
    );
    assert.match(outcome.message ?? '', /apt-get install build-essential python3/);
    assert.deepEqual(outcome.mapped, [CORE], 'the refused engine was mapped');
    assert.equal(outcome.read, 'ping');
  });

  it('is refused when its JSON is missing', () => {
    const outcome = forkFrom(packageWith('no-record', {}));
    assert.equal(outcome.code, 'ERR_FORK_ENGINE_NOT_VERIFIED');
    assert.match(outcome.message ?? '', /no readable record of the releases it was verified on/);
    assert.deepEqual(outcome.mapped, [CORE]);
  });

  it('gives way to an engine compiled at install (build/Release)', () => {
    const outcome = forkFrom(packageWith('local', { verifiedOn: [process.versions.node], localEngine: true }));
    assert.equal(outcome.forked, 'from the child', outcome.message);
    assert.deepEqual(outcome.mapped, [CORE, LOCAL_ENGINE].sort());
  });
});

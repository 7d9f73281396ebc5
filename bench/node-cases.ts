// The Node side of `npm run bench`, one case per run of this script:
//   node node-cases.js CASE SIZE [REPEAT]
// (for the ping-pong cases the third argument is the message size, default 16;
// for fork-many it is the number of children per timing)
// Prints {"seconds": S} (or a list of seconds, or more figures) for the timed
// part only, like the C, Rust and Python baselines.
import { fork as cpFork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { _exit, close, fork, pipe, read, waitpid, write } from '../src/index';
import { readFull, writeAll } from '../src/internal/io-loops';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { privateKiB } from '../examples/memory';
import { inflate } from './inflate';

const [kind, sizeArg, repeatArg] = process.argv.slice(2);
const size = Number(sizeArg);
const repeat = Number(repeatArg ?? 1);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const report = (result: object) => fs.writeSync(1, `${JSON.stringify(result)}\n`);

type Io = {
  read: (fd: number, buf: Uint8Array, offset?: number) => number;
  write: (fd: number, buf: Uint8Array, offset?: number) => number;
};
const addonIo: Io = { read, write };
const fsIo: Io = {
  read: (fd, buf, offset = 0) => fs.readSync(fd, buf, offset, buf.length - offset, null),
  write: (fd, buf, offset = 0) => fs.writeSync(fd, buf, offset, buf.length - offset),
};

/** A message (16 bytes unless told) there and back, `size` times, between this process and a forked child. */
function pingpong(io: Io): void {
  const [downR, downW] = pipe();
  const [upR, upW] = pipe();
  const buf = Buffer.alloc(repeatArg === undefined ? 16 : repeat, 0x70);
  const pid = fork(() => {
    for (let i = 0; i < size; i++) {
      readFull(downR, buf, io.read);
      writeAll(upW, buf, io.write);
    }
    _exit(0);
  });
  const start = now();
  for (let i = 0; i < size; i++) {
    writeAll(downW, buf, io.write);
    readFull(upR, buf, io.read);
  }
  const seconds = now() - start;
  waitpid(pid);
  report({ seconds });
}

/** `size` bytes to a forked child in 64 KiB writes; each chunk carries its sequence number. */
function bulk(io: Io): void {
  const CHUNK = 65536;
  const chunks = Math.floor(size / CHUNK);
  const [r, w] = pipe();
  const buf = Buffer.alloc(CHUNK, 0x62);
  const pid = fork(() => {
    close(w);
    for (let i = 0; i < chunks; i++) {
      if (readFull(r, buf, io.read) !== CHUNK || buf.readUInt32LE(0) !== i) _exit(3);
    }
    _exit(0);
  });
  close(r);
  const start = now();
  for (let i = 0; i < chunks; i++) {
    buf.writeUInt32LE(i, 0);
    writeAll(w, buf, io.write);
  }
  close(w);
  const status = waitpid(pid);
  const seconds = now() - start;
  if (status.exitCode !== 0) throw new Error(`bulk: the child found a gap (${status.exitCode})`);
  report({ seconds });
}

/** 1-byte write and 1-byte read on one pipe, `size` times, in this process. */
function percall(io: Io): void {
  const [r, w] = pipe();
  const one = Buffer.alloc(1, 0x78);
  const start = now();
  for (let i = 0; i < size; i++) {
    io.write(w, one);
    io.read(r, one);
  }
  report({ seconds: now() - start });
}

/** child_process.fork and process.send: a message and its echo, `size` times. */
async function ipcPingpong(): Promise<void> {
  const child = cpFork(__filename, ['echo-child', '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((resolve) => child.once('message', resolve)); // ready
  const message = 'p'.repeat(16);
  const start = now();
  for (let i = 0; i < size; i++) {
    child.send(message);
    await new Promise((resolve) => child.once('message', resolve));
  }
  const seconds = now() - start;
  child.disconnect();
  report({ seconds });
}

/** A child's stdin stream fed through child_process.spawn, with backpressure. */
async function spawnBulk(): Promise<void> {
  const CHUNK = 65536;
  const chunks = Math.floor(size / CHUNK);
  const child = spawn(process.execPath, [__filename, 'stdin-child', String(chunks)], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const start = now();
  for (let i = 0; i < chunks; i++) {
    const buf = Buffer.alloc(CHUNK, 0x62);
    buf.writeUInt32LE(i, 0);
    if (!child.stdin.write(buf)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const seconds = now() - start;
  if (code !== 0) throw new Error(`spawn bulk: the child found a gap (${code})`);
  report({ seconds });
}

/** fork() of a process of about `size` MB RSS: the package's fork, the floor, and child_process.fork. */
async function forkCost(): Promise<void> {
  const held = inflate(size);
  const floor = require(path.join(PACKAGE_ROOT, 'bench', 'build', 'Release', 'bench_fork_floor.node')) as {
    forkExitWait(times: number, wholeHeap: boolean): number[];
  };
  const addon: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = now();
    const pid = fork(() => {
      const sum = [1, 2, 3].reduce((a, b) => a + b, 0); // the child runs JavaScript
      _exit(sum === 6 ? 0 : 1);
    });
    if (waitpid(pid).exitCode !== 0) throw new Error('the forked child failed');
    addon.push(now() - start);
  }
  const floorWhole = floor.forkExitWait(repeat, true);
  const floorBare = floor.forkExitWait(repeat, false);
  // The private memory a child adds: it reports its own after a little work.
  const [r, w] = pipe();
  const pid = fork(() => {
    const sum = [1, 2, 3].reduce((a, b) => a + b, 0);
    write(w, `${privateKiB()} ${sum}`);
    _exit(0);
  });
  const buf = Buffer.alloc(64);
  const childPrivateKb = Number(buf.toString('utf8', 0, read(r, buf)).split(' ')[0]);
  waitpid(pid);
  close(r);
  close(w);
  const cp: number[] = [];
  for (let i = 0; i < Math.min(repeat, 5); i++) {
    const start = now();
    const child = cpFork(__filename, ['echo-child', '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((resolve) => child.once('message', resolve));
    cp.push(now() - start);
    child.disconnect();
    await new Promise((resolve) => child.once('exit', resolve));
  }
  report({
    rssMb: process.memoryUsage().rss / 2 ** 20,
    addon,
    floorWholeHeap: floorWhole,
    floorBare,
    childProcessFork: cp,
    childPrivateKb,
    held: held.length,
  });
}

/** `repeat` children forked in a row from a parent of about `size` MB RSS, then all reaped: seconds, 3 times. */
function forkMany(): void {
  const ROUNDS = 3;
  const held = inflate(size);
  const seconds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = now();
    const pids: number[] = [];
    for (let i = 0; i < repeat; i++) {
      pids.push(
        fork(() => {
          const sum = [1, 2, 3].reduce((a, b) => a + b, 0); // the child runs JavaScript
          _exit(sum === 6 ? 0 : 1);
        }),
      );
    }
    for (const pid of pids) {
      if (waitpid(pid).exitCode !== 0) throw new Error('a forked child failed');
    }
    seconds.push(now() - start);
  }
  report({ rssMb: process.memoryUsage().rss / 2 ** 20, seconds, held: held.length });
}

async function main(): Promise<void> {
  switch (kind) {
    case 'addon-pingpong':
      return pingpong(addonIo);
    case 'fs-pingpong':
      return pingpong(fsIo);
    case 'ipc-pingpong':
      return ipcPingpong();
    case 'addon-bulk':
      return bulk(addonIo);
    case 'fs-bulk':
      return bulk(fsIo);
    case 'spawn-bulk':
      return spawnBulk();
    case 'addon-percall':
      return percall(addonIo);
    case 'fs-percall':
      return percall(fsIo);
    case 'fork':
      return forkCost();
    case 'fork-many':
      return forkMany();
    case 'echo-child':
      process.send!('ready');
      process.on('message', (m) => process.send!(m));
      return;
    case 'stdin-child': {
      let expected = 0;
      let pending = Buffer.alloc(0);
      process.stdin.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 65536) {
          if (pending.readUInt32LE(0) !== expected++) process.exit(3);
          pending = pending.subarray(65536);
        }
      });
      process.stdin.on('end', () => process.exit(expected === size ? 0 : 4));
      return;
    }
    default:
      throw new Error(`unknown case ${kind}`);
  }
}

void main();

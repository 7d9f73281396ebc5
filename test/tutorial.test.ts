// The tutorial demo: the Rust program's output, byte for byte, from `npm start`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { close, read, write } from '../src/index';
import { createPipe, ITERATIONS } from '../src/tutorial/main';
import { runCli, tutorialOutput } from './helpers';

describe('the tutorial demo', () => {
  it("prints the tutorial program's 20 lines, in order, and exits 0", () => {
    const run = runCli([]);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, tutorialOutput());
    assert.equal(run.stdout.split('\n').length - 1, 20);
    assert.equal(run.status, 0);
  });

  it('`demo` is the same program', () => {
    const run = runCli(['demo']);
    assert.equal(run.stdout, tutorialOutput());
    assert.equal(run.status, 0);
  });

  it("keeps the tutorial's constants and pipe helper", () => {
    assert.equal(ITERATIONS, 10);
    const [r, w] = createPipe();
    assert.equal(write(w, 'ok'), 2);
    const buf = Buffer.alloc(2);
    assert.equal(read(r, buf), 2);
    close(r);
    close(w);
  });
});

describe('the command line', () => {
  it('--help explains the command and exits 0', () => {
    const run = runCli(['--help']);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Usage: bidirectional-ipc/);
    assert.match(run.stdout, /demo/);
  });

  it('an unknown command or option is a one-line error and status 2', () => {
    for (const args of [['nonsense'], ['--frobnicate']]) {
      const run = runCli(args);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /^bidirectional-ipc: /);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(run.stdout, '');
    }
  });
});

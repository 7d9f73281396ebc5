// A forked child's randomness is its own: Math.random() and crypto's random
// values differ from the parent's and from every sibling's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import * as crypto from 'node:crypto';
import { describe, it } from 'node:test';
import * as vm from 'node:vm';
import { inChild } from './helpers';

/** What one process draws: a sequence of each kind, through references taken at load and through the module. */
function draw(): string {
  const math: number[] = [];
  for (let i = 0; i < 8; i++) math.push(Math.random());
  return JSON.stringify({
    math,
    uuid: [randomUUID(), crypto.randomUUID(), globalThis.crypto.randomUUID()],
    int: [randomInt(0, 2 ** 48 - 1), crypto.randomInt(2 ** 40)],
    bytes: [randomBytes(16).toString('hex'), crypto.randomBytes(16).toString('hex')],
  });
}

/** Every value of every kind in `draws`, each tagged with its kind; duplicates kept. */
function values(draws: string[]): string[] {
  return draws.flatMap((text) =>
    Object.entries(JSON.parse(text) as Record<string, unknown[]>).flatMap(([kind, list]) =>
      list.map((value) => `${kind} ${String(value)}`),
    ),
  );
}

/** What 100 forked siblings draw with `draw`, then what the parent draws. */
function drawnBySiblingsAndParent(draw: () => string): string[] {
  const draws: string[] = [];
  for (let i = 0; i < 100; i++) {
    const child = inChild((report) => report(draw()));
    assert.equal(child.timedOut, false);
    assert.equal(child.status.exitCode, 0, child.report);
    draws.push(child.report);
  }
  draws.push(draw());
  return draws;
}

function assertNoneRepeated(all: string[]): void {
  const seen = new Map<string, number>();
  for (const value of all) seen.set(value, (seen.get(value) ?? 0) + 1);
  const repeated = [...seen].filter(([, count]) => count > 1);
  assert.deepEqual(repeated.slice(0, 5), [], `${repeated.length} values drawn by more than one process`);
}

describe("a forked child's randomness is its own", () => {
  it('100 siblings and their parent draw 100 + 1 different values of each kind (Math.random, randomUUID, randomInt, randomBytes)', () => {
    // The parent has drawn from each before forking: its caches are full.
    draw();
    // Math.random() in optimized code.
    let sum = 0;
    for (let i = 0; i < 200_000; i++) sum += Math.random();
    assert.ok(sum > 0);
    const all = values(drawnBySiblingsAndParent(draw));
    assert.equal(all.length, 101 * 15);
    assertNoneRepeated(all);
  });

  it('100 siblings and their parent draw different Math.random() values in vm contexts made before the fork and after it', () => {
    const inherited = vm.createContext();
    const drawIn = (context: vm.Context): number[] =>
      vm.runInContext('Array.from({ length: 8 }, () => Math.random())', context) as number[];
    drawIn(inherited); // the context's cache is full at the fork
    const both = (): string => JSON.stringify({ inherited: drawIn(inherited), fresh: drawIn(vm.createContext()) });
    const all = values(drawnBySiblingsAndParent(both));
    assert.equal(all.length, 101 * 16);
    assertNoneRepeated(all);
  });

  it('a child of a child draws its own values too', () => {
    draw();
    const child = inChild((report) => {
      const mine = draw();
      const grandchild = inChild((inner) => inner(draw()));
      report(JSON.stringify([mine, grandchild.report]));
    });
    assert.equal(child.status.exitCode, 0, child.report);
    const [mine, grandchild] = JSON.parse(child.report) as string[];
    const all = values([mine, grandchild, draw()]);
    assert.equal(new Set(all).size, all.length);
  });
});

/**
 * Runs `program` (a script for `node -e`, with `fork`, `waitpid`,
 * `prepareFork`, crypto's `randomInt`, `randomFill` and `randomBytes` and
 * `print(value)` in scope) and returns what it printed with `print`: the
 * lines that begin with `PARENT ` and `CHILD `, parsed as JSON (the first of
 * each; null when there is none).
 */
function runForking(program: string): { parent: unknown; child: unknown; output: string } {
  const prelude = `
    const { fork, waitpid, prepareFork } = require(${JSON.stringify(require.resolve('../src/index'))});
    const { randomInt, randomFill, randomBytes } = require('crypto');
    const parent = process.pid;
    const print = (line) => require('fs').writeSync(1, (process.pid === parent ? 'PARENT ' : 'CHILD ') + JSON.stringify(line) + '\\n');
  `;
  const run = spawnSync(process.execPath, ['-e', prelude + program], { encoding: 'utf8', timeout: 30_000 });
  const line = (who: string): unknown =>
    JSON.parse(
      run.stdout
        .split('\n')
        .find((text) => text.startsWith(who))
        ?.slice(who.length) ?? 'null',
    );
  // For assertion messages: each line cut short (the values fill lines of 50 KB).
  const output = (run.stdout + run.stderr)
    .split('\n')
    .map((text) => (text.length > 200 ? `${text.slice(0, 200)}...` : text))
    .join('\n');
  return { parent: line('PARENT '), child: line('CHILD '), output };
}

/** Empties crypto's randomInt() cache, then makes 1,100 async calls: the last ones wait for its refill. */
const CALLS_QUEUED_FOR_REFILL = `
  for (let i = 0; i < 2000; i++) randomInt(0, 2 ** 48 - 1);
  const ran = [];
  for (let i = 0; i < 1100; i++) randomInt(0, 2 ** 48 - 1, () => ran.push(i));
`;

/**
 * In each process, 3,000 async randomInt() calls made after the fork (its
 * result in \`pid\`); at exit, prints \`report\` (an expression that may use
 * \`values\`, the values answered). A process whose calls are not all
 * answered within 10 s prints how many were and exits with 1; the parent
 * exits with the child's status when its own is 0.
 */
function drawAfterFork(report = '{ values }'): string {
  return `
    if (pid !== 0) process.on('exit', () => { process.exitCode ||= waitpid(pid).exitCode; });
    const values = [];
    const timer = setTimeout(() => { print({ answered: values.length }); process.exit(1); }, 10_000);
    for (let i = 0; i < 3000; i++) randomInt(0, 2 ** 48 - 1, (error, n) => {
      if (values.push(n) === 3000) clearTimeout(timer);
    });
    process.on('exit', () => print(${report}));
  `;
}

describe('async randomInt() calls pending at the fork, with prepareFork() at start-up', () => {
  it("the calls crypto had queued for its cache's refill call back in the parent only; those it had answered (a nextTick) in both", () => {
    // 1,100 async calls after the cache was emptied: crypto answers the first from
    // its cache (each a queued nextTick), queues the rest for the refill it starts.
    const { parent, child, output } = runForking(`prepareFork();
      ${CALLS_QUEUED_FOR_REFILL}
      const pid = fork();
      process.on('exit', () => print(ran));
      if (pid !== 0) setTimeout(() => waitpid(pid), 2000);
    `);
    assert.deepEqual(
      parent,
      Array.from({ length: 1100 }, (_, i) => i),
      output,
    );
    // The child: a prefix (the answered calls), never the queued rest.
    const answered = child as number[];
    assert.ok(answered.length > 0 && answered.length < 1100, output);
    assert.deepEqual(answered, (parent as number[]).slice(0, answered.length));
  });

  it("the child's own async randomInt() calls are answered beyond the 1,024 values of its cache, with values of its own", () => {
    const { parent, child, output } = runForking(`prepareFork();
      ${CALLS_QUEUED_FOR_REFILL}
      const pid = fork();
      ${drawAfterFork()}
    `);
    assertOwnDraws(parent, child, output);
  });
});

/** Both processes answered the 3,000 calls of drawAfterFork, and no value came twice. */
function assertOwnDraws(parent: unknown, child: unknown, output: string): void {
  const mine = (child as { values?: number[] } | null)?.values;
  assert.equal(mine?.length, 3000, output);
  const theirs = (parent as { values?: number[] } | null)?.values;
  assert.equal(theirs?.length, 3000, output);
  assertNoneRepeated([...mine!, ...theirs!].map(String));
}

describe('async randomInt() calls pending at the first fork() (a refill begun before fork() could follow it)', () => {
  it('fork() throws ERR_FORK_RANDOM_INT_PENDING and forks nothing; once those calls have called back, fork() gives a child whose own calls answer', () => {
    const { parent, child, output } = runForking(`
      ${CALLS_QUEUED_FOR_REFILL}
      let refused;
      try { fork(); } catch (error) { refused = error.code; }
      let pid;
      const later = () => {
        if (ran.length < 1100) return setImmediate(later);
        pid = fork();
        if (pid !== 0) print({ refused, ran: ran.length });
        ${drawAfterFork('{ values, ran: ran.length }')}
      };
      setImmediate(later);
    `);
    assert.deepEqual(parent, { refused: 'ERR_FORK_RANDOM_INT_PENDING', ran: 1100 }, output);
    const mine = (child as { values?: number[]; ran?: number } | null)?.values;
    assert.equal(mine?.length, 3000, output);
    // The refused fork() left no child behind: the only CHILD line is the later one's.
    assert.equal(output.split('\n').filter((line) => line.startsWith('CHILD ')).length, 1, output);
  });
});

/** A randomFill() and a randomBytes() of the program's own, in flight; \`own\` lists those that called back. */
const OWN_REQUESTS = `
  const own = [];
  randomFill(new Uint8Array(64), () => own.push('randomFill'));
  randomBytes(64, () => own.push('randomBytes'));
`;

describe("the program's own async crypto requests in flight at the fork", () => {
  it('a randomFill() and a randomBytes() make no refusal at the first fork(), and call back in the parent only', () => {
    const { parent, child, output } = runForking(`
      ${OWN_REQUESTS}
      const pid = fork();
      ${drawAfterFork('{ own: own.sort(), values }')}
    `);
    assert.deepEqual((parent as { own?: string[] } | null)?.own, ['randomBytes', 'randomFill'], output);
    assert.deepEqual((child as { own?: string[] } | null)?.own, [], output);
    assertOwnDraws(parent, child, output);
  });

  it("with crypto's refill running too (prepareFork() at start-up): the same, and the refill is ended in the child", () => {
    const { parent, child, output } = runForking(`prepareFork();
      ${CALLS_QUEUED_FOR_REFILL}
      ${OWN_REQUESTS}
      const pid = fork();
      ${drawAfterFork('{ own: own.sort(), queued: ran.length, values }')}
    `);
    assert.deepEqual((parent as { own?: string[] } | null)?.own, ['randomBytes', 'randomFill'], output);
    assert.equal((parent as { queued?: number } | null)?.queued, 1100, output);
    assert.deepEqual((child as { own?: string[] } | null)?.own, [], output);
    assert.ok(((child as { queued?: number } | null)?.queued ?? 1100) < 1100, output);
    assertOwnDraws(parent, child, output);
  });
});

// Workers started in a forked child (issue 16): V8's background work there runs
// on a thread pool of the child's own (native/child_platform.cc), so a child's
// Worker answers and the child then ends by itself, also when the parent has
// Workers of its own. A file of its own so that the sanitizer run
// (test/sanitize.sh) takes it whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyFixtureLines as lines } from './helpers';

describe('Workers started in a forked child', () => {
  it('50 children each start a Worker of their own: it answers, and each child ends by itself', () => {
    // V8's background tasks in a child run on a thread pool of the child's own
    // (native/child_platform.cc); before it, a child's Worker never ended.
    const out = lines('worker-in-child', ['50'], 120_000);
    assert.equal(out.filter((l) => l === 'CHILD_WORKER 42').length, 50, out.join('\n'));
    assert.equal(out.filter((l) => l === 'STATUS 0').length, 50, out.join('\n'));
    assert.ok(!out.includes('HUNG'), out.join('\n'));
  });

  it("50 children of a parent with two busy Workers, each forked while a third one's join is queued: each child's Worker answers", () => {
    // The child's Worker thread starts on its loop's first turn, after the queued
    // join of the parent's Worker has run (src/fork.ts, parentJoinsQueued): started
    // at once, it took that thread's stack and Node aborted in every child; before,
    // new Worker() was refused here.
    const out = lines('worker-in-child-of-workers', ['50'], 120_000);
    assert.equal(out.filter((l) => l === 'CHILD_WORKER 42').length, 50, out.join('\n'));
    assert.equal(out.filter((l) => l === 'STATUS 0').length, 50, out.join('\n'));
    assert.equal(out.filter((l) => l === 'CHILD_TERMINATED messages 0').length, 50, 'terminated before it started');
    assert.ok(!out.includes('HUNG'), out.join('\n'));
  });

  // Not in the sanitizer run (test/sanitize.sh): AddressSanitizer's allocator
  // (GCC 12's libasan) holds no lock across fork(2), and this case forks while
  // the starting Worker's thread allocates: 3 in 80 first forks gave a child
  // that waited for ever on the allocator's region mutex (gdb: in ASan's free,
  // from V8's Zone). The plain runs of npm test run it on every line.
  const asanForkUnsafe =
    process.env.BIDIRECTIONAL_IPC_SANITIZER === 'asan' &&
    "AddressSanitizer's allocator is not fork-safe while another thread allocates";
  it(
    "new Worker() in a child forked while a parent's Worker was starting throws ERR_FORKED_CHILD_NO_THREADS, and the child ends",
    { skip: asanForkUnsafe },
    () => {
      const out = lines('worker-starting', ['20'], 60_000);
      assert.equal(out.filter((l) => l === 'CHILD_NEW_WORKER ERR_FORKED_CHILD_NO_THREADS').length, 20, out.join('\n'));
      assert.equal(out.filter((l) => l === 'STATUS 0').length, 20, out.join('\n'));
    },
  );
});

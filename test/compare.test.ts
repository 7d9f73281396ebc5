// The comparison with the Rust original: the strace normaliser on recorded
// traces, and a real run of both programs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { missingTools } from '../src/compare/compare';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { parseStrace, splitArgs, tutorialCalls } from '../src/compare/strace';
import { CLI, skipUnless } from './helpers';

// A trace as `strace -f -qq -s 256` prints it, trimmed: a runtime thread (101),
// calls cut in two by other processes' lines, a descriptor number reused after
// the tutorial closed it, an exit_group cut short by another process's line, a runtime's sleep after the
// child is reaped.
const RECORDED = `100 execve("/bin/demo", ["demo"], 0x7ffc /* 3 vars */) = 0
100 pipe2([3, 4], O_CLOEXEC)          = 0
100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7ff, tls=0x7f} => {parent_tid=[101]}, 88) = 101
101 futex(0x55, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
100 pipe2([5, 6], 0)                  = 0
100 pipe2([7, 8], 0)                  = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
102 madvise(0x7f00, 4096, MADV_DONTFORK <unfinished ...>
100 close(7 <unfinished ...>
102 <... madvise resumed>)            = 0
100 <... close resumed>)              = 0
102 close(5)                          = 0
100 close(6)                          = 0
100 write(8, "Parent message 0", 16 <unfinished ...>
102 close(8)                          = 0
100 <... write resumed>)              = 16
100 read(5,  <unfinished ...>
102 read(7, "Parent message 0", 1024) = 16
102 write(1, "Child received: Parent message 0\\n", 33) = 33
102 write(6, "Child echoing: Parent message 0", 31) = 31
100 <... read resumed>"Child echoing: Parent message 0", 1024) = 31
101 <... futex resumed>)              = 0
101 read(5, "x", 1)                   = 1
100 write(1, "Parent received: Child echoing: Parent message 0\\n", 49) = 49
100 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=100000000}, 0x7ffd) = 0
102 close(7)                          = 0
102 openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 7
102 read(7, "127.0.0.1 localhost\\n", 4096) = 20
102 close(6)                          = 0
102 exit_group(0 <unfinished ...>
100 close(5)                          = 0
102 +++ exited with 0 +++
100 close(8)                          = 0
100 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 102
100 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
100 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000000}, NULL) = 0
100 exit_group(0)                     = ?
`;

// The same program with the parent's clone cut short: the child's first calls
// are printed (and so come) before the parent's fork returns.
const CLONE_RETURNS_LATE = RECORDED.replace(
  /^100 clone\((.*)\) = 102\n(102 madvise.*\n)/m,
  '100 clone($1 <unfinished ...>\n$2102 close(5)                          = 0\n100 <... clone resumed>) = 102\n',
).replace(/^102 close\(5\) += 0\n(100 close\(6\))/m, '$1');

describe('the strace normaliser', () => {
  it('splits arguments only at top-level commas', () => {
    assert.deepEqual(splitArgs('1, "a, b", {x=1, y=[2, 3]}, NULL'), ['1', '"a, b"', '{x=1, y=[2, 3]}', 'NULL']);
    assert.deepEqual(splitArgs('"quote \\" , inside", 2'), ['"quote \\" , inside"', '2']);
    assert.deepEqual(splitArgs(''), []);
  });

  it('joins <unfinished ...> and <... resumed> halves per thread, where the call returned', () => {
    const calls = parseStrace(RECORDED);
    const read = calls.find((c) => c.tid === 100 && c.name === 'read')!;
    assert.deepEqual(read.args, ['5', '"Child echoing: Parent message 0"', '1024']);
    assert.equal(read.result, 31);
    const close7 = calls.find((c) => c.tid === 100 && c.name === 'close')!;
    assert.deepEqual(close7.args, ['7']);
    assert.equal(close7.result, 0);
    // The parent's write returned after the child's close(8): that is its place.
    const order = calls.map((c) => `${c.tid}:${c.name}`);
    assert.ok(order.indexOf('102:close') < order.indexOf('100:write'));
    assert.equal(calls.filter((c) => c.name === 'exit_group').length, 2);
    assert.ok(!calls.some((c) => c.name.startsWith('---')));
  });

  it('picks the tutorial calls per process, names descriptors by role and pids as parent/child', () => {
    const trace = tutorialCalls(parseStrace(RECORDED), 100);
    assert.equal(trace.childPid, 102);
    assert.deepEqual(
      trace.parent.map((c) => c.text),
      [
        'pipe() = [parent_read, child_write]',
        'pipe() = [child_read, parent_write]',
        'fork() = child',
        'close(child_read) = 0',
        'close(child_write) = 0',
        'write(parent_write, "Parent message 0", 16) = 16',
        'read(parent_read, "Child echoing: Parent message 0", 1024) = 31',
        'write(stdout, "Parent received: Child echoing: Parent message 0\\n", 49) = 49',
        'sleep(100 ms)',
        'close(parent_read) = 0',
        'close(parent_write) = 0',
        'wait4(-1) = child',
        'exit_group(0)',
      ],
    );
    assert.deepEqual(
      trace.child.map((c) => c.text),
      [
        'fork() = 0',
        'close(parent_read) = 0',
        'close(parent_write) = 0',
        'read(child_read, "Parent message 0", 1024) = 16',
        'write(stdout, "Child received: Parent message 0\\n", 33) = 33',
        'write(child_write, "Child echoing: Parent message 0", 31) = 31',
        'close(child_read) = 0',
        'close(child_write) = 0',
        'exit_group(0)',
      ],
    );
  });

  it("keeps the child's calls printed before the parent's fork returns, with the parent's descriptors", () => {
    assert.match(CLONE_RETURNS_LATE, /102 close\(5\)[^\n]*\n100 <\.\.\. clone resumed>/);
    const late = tutorialCalls(parseStrace(CLONE_RETURNS_LATE), 100);
    const inOrder = tutorialCalls(parseStrace(RECORDED), 100);
    assert.equal(late.childPid, 102);
    assert.deepEqual(late.child, inOrder.child);
    assert.deepEqual(late.parent, inOrder.parent);
    assert.equal(late.child[1].text, 'close(parent_read) = 0');
  });

  it("counts everything else as the runtime's: other threads, O_CLOEXEC pipes, reused descriptor numbers, a sleep after the wait", () => {
    const trace = tutorialCalls(parseStrace(RECORDED), 100);
    const parent = Object.fromEntries(trace.runtime.parent);
    assert.deepEqual(parent, { execve: 1, pipe2: 1, clone3: 1, futex: 1, read: 1, clock_nanosleep: 1 });
    const child = Object.fromEntries(trace.runtime.child);
    assert.deepEqual(child, { madvise: 1, openat: 1, read: 1 });
  });
});

describe('bidirectional-ipc compare', { skip: skipUnless(missingTools()) }, () => {
  it('reports identical stdout and identical tutorial calls in parent and child (--json); builds in the user cache', () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-cache-'));
    const packageTarget = path.join(PACKAGE_ROOT, 'reference', 'target');
    const packageTargetBefore = fs.existsSync(packageTarget) ? fs.statSync(packageTarget).mtimeMs : null;
    const run = spawnSync(process.execPath, [CLI, 'compare', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: cache },
      timeout: 240_000,
    });
    const built = fs.existsSync(
      path.join(cache, 'bidirectional-ipc', 'reference-target', 'release', 'bidirectional_ipc'),
    );
    fs.rmSync(cache, { recursive: true, force: true });
    assert.equal(run.status, 0, run.stderr || run.stdout);
    assert.ok(built, 'the Rust original was built under $XDG_CACHE_HOME/bidirectional-ipc');
    const packageTargetAfter = fs.existsSync(packageTarget) ? fs.statSync(packageTarget).mtimeMs : null;
    assert.equal(packageTargetAfter, packageTargetBefore, 'nothing was built inside the package');
    const result = JSON.parse(run.stdout);
    assert.equal(result.stdout.identical, true);
    assert.equal(result.rust.stdout, result.typescript.stdout);
    assert.equal(result.rust.stdout.split('\n').length - 1, 20);
    assert.equal(result.rust.exitStatus, 0);
    assert.equal(result.typescript.exitStatus, 0);
    for (const side of ['parent', 'child']) {
      assert.equal(result[side].identical, true, `${side} calls differ`);
      assert.deepEqual(
        result.typescript.calls[side].map((c: { text: string }) => c.text),
        result.rust.calls[side].map((c: { text: string }) => c.text),
      );
    }
    assert.equal(
      result.rust.calls.parent.length,
      49,
      'pipe×2, fork, close×2, 10×(write, read, print, sleep), close×2, wait, exit',
    );
    assert.equal(result.rust.calls.child.length, 36);
    const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
    assert.ok(total(result.typescript.calls.runtime.parent) > total(result.rust.calls.runtime.parent));
  });

  it('prints the two columns and the verdicts as text', () => {
    const run = spawnSync(process.execPath, [CLI, 'compare'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '160' }, // side by side from 100 columns on
      timeout: 240_000,
    });
    assert.equal(run.status, 0, run.stderr || run.stdout);
    assert.match(run.stdout, /^stdout {7}identical \(20 lines\)/m);
    assert.match(run.stdout, /The tutorial's calls in the parent: identical \(49 calls\)/);
    assert.match(run.stdout, /The tutorial's calls in the child: identical \(36 calls\)/);
    assert.match(
      run.stdout,
      /^ {3}6 {2}write\(parent_write, "Parent message 0", 16\) = 16 +write\(parent_write, "Parent message 0", 16\) = 16$/m,
    );
    assert.match(run.stdout, /Everything else \(all threads\)/);
    assert.equal(run.stderr, '', 'no progress lines when stderr is not a terminal');
  });
});

describe('bidirectional-ipc compare without its tools', () => {
  it('names the missing tools and how to get them, exits non-zero, no stack trace', () => {
    const run = spawnSync(process.execPath, [CLI, 'compare'], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent' }, // node itself is started by its full path
      timeout: 30_000,
    });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /strace is not installed: `apt-get install strace`/);
    assert.match(run.stderr, /cargo is not installed/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.equal(run.stdout, '');
  });
});

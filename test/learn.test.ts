// The teaching tools: --trace, --diagram, steps (fd tables from /proc), and
// each lesson's behaviour.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { close, F_SETFL, fcntl, fork, isSyscallError, O_NONBLOCK, pipe, read, waitpid, write } from '../src/index';
import { LESSONS } from '../src/learn/lessons/index';
import { fdTable, runSteps } from '../src/learn/steps';
import { processState } from '../src/internal/proc';
import { CLI, runCli, tutorialOutput } from './helpers';
import { missingStrace } from '../src/compare/compare';

/** The logical calls of a trace: an unfinished start and its resumed end joined into one. */
function traceCalls(stderr: string): { who: string; text: string; line: number }[] {
  const calls: { who: string; text: string; line: number }[] = [];
  const unfinished = new Map<string, { who: string; text: string; line: number }>();
  stderr
    .split('\n')
    .filter(Boolean)
    .forEach((raw, line) => {
      const m = /^\[(\w+ \d+)\] (.*)$/.exec(raw);
      assert.ok(m, `a trace line: ${raw}`);
      const [, who, text] = m;
      const resumed = /^<\.\.\. (\w+) resumed> (.*)$/.exec(text);
      if (resumed) {
        const start = unfinished.get(`${who} ${resumed[1]}`);
        assert.ok(start, `a start for ${raw}`);
        unfinished.delete(`${who} ${resumed[1]}`);
        const head = start.text.replace(/(, \.\.\.)?\) <unfinished \.\.\.>$/, '');
        const tail = resumed[2].startsWith('=') ? `) ${resumed[2]}` : `, ${resumed[2]}`;
        // A write is placed by its start (its bytes can be read before it returns),
        // a read by its end (that is when it has the bytes).
        calls.push({ who, text: `${head}${tail}`, line: resumed[1] === 'write' ? start.line : line });
      } else if (/ <unfinished \.\.\.>$/.test(text)) {
        unfinished.set(`${who} ${text.split('(')[0]}`, { who, text, line });
      } else {
        calls.push({ who, text, line });
      }
    });
  return calls.sort((a, b) => a.line - b.line);
}

/**
 * Checks cause before effect for message i: the parent's write of it comes
 * before the child's read of it, which comes before the child's echo, which
 * comes before the parent's read of the echo. Returns the four positions.
 */
function assertHappensBefore(positions: (pattern: RegExp) => number, i: number, where: string): void {
  const steps = [
    positions(new RegExp(`parent.*write.*'?"?Parent message ${i}\\b`)),
    positions(new RegExp(`child.*read.*'?"?Parent message ${i}\\b`)),
    positions(new RegExp(`child.*write.*Child echoing: Parent message ${i}\\b`)),
    positions(new RegExp(`parent.*read.*Child echoing: Parent message ${i}\\b`)),
  ];
  assert.ok(
    steps.every((p) => p >= 0),
    `${where}: all four events of message ${i} are there: ${steps}`,
  );
  assert.deepEqual(
    [...steps].sort((a, b) => a - b),
    steps,
    `${where}: message ${i} in cause-and-effect order: ${steps}`,
  );
}

/** Runs `code` in a new Node process with the package as `ipc`, `input` on its stdin. */
function runWithPackage(code: string, input = ''): { stdout: string; stderr: string; status: number | null } {
  const index = JSON.stringify(path.join(__dirname, '../src/index'));
  return spawnSync(process.execPath, ['-e', `const ipc = require(${index});\n${code}`], {
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('execvp gives the new program its stdio', () => {
  // Node marks fds 0-2 close-on-exec at start-up; without execvp clearing it, sh would read
  // nothing ("out:") and a program's stdout or stderr could be closed.
  it("an exec'd sh reads stdin and writes stdout and stderr", () => {
    const run = runWithPackage(
      `const pid = ipc.fork(() => ipc.execvp('sh', ['sh', '-c', 'read x; echo "out:$x"; echo err >&2']));
       process.exitCode = ipc.waitpid(pid).exitCode;`,
      'hello\n',
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'out:hello\n');
    assert.equal(run.stderr, 'err\n');
  });

  it("printf 'a\\nb\\nc\\n' | wc -l built from pipe, fork, dup2, close and execvp prints 3", () => {
    const run = runWithPackage(
      `const [r, w] = ipc.pipe();
       const printf = ipc.fork(() => { ipc.dup2(w, 1); ipc.close(r); ipc.close(w); ipc.execvp('printf', ['printf', 'a\\nb\\nc\\n']); });
       const wc = ipc.fork(() => { ipc.dup2(r, 0); ipc.close(r); ipc.close(w); ipc.execvp('wc', ['wc', '-l']); });
       ipc.close(r); ipc.close(w);
       process.exitCode = ipc.waitpid(printf).exitCode + ipc.waitpid(wc).exitCode;`,
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '3');
  });

  it("the example of docs/api.md, fork(() => execvp('wc', ['wc', '-l'])), counts its stdin", () => {
    const run = runWithPackage(
      `const pid = ipc.fork(() => ipc.execvp('wc', ['wc', '-l']));
       process.exitCode = ipc.waitpid(pid).exitCode;`,
      'one\ntwo\n',
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '2');
  });

  it('a failed execvp leaves close-on-exec on 0-2 as it was', () => {
    const run = runWithPackage(
      `const before = [0, 1, 2].map((fd) => ipc.fcntl(fd, ipc.F_GETFD));
       let code = '';
       try { ipc.execvp('no-such-program-here', ['x']); } catch (error) { code = error.code; }
       console.log(JSON.stringify({ code, same: [0, 1, 2].every((fd, i) => ipc.fcntl(fd, ipc.F_GETFD) === before[i]) }));`,
    );
    assert.deepEqual(JSON.parse(run.stdout), { code: 'ENOENT', same: true });
  });
});

describe('--trace', () => {
  it('prints every call of the demo to stderr, blocked calls as started, and leaves stdout byte-identical', () => {
    const run = runCli(['demo', '--trace']);
    assert.equal(run.status, 0);
    assert.equal(run.stdout, tutorialOutput());
    const lines = traceCalls(run.stderr).map((c) => `[${c.who}] ${c.text}`);
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    assert.equal(count(/^\[parent \d+\] pipe\(\) = \[\d+ parent_read, \d+ child_write\]$/), 1);
    assert.equal(count(/^\[parent \d+\] pipe\(\) = \[\d+ child_read, \d+ parent_write\]$/), 1);
    assert.equal(count(/^\[parent \d+\] fork\(\) = \d+$/), 1);
    assert.equal(count(/^\[child \d+\] fork\(\) = 0$/), 1);
    assert.equal(count(/^\[parent \d+\] write\(\d+ parent_write, "Parent message \d", 16\) = 16$/), 10);
    assert.equal(count(/^\[child \d+\] read\(\d+ child_read, "Parent message \d", 1024\) = 16$/), 10);
    assert.equal(count(/^\[child \d+\] write\(\d+ child_write, "Child echoing: Parent message \d", 31\) = 31$/), 10);
    assert.equal(count(/^\[parent \d+\] read\(\d+ parent_read, "Child echoing: Parent message \d", 1024\) = 31$/), 10);
    assert.equal(count(/^\[(parent|child) \d+\] write\(1 stdout, /), 20);
    assert.equal(count(/^\[parent \d+\] sleep\(100 ms\) = 0$/), 10);
    assert.equal(count(/^\[parent \d+\] close\(/), 4);
    assert.equal(count(/^\[child \d+\] close\(/), 4);
    assert.equal(count(/^\[parent \d+\] waitpid\(-1, 0\) = \d+ \(exited 0\)$/), 1);
    const parentCalls = 2 + 1 + 2 + 10 * 4 + 2 + 1; // pipes, fork, closes, 10 × (write, read, print, sleep), closes, wait
    const childCalls = 1 + 2 + 10 * 3 + 2; // fork, closes, 10 × (read, print, echo), closes
    // The child's end and the parent's SIGCHLD, as the kernel reports them to strace (when it can attach).
    const notices = missingStrace().length === 0 ? 2 : 0;
    assert.equal(count(/^\[child \d+\] \+\+\+ exited with 0 \+\+\+$/), notices / 2);
    assert.equal(
      count(
        /^\[parent \d+\] --- SIGCHLD \{si_code=CLD_EXITED, si_pid=\d+, si_status=0\} --- \(no handler: ignored by default\)$/,
      ),
      notices / 2,
    );
    assert.equal(lines.length, parentCalls + childCalls + notices, 'nothing else');
    // The child waits in read() for each message while the parent sleeps: shown as started.
    assert.match(run.stderr, /^\[child \d+\] read\(\d+ child_read, \.\.\.\) <unfinished \.\.\.>$/m);
    assert.match(run.stderr, /^\[child \d+\] <\.\.\. read resumed> "Parent message \d", 1024\) = 16$/m);
    assert.doesNotMatch(run.stderr, /\x1b\[/, 'no colour when stderr is not a terminal');
  });

  it('shows a failed call with its errno, and flags by name', () => {
    const run = runCli(['lesson', 'broken-pipe', '--trace']);
    assert.match(
      run.stderr,
      /^\[parent \d+\] write\(\d+ pipe1_write, "anyone there\?", 13\) = -1 EPIPE \(broken pipe\)$/m,
    );
    const flags = runCli(['lesson', 'cloexec', '--trace=pipe']);
    assert.match(flags.stderr, /^\[parent \d+\] pipe2\(O_CLOEXEC\) = \[\d+ pipe\d+_read, \d+ pipe\d+_write\]$/m);
  });

  it("--trace=CALLS shows only those calls; a lesson's own polling only with internal", () => {
    const run = runCli(['demo', '--trace=read,write', '--iterations', '2']);
    assert.equal(run.status, 0);
    const names = new Set(traceCalls(run.stderr).map((c) => c.text.split('(')[0]));
    assert.deepEqual([...names].sort(), ['read', 'write']);
    const quiet = runCli(['lesson', 'unclosed-ends', '--trace']);
    const loud = runCli(['lesson', 'unclosed-ends', '--trace=all']);
    const polls = (text: string) => text.split('\n').filter((l) => /waitpid\(\d+, WNOHANG\)/.test(l)).length;
    assert.equal(polls(quiet.stderr), 0, "the lesson's bounded waits are hidden");
    assert.ok(polls(loud.stderr) > 10, `shown when asked for: ${polls(loud.stderr)}`);
    assert.ok(quiet.stderr.split('\n').length < 40, `a readable trace: ${quiet.stderr.split('\n').length} lines`);
    assert.match(quiet.stderr, /read\(\d+ pipe1_read, \.\.\.\) <unfinished \.\.\.>/, 'the blocked read is shown');
  });

  it("pipe-capacity's stuck write appears in the trace as unfinished", () => {
    const run = runCli(['lesson', 'pipe-capacity', '--trace=write']);
    assert.equal(run.status, 0);
    assert.match(run.stderr, /^\[child \d+\] write\(\d+ pipe\d+_write, "a+"\.\.\., 262144\) <unfinished \.\.\.>$/m);
  });
});

describe('happens-before order', () => {
  it('over 20 runs, trace and diagram show each message written before it is read, each echo after its read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-'));
    const ITERATIONS = 3;
    const RUNS = 20;
    const AT_ONCE = 4; // runs side by side: a busy machine is where the order used to break
    const runOnce = (run: number) =>
      new Promise<void>((resolve, reject) => {
        const file = path.join(dir, `run${run}.md`);
        const args = [CLI, 'demo', '--trace=read,write', '--diagram', file, '--iterations', String(ITERATIONS)];
        execFile(process.execPath, args, { timeout: 60_000 }, (error, _stdout, stderr) => {
          if (error) return reject(error);
          try {
            const calls = traceCalls(stderr).filter((c) => !c.text.includes(' stdout'));
            const inTrace = (re: RegExp) => calls.findIndex((c) => re.test(`${c.who} ${c.text}`));
            const diagram = fs
              .readFileSync(file, 'utf8')
              .split('\n')
              .map((l) =>
                l.replace(
                  /^ *(\w+)->>(\w+): (\w+)/,
                  (_, from, to, call) =>
                    `${call === 'read' ? (to === 'P' ? 'parent' : 'child') : from === 'P' ? 'parent' : 'child'} ${call}`,
                ),
              );
            const inDiagram = (re: RegExp) => diagram.findIndex((l) => re.test(l));
            for (let i = 0; i < ITERATIONS; i++) {
              assertHappensBefore(inTrace, i, `run ${run}, trace`);
              assertHappensBefore(inDiagram, i, `run ${run}, diagram`);
            }
            resolve();
          } catch (failure) {
            reject(failure);
          }
        });
      });
    for (let first = 0; first < RUNS; first += AT_ONCE) {
      await Promise.all(Array.from({ length: AT_ONCE }, (_, k) => runOnce(first + k)));
    }
  });
});

describe('--diagram', () => {
  it('writes a Mermaid sequence diagram of the real run, with pipes as participants', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'diagram-')), 'run.md');
    const run = runCli(['demo', '--diagram', file]);
    assert.equal(run.status, 0);
    assert.equal(run.stdout, tutorialOutput());
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^```mermaid\nsequenceDiagram\n {4}participant P as Parent \(pid \d+\)\n/);
    assert.match(text, /create participant pipe1 as pipe 1 \(child_write → parent_read\)\n/);
    assert.match(text, /create participant C as Child \(pid \d+\)\n {4}P->>C: fork\(\) = \d+/);
    let sent = 0;
    let echoed = 0;
    for (let i = 0; i < 10; i++) {
      assert.match(
        text,
        new RegExp(`P->>pipe2: write 'Parent message ${i}' \\(16 bytes \\[${sent}, ${(sent += 16)}\\)\\)`),
      );
      assert.match(
        text,
        new RegExp(`pipe2->>C: read 'Parent message ${i}' \\(16 bytes \\[${sent - 16}, ${sent}\\)\\)`),
      );
      assert.match(
        text,
        new RegExp(
          `C->>pipe1: write 'Child echoing: Parent message ${i}' \\(31 bytes \\[${echoed}, ${(echoed += 31)}\\)\\)`,
        ),
      );
    }
    assert.equal(text.match(/Note over P: sleep 100 ms \(from \d+ ms\)/g)?.length, 10, 'sleeps carry their start');
    assert.match(text, /C-->>P: waitpid = \d+ \(exited 0\)/);
    assert.match(text, /```\n$/);
  });

  it('--iterations makes a shorter run; --diagram - writes to stdout', () => {
    const run = runCli(['demo', '--iterations', '3', '--diagram', '-']);
    assert.equal(run.status, 0);
    const [output, diagram] = run.stdout.split('```mermaid\n');
    assert.equal(output, tutorialOutput().split('\n').slice(0, 6).join('\n') + '\n');
    assert.equal(diagram.match(/->>pipe2: write/g)?.length, 3);
    assert.ok(diagram.split('\n').length < 45, `slide-sized: ${diagram.split('\n').length} lines`);
  });
});

describe('steps', () => {
  it('fdTable reads which descriptors are pipes, which pipe (inode) and which end, from /proc', () => {
    const [r, w] = pipe();
    const inode = fs.fstatSync(r).ino;
    const mine = () => fdTable(process.pid).pipes.filter((p) => p.inode === inode);
    assert.deepEqual(mine(), [
      { fd: r, inode, end: 'read' },
      { fd: w, inode, end: 'write' },
    ]);
    const pid = fork(() => {
      close(w);
      read(r, Buffer.alloc(1)); // held open until the parent closes its write end
    });
    const deadline = Date.now() + 5000;
    let child = fdTable(pid).pipes.filter((p) => p.inode === inode);
    while (child.length !== 1 && Date.now() < deadline) child = fdTable(pid).pipes.filter((p) => p.inode === inode);
    assert.deepEqual(child, [{ fd: r, inode, end: 'read' }]);
    close(w);
    assert.equal(waitpid(pid).exitCode, 0);
    close(r);
    assert.deepEqual(mine(), []);
  });

  it('after the first step prints only what changed: ends gained and lost, queued bytes, states (--full: all)', async () => {
    let text = '';
    const seen = await runSteps({ pause: false, out: (t) => (text += t) });
    let full = '';
    await runSteps({ pause: false, full: true, out: (t) => (full += t) });
    const parentTable = (t: string) => t.match(/^ {2}parent \(pid \d+\), state /gm)?.length ?? 0;
    assert.equal(parentTable(text), 1, "the parent's whole table once, at the first step");
    assert.equal(parentTable(full), seen.length, 'every table at every step with full');
    // Steps 2 to 6, each against what /proc and FIONREAD said before and after it.
    const sections = text.split(/^Step \d\. /m).slice(2, 7);
    sections.forEach((section, i) => {
      const [before, after] = [seen[i], seen[i + 1]];
      const tutorial = new Set(Object.values(after.inodes));
      for (const who of Object.keys(before.tables)) {
        const ends = (s: typeof before) =>
          (s.tables[who]?.pipes ?? []).filter((p) => tutorial.has(p.inode)).map((p) => p.fd);
        const lost = ends(before).filter((fd) => !ends(after).includes(fd));
        const block = new RegExp(`^ {2}${who} \\(pid \\d+\\) no longer holds:\n((?: {4}fd .*\n)+)`, 'm').exec(section);
        const listed = [...(block?.[1] ?? '').matchAll(/fd (\d+)/g)].map((m) => Number(m[1]));
        assert.deepEqual(listed.sort(), lost.sort(), `${who}, step ${i + 2}`);
      }
      for (const label of Object.keys(after.queued)) {
        const shown = new RegExp(`^ {2}pipe ${label}: .*\n +.*?(\\d+) bytes queued`, 'm').exec(section);
        if (after.queued[+label] !== before.queued[+label]) {
          assert.equal(Number(shown?.[1]), after.queued[+label], `pipe ${label} at step ${i + 2}: ${section}`);
        }
      }
    });
    // Step 4 writes into pipe 2 only: pipe 1, unchanged, is not printed again.
    assert.match(sections[2], /pipe 2: .*\n +1 writer\(s\), 1 reader\(s\); 16 bytes queued "Parent message 0"/);
    assert.doesNotMatch(sections[2], /pipe 1:/);
    assert.match(text, /^ {2}child \(pid \d+\): now state Z \(zombie/m);
    assert.ok(text.split('\n').length < full.split('\n').length * 0.75, 'shorter than every table at every step');
  });

  it('--predict: asks before each step, judges each answer against what the kernel showed after it', async () => {
    const given = ['4', '3', '1', '0', '31', '31', 'S'];
    let text = '';
    const seen = await runSteps({
      pause: false,
      predict: Readable.from(given.map((a) => `${a}\n`)),
      out: (t) => (text += t),
    });
    assert.equal(seen.length, 8, 'the whole walk');
    const tutorialEnds = (s: (typeof seen)[0], who: string) =>
      s.tables[who].pipes.filter((p) => Object.values(s.inodes).includes(p.inode)).length;
    const writers = (s: (typeof seen)[0]) =>
      Object.values(s.tables).filter((t) => t.pipes.some((p) => p.inode === s.inodes[1] && p.end === 'write')).length;
    const read = /the parent read (\d+) bytes/.exec(text)![1];
    const kernel = [
      String(tutorialEnds(seen[0], 'parent')),
      String(writers(seen[1])),
      String(writers(seen[2])),
      String(seen[3].queued[2]),
      String(seen[4].queued[1]),
      read,
      seen[6].states.child,
    ];
    const reveals = [
      ...text.replace(/\n {2}(?=\S)/g, ' ').matchAll(/The kernel: (.*?)\. You said "(.*?)": (right|not this time)\./g),
    ];
    assert.equal(reveals.length, 7, text);
    reveals.forEach((m, i) => {
      assert.equal(m[2], given[i]);
      assert.ok(m[1].includes(kernel[i]), `step ${i + 1}: the kernel's ${kernel[i]} in "${m[1]}"`);
      assert.equal(m[3], given[i] === kernel[i] ? 'right' : 'not this time', `step ${i + 1}: ${m[0]}`);
    });
    assert.deepEqual(
      reveals.map((m) => m[3] === 'right'),
      [true, false, true, false, true, true, false],
    );
  });

  it('--predict with piped answers ends cleanly when they run out, the stopped child killed', () => {
    const run = spawnSync(process.execPath, [CLI, 'steps', '--predict'], {
      input: '4\n2\n',
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(
      run.stdout,
      /Predict: How many processes will hold the write end of pipe 1 now\?\n {2}> \n {2}\(no more answers/,
    );
    const child = Number(/child \(pid (\d+)\)/.exec(run.stdout)![1]);
    assert.ok(!fs.existsSync(`/proc/${child}`) || processState(child) !== 'T', 'no child left stopped');
  });

  it('shows after each step who holds which end, the queued bytes, the process states', async () => {
    let text = '';
    const seen = await runSteps({ pause: false, out: (t) => (text += t) });
    const at = (step: string) => seen.find((s) => s.step === step)!;
    const ends = (step: string, who: string) => {
      const table = at(step).tables[who];
      return table ? table.pipes.filter((p) => p.fd > 2).length : -1;
    };
    assert.deepEqual(
      seen.map((s) => s.step),
      [
        'createPipe',
        'fork',
        'close unused ends',
        'parentProcess: write',
        'childProcess: read and echo',
        'parentProcess: read',
        'exited, not waited for',
        'wait',
      ],
    );
    assert.match(
      text,
      /pipe 1: \[parent\+child\] child_write ==> parent_read \[parent\+child\]\n +2 writer\(s\), 2 reader\(s\)/,
    );
    assert.match(text, /pipe 1: \[ +child\] child_write ==> parent_read \[parent\]/);
    assert.match(text, /pipe 2: \[ +parent\] parent_write ==> child_read \[child\]/);
    assert.match(text, /fd 0 +stdin/);
    assert.match(text, /lowest-free-number rule/);
    assert.match(text, /of the child now shows it set too:\n +one open file description/);
    // Bytes sit in the pipe between the write and the read, as FIONREAD counts them.
    assert.deepEqual(at('parentProcess: write').queued, { 1: 0, 2: 16 });
    assert.match(text, /16 bytes queued "Parent message 0"/);
    assert.deepEqual(at('childProcess: read and echo').queued, { 1: 31, 2: 0 });
    assert.deepEqual(at('parentProcess: read').queued, { 1: 0, 2: 0 });
    assert.equal(at('fork').states.child, 'T');
    assert.equal(at('exited, not waited for').states.child, 'Z');
    assert.match(text, /the parent read 31 bytes: "Child echoing: Parent message 0"/);
    assert.match(text, /wait: the child \d+ exited with status 0/);
    assert.match(text, /pipe 2: \[ +nobody\] parent_write ==> child_read \[nobody\]/);
    // Step 2: status flags are shared through the open file description, FD_CLOEXEC is not (fcntl(2)).
    assert.doesNotMatch(text, /so flags set through one are seen through the other/);
    assert.match(text, /FD_CLOEXEC on the same fd \(set in its own fdinfo\); the child's\n +fdinfo shows it not set/);
    // Step 7: with no holder left the pipes are freed: no descriptor of any process refers to them.
    const holders = (inode: number) =>
      fs
        .readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .flatMap((p) => {
          try {
            return fs
              .readdirSync(`/proc/${p}/fd`)
              .filter((fd) => fs.readlinkSync(`/proc/${p}/fd/${fd}`) === `pipe:[${inode}]`);
          } catch {
            return []; // gone, or not ours to read
          }
        });
    for (const inode of Object.values(at('wait').inodes)) assert.deepEqual(holders(inode), [], `pipe:[${inode}]`);
    assert.doesNotMatch(text, /With every write end closed, a read would return 0/);
    assert.match(text, /pipe 2: .*\n +no process holds either end: the kernel has freed the pipe/);
    // The tables really shrink by the two ends each process closed.
    assert.equal(ends('fork', 'child') - ends('close unused ends', 'child'), 2);
    assert.equal(ends('fork', 'parent') - ends('close unused ends', 'parent'), 2);
    assert.equal(ends('wait', 'child'), -1, 'the child is gone');
  });
});

describe('lessons', () => {
  const byName = Object.fromEntries(LESSONS.map((l) => [l.name, l]));
  const run = (name: string) => {
    let text = '';
    const result = byName[name].run((t) => (text += t));
    return { result, text };
  };

  it('lists all twenty-five', () => {
    const list = runCli(['lesson', '--list']);
    assert.equal(list.status, 0);
    const names = [
      'unclosed-ends',
      'no-framing',
      'pipe-capacity',
      'broken-pipe',
      'zombie',
      'partial-io',
      'raw-fork',
      'tutorial-myths',
      'pipeline',
      'cloexec',
      'atomic-writes',
      'copy-on-write',
      'fork-buffering',
      'orphan',
      'sigchld',
      'fifo',
      'socketpair',
      'poll-both-pipes',
      'nonblocking-writes',
      'popen',
      'pipe-barrier',
      'three-stage-pipeline',
      'no-zombies',
      'parent-death',
      'pass-a-descriptor',
    ];
    for (const name of names) assert.match(list.stdout, new RegExp(`^${name} `, 'm'));
    assert.equal(list.stdout.match(/^\S/gm)?.length, 25, 'one lesson a line; a long title goes on indented lines');
    assert.equal(runCli(['lesson', 'nope']).status, 2);
  });

  it('unclosed-ends: no EOF while the reader holds a write end; EOF once it closes it', () => {
    const { result } = run('unclosed-ends');
    assert.deepEqual(result, { mistakeStuck: true, pipeDescriptorsHeld: 2, fixExitCode: 0 });
  });

  it('no-framing: two writes come out of one read; frames keep them apart', () => {
    const { result } = run('no-framing');
    assert.deepEqual(result, {
      oneRead: 'Parent message 0Parent message 1',
      framed: ['Parent message 0', 'Parent message 1'],
    });
  });

  it('pipe-capacity: writing more than the capacity on both sides deadlocks; poll()ing both does not', () => {
    const { result, text } = run('pipe-capacity');
    assert.equal(result.capacity, 65536);
    assert.equal(result.reported, 65536);
    assert.equal(result.raised, result.maxSize, 'F_SETPIPE_SZ raised it to pipe-max-size');
    assert.doesNotMatch(text, /fixed amount/);
    // The default, not a constant: capped once a user passes pipe-user-pages-soft.
    const soft = fs.readFileSync('/proc/sys/fs/pipe-user-pages-soft', 'utf8').trim();
    assert.equal(result.softPages, Number(soft));
    assert.match(
      text,
      new RegExp(`That is the default, 16 pages; [^]*?pipe-user-pages-soft\\s+pages \\(${soft} here\\)`),
    );
    assert.equal(result.deadlocked, true);
    assert.deepEqual(result.fixExitCodes, [0, 0]);
  });

  it('broken-pipe: POLLERR first, EPIPE with SIGPIPE ignored, death by SIGPIPE at its default, restored before exec', () => {
    const { result, text } = run('broken-pipe');
    assert.deepEqual(result, {
      pollErr: true,
      errorCode: 'EPIPE',
      defaultActionSignal: 'SIGPIPE',
      shWroteAfter: false,
      execvpSurvived: true,
      restoredSignal: 'SIGPIPE',
      restoredSaid: '',
    });
    assert.doesNotMatch(text, /cannot know in advance/);
    assert.doesNotMatch(text, /a write to a pipe with no reader fails with EPIPE/);
    assert.match(text, /execve\(2\) keeps an ignored signal ignored/);
  });

  it('zombie: state Z until waitpid, gone after', () => {
    const { result } = run('zombie');
    assert.deepEqual(result, { stateBeforeWait: 'Z', exitCode: 0, goneAfterWait: true });
  });

  it('partial-io: short write and short read; loops move 1 MiB; streaming decode keeps UTF-8 whole', () => {
    const { result, text } = run('partial-io');
    assert.doesNotMatch(text, /returns short only when a signal interrupts it/);
    assert.doesNotMatch(text, /needs a write loop/);
    // A blocking write returns short both when a caught signal arrives and when the last reader closes.
    for (const n of [result.bySignal, result.byReaderGone] as number[]) assert.ok(n > 0 && n < 2 ** 20, `${n}`);
    assert.ok((result.oneWrite as number) < 2 ** 20);
    assert.ok((result.oneRead as number) < 2 ** 20);
    assert.equal(result.total, 2 ** 20);
    assert.match(result.naive as string, /\uFFFD/);
    assert.equal(result.fixed, 'héllo wörld €');
  });

  it("raw-fork: a bare fork's child dies by SIGSEGV; the package's fork runs the same code", () => {
    const { result } = run('raw-fork');
    assert.ok((result.dontforkMappings as number) > 0);
    assert.equal(result.bareSignal, 'SIGSEGV');
    assert.equal(result.forkExitCode, 6);
  });

  it('tutorial-myths: without the sleep the exchange stays in step; a 4-byte read leaves the rest queued', () => {
    const { result, text } = run('tutorial-myths');
    assert.doesNotMatch(text, /Claim \d: "/, 'no paraphrase in quotation marks as if the tutorial said it');
    assert.deepEqual(result, {
      inOrder: true,
      oneMessagePerRead: true,
      firstRead: 'Pare',
      queuedAfter: 12,
      rest: 'nt message 0',
    });
  });

  it('pipeline: ls | wc -l by hand counts what the shell counts; a kept write end hangs wc in read', () => {
    const { result } = run('pipeline');
    const shell = Number(spawnSync('sh', ['-c', 'ls | wc -l'], { encoding: 'utf8' }).stdout.trim());
    assert.equal(result.count, shell);
    assert.equal(result.shellCount, shell);
    assert.deepEqual(result.exitCodes, [0, 0]);
    assert.equal(result.hungState, 'S');
    assert.equal(result.lateCount, shell);
    assert.equal(result.lateExit, 0);
  });

  it('pipeline from the command line prints the count sh prints, in the same directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-'));
    for (let i = 0; i < 7; i++) fs.writeFileSync(path.join(dir, `f${i}`), '');
    const cli = spawnSync(process.execPath, [CLI, 'lesson', 'pipeline'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /wc -l printed 7; sh -c 'ls \| wc -l' in the same directory prints 7\./);
  });

  it("cloexec: a leaked write end in an exec'd program withholds EOF; O_CLOEXEC gives it at once", () => {
    const { result } = run('cloexec');
    // It holds both ends, read end first (pipe() gives the read end the lower number).
    assert.deepEqual(result, { leakedEof: false, leakedEnds: ['read', 'write'], fixedEof: true, fixedHeld: 0 });
  });

  it('atomic-writes: 4096-byte records never tear, 4097-byte ones may', () => {
    const { result, text } = run('atomic-writes');
    const pipeBuf = spawnSync('getconf', ['PIPE_BUF', '/'], { encoding: 'utf8' }).stdout.trim();
    assert.match(text, new RegExp(`PIPE_BUF is ${pipeBuf} on Linux \\(POSIX requires at least 512`));
    assert.match(byName['atomic-writes'].title, /4097-byte records may tear/);
    assert.equal(result.tornAt4096, 0);
    assert.equal(result.records, 800, 'every record arrived');
    assert.ok((result.tornAt4097 as number) > 0, 'longer records were torn');
  });

  it("copy-on-write: the child's private pages grow by the buffer only once it writes it", () => {
    const { result, text } = run('copy-on-write');
    assert.ok((result.beforeMiB as number) < 16, `before: ${result.beforeMiB} MiB`);
    // Shared, not the parent's: the child's Shared_Dirty holds the 64 MiB until it writes them.
    assert.ok((result.sharedBeforeMiB as number) >= 60, `shared before: ${result.sharedBeforeMiB} MiB`);
    assert.ok((result.sharedBeforeMiB as number) - (result.sharedAfterMiB as number) >= 60, 'no longer shared');
    assert.doesNotMatch(`${byName['copy-on-write'].title}\n${text}`, /copies no memory|still the parent's/);
    assert.ok((result.grownMiB as number) >= 60, `grown: ${result.grownMiB} MiB`);
    assert.equal(result.parentUnchanged, true);
    assert.equal(result.exitCode, 0);
  });

  it('fork-buffering: onto a terminal once; into a pipe twice; once with fflush before fork or _exit in the child', () => {
    const { result } = run('fork-buffering');
    assert.deepEqual(result, {
      terminal: { isatty: true, copies: 1 }, // script(1)'s pseudo-terminal: isatty() from the kernel
      copiesIntoPipe: 2,
      copiesWithFlush: 1,
      copiesWithChildExit: 1,
      childLineWithChildExit: false,
    });
  });

  it("orphan: the grandchild's parent becomes pid 1 or a subreaper once its parent has exited", () => {
    const { result, text } = run('orphan');
    assert.doesNotMatch(text, /double-fork/, 'a double fork does not tell a child that its parent died');
    assert.match(text, /PR_SET_PDEATHSIG/);
    assert.equal(result.parentBefore, result.childPid);
    assert.notEqual(result.parentAfter, result.childPid);
    assert.equal(result.adoptedByAncestor, true);
  });

  it('sigchld: three exits while blocked leave one pending SIGCHLD; one waitpid leaves two zombies, a loop none', () => {
    const { result, text } = run('sigchld');
    assert.doesNotMatch(
      text,
      /one handler call when it is unblocked|The mistake: a handler that calls waitpid once per signal\./,
    );
    assert.match(text, /No handler runs in this lesson/);
    assert.ok((result.threads as number) >= 1);
    assert.deepEqual(result, {
      threads: result.threads,
      othersBlockIt: true,
      allZombies: true,
      pendingWhileBlocked: true,
      reapedOnce: 1,
      zombiesLeft: 2,
      reapedInLoop: 2,
      left: 0,
    });
  });

  it('each lesson, plain and under --trace, runs from the command line, ends by itself, and exits 0', () => {
    for (const lesson of LESSONS) {
      for (const trace of [[], ['--trace']]) {
        // A bound for a loaded CI machine, far under the watchdog's; it ends a hung run.
        const cli = spawnSync(process.execPath, [CLI, 'lesson', lesson.name, ...trace], {
          encoding: 'utf8',
          timeout: 90_000,
          killSignal: 'SIGKILL',
        });
        const what = `lesson ${lesson.name} ${trace.join(' ')}`;
        assert.equal(cli.signal, null, `${what} ended by itself; stderr:\n${cli.stderr.slice(-2000)}`);
        assert.equal(cli.status, 0, `${what}: ${cli.stderr.slice(-2000)}`);
        if (trace.length === 0) assert.equal(cli.stderr, '', what);
        assert.match(cli.stdout, /The fix/);
      }
    }
  });
});

describe('docs/learn.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/learn.md'), 'utf8');

  it('names the wait channel this kernel shows for a blocked pipe write', () => {
    const [r, w] = pipe();
    const pid = fork(() => {
      close(r);
      try {
        for (;;) write(w, Buffer.alloc(65536)); // blocks once the pipe is full
      } catch {
        // EPIPE once the parent has seen where it blocks and closed the read end
      }
    });
    close(w);
    let where = '';
    const deadline = Date.now() + 5000;
    while (!/pipe/.test(where) && Date.now() < deadline) where = fs.readFileSync(`/proc/${pid}/wchan`, 'utf8');
    close(r); // the writer gets EPIPE (SIGPIPE is ignored) and ends
    waitpid(pid);
    assert.match(where, /pipe_write/);
    assert.ok(doc.includes(`\`${where}\``), `docs/learn.md names ${where}`);
  });

  it("a lesson's polling is hidden from --trace, as it says: lesson zombie --trace shows no sleep", () => {
    assert.match(doc, /hidden from `--trace` unless `--trace=internal`/);
    const run = runCli(['lesson', 'zombie', '--trace']);
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /\bsleep\(|WNOHANG/);
    assert.match(run.stderr, /waitpid\(\d+, 0\) = \d+ \(exited 0\)/, "the lesson's own waitpid is shown");
  });

  it('says no falsehood the issue found', () => {
    assert.doesNotMatch(doc, /returns short only on a signal/);
    assert.doesNotMatch(doc, /4097-byte ones do,/);
    assert.doesNotMatch(doc, /Every command ends by itself \(a lesson within a\s+few seconds\) and exits 0\./);
  });
});

describe('watchdog', () => {
  /** Whether /proc shows `pid` gone or a zombie, waiting for SIGKILL to take effect (at most 10 s). */
  const dies = (pid: number) => {
    const dead = () => {
      try {
        return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return true;
      }
    };
    const deadline = Date.now() + 10_000;
    while (!dead() && Date.now() < deadline) spawnSync('sleep', ['0.01']);
    return dead();
  };
  const reported = (stderr: string) =>
    [...stderr.matchAll(/^ {2}pid (\d+) \((\S+), parent (\d+)\): state (\w), in (\S+)$/gm)].map((m) => ({
      pid: Number(m[1]),
      ppid: Number(m[3]),
      state: m[4],
      where: m[5],
    }));

  it('past its bound, says what state the command is in (/proc) and ends it, not with 0', () => {
    // Its stdout is a full pipe that nobody reads: the lesson's first line blocks in write(2) for ever.
    const [r, w] = pipe(O_NONBLOCK);
    try {
      for (;;) write(w, Buffer.alloc(65536));
    } catch (error) {
      if (!isSyscallError(error, 'EAGAIN')) throw error;
    }
    fcntl(w, F_SETFL, 0); // blocking again, for the command
    const cli = spawnSync(process.execPath, [CLI, 'lesson', 'zombie'], {
      stdio: ['ignore', w, 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, BIDIRECTIONAL_IPC_WATCHDOG_MS: '500' },
    });
    close(r);
    close(w);
    assert.ok(cli.signal === 'SIGKILL' || cli.status === 137, `ended by ${cli.signal ?? cli.status}`);
    assert.match(cli.stderr, /^watchdog: `bidirectional-ipc lesson zombie` has not ended after 0\.5 s/m);
    // The command itself, as /proc shows it: here it retries its write to the full pipe (Node made
    // stdout non-blocking), so it runs rather than sleeps.
    const [main] = reported(cli.stderr);
    assert.equal(main.pid, cli.pid);
    assert.match(main.state, /^[RS]$/);
    assert.ok(dies(cli.pid));
  });

  it("kills the command's children too: pipe-capacity's two deadlocked writers", () => {
    // The lesson's mistake keeps two children blocked in write(2) for 700 ms: the bound ends it first.
    const cli = spawnSync(process.execPath, [CLI, 'lesson', 'pipe-capacity'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, BIDIRECTIONAL_IPC_WATCHDOG_MS: '500' },
    });
    assert.ok(cli.signal === 'SIGKILL' || cli.status === 137, `ended by ${cli.signal ?? cli.status}`);
    const processes = reported(cli.stderr);
    const writers = processes.filter((p) => p.ppid === cli.pid && /pipe_write/.test(p.where));
    assert.equal(writers.length, 2, cli.stderr);
    for (const p of processes) assert.ok(dies(p.pid), `pid ${p.pid} is gone`);
  });
});

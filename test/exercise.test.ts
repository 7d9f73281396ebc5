// `bidirectional-ipc exercise`: starters, reference solutions and the checks,
// run as a student runs them, in a scratch folder outside the repository.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { childrenOf, processState, wchan } from '../src/internal/proc';
import { EXERCISES, programText, type Language } from '../src/learn/exercises/index';
import { typeScriptFlags } from '../src/learn/exercises/observe';
import { CLI } from './helpers';

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bidirectional-ipc-student-'));
}

function exercise(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, 'exercise', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, COLUMNS: '80', ...env },
  });
}

/** A process's state letter; 'gone' once reaped. */
function stateOf(pid: number): string {
  try {
    return processState(pid);
  } catch {
    return 'gone';
  }
}

/**
 * Asserts that `pid` ends: gone, or a zombie until whoever reaps orphans here
 * does. A SIGKILL takes effect when the process next runs, which on a busy
 * machine is a while after kill() returned: wait for it, bounded.
 */
async function assertEnds(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/^(gone|Z)$/.test(stateOf(pid)) && Date.now() < deadline) await setTimeout(10);
  assert.match(stateOf(pid), /^(gone|Z)$/, `pid ${pid} has ended`);
}

function assertFits(text: string): void {
  for (const line of text.split('\n')) assert.ok(line.length <= 80, `fits 80 columns: ${line}`);
}

/** What the starter of each exercise must make the check say (the diagnosis's key words). */
const DIAGNOSIS: Record<string, RegExp[]> = {
  'close-unused-ends': [
    /child \d+ is blocked in read\(\) of fd \d+/,
    /write end is still held by[^:]*itself/,
    /end of file/,
  ],
  'ls-wc': [
    /wc \(pid \d+\) is blocked in read\(\)/,
    /ls \(pid \d+\) was exec'd holding fd \d+/,
    /the program[^.]*waitpid/,
  ],
  'no-deadlock': [/blocked in write\(\)[^.]*full/, /pipe_write/, /deadlock/],
  // Those not reaped are zombies by the program's end, or, on a busy machine, still running then.
  'reap-children': [/never reaped/, /in state Z, zombies: pid \d+,\s+\d+|were still running/],
  'frame-messages': [/returned 31 bytes at once/, /no boundaries/],
};

const TYPESCRIPT = typeScriptFlags() !== null;
const LANGUAGES: Language[] = TYPESCRIPT ? ['js', 'ts'] : ['js'];

describe('exercise --list, starters, usage', () => {
  it('lists every exercise with its task, one line each within 80 columns', () => {
    const r = exercise(['--list'], scratch());
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/)[0]),
      EXERCISES.map((e) => e.name),
    );
    for (const name of ['close-unused-ends', 'ls-wc', 'no-deadlock', 'reap-children', 'frame-messages'])
      assert.ok(
        lines.some((l) => l.startsWith(`${name} `)),
        name,
      );
    assertFits(r.stdout);
  });

  it('writes NAME.ts by default, NAME.js with --js, FILE with --out; each imports the package and has a TODO', () => {
    const dir = scratch();
    assert.equal(exercise(['ls-wc', '--js'], dir).status, 0);
    const out = exercise(['reap-children', '--out', 'mine.js', '--js'], dir);
    assert.equal(out.status, 0, out.stderr);
    assertFits(out.stdout);
    assert.match(
      fs.readFileSync(path.join(dir, 'ls-wc.js'), 'utf8'),
      /^const \{[^}]+\} = require\('bidirectional-ipc'\);$/m,
    );
    if (TYPESCRIPT) {
      assert.equal(exercise(['ls-wc'], dir).status, 0);
      assert.match(
        fs.readFileSync(path.join(dir, 'ls-wc.ts'), 'utf8'),
        /^import \{[^}]+\} from 'bidirectional-ipc';$/m,
      );
    }
    for (const file of [...(TYPESCRIPT ? ['ls-wc.ts'] : []), 'ls-wc.js', 'mine.js'])
      assert.match(fs.readFileSync(path.join(dir, file), 'utf8'), /TODO/);
  });

  it(
    TYPESCRIPT
      ? 'where Node runs TypeScript: --ts writes NAME.ts and a .ts file is checked'
      : 'where Node cannot run TypeScript: --ts and a .ts check refused, JavaScript by default',
    () => {
      const dir = scratch();
      fs.writeFileSync(path.join(dir, 'mine.ts'), 'console.log(1);\n');
      const check = exercise(['check', 'ls-wc', 'mine.ts'], dir);
      assertFits(check.stdout + check.stderr);
      const ts = exercise(['ls-wc', '--ts'], dir);
      if (TYPESCRIPT) {
        assert.equal(ts.status, 0, ts.stderr);
        assert.match(ts.stdout, /^wrote ls-wc\.ts: /);
        assert.equal(check.status, 1, 'checked, and not yet a pipeline');
        return;
      }
      assert.equal(check.status, 2);
      assert.match(check.stderr, /cannot run TypeScript; use --js/);
      assert.equal(ts.status, 2);
      assert.match(ts.stderr, /cannot run TypeScript; use --js/);
      assert.deepEqual(fs.readdirSync(dir), ['mine.ts'], 'no starter written');
      const byDefault = exercise(['ls-wc'], dir);
      assert.equal(byDefault.status, 0);
      assert.match(byDefault.stdout, /^wrote ls-wc\.js: .*\n\(JavaScript: Node \S+ cannot run TypeScript\)\n/);
    },
  );

  it('in a folder whose package.json sets "type", names the starter so that Node reads it as written', () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    assert.equal(exercise(['close-unused-ends'], dir).status, 0);
    assert.ok(fs.existsSync(path.join(dir, TYPESCRIPT ? 'close-unused-ends.mts' : 'close-unused-ends.js')));
    if (TYPESCRIPT) {
      const r = exercise(['check', 'close-unused-ends', 'close-unused-ends.mts'], dir);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      for (const words of DIAGNOSIS['close-unused-ends']) assert.match(r.stdout, words);
    }
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    assert.equal(exercise(['frame-messages', '--js'], dir).status, 0);
    const run = spawnSync(process.execPath, ['frame-messages.cjs'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    assert.match(run.stderr, /Cannot find module 'bidirectional-ipc'/); // read as CommonJS: its require() ran
  });

  it('refuses to overwrite a file (status 2, one line) and leaves it as it was', () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'no-deadlock.js'), 'my work\n');
    const r = exercise(['no-deadlock', '--js'], dir);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /no-deadlock\.js exists; not overwriting it/);
    assert.equal(fs.readFileSync(path.join(dir, 'no-deadlock.js'), 'utf8'), 'my work\n');
  });

  it('an unknown exercise, a missing file, a bad command line: status 2, one line', () => {
    const dir = scratch();
    for (const args of [
      ['nope'],
      ['check', 'nope', 'x.js'],
      ['check', 'ls-wc', 'missing.js'],
      ['check', 'ls-wc'],
      [],
      ['--bogus'],
    ]) {
      const r = exercise(args, dir);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assertFits(r.stderr);
      assert.equal(r.stdout, '');
    }
    assert.match(exercise(['nope'], dir).stderr, /no exercise 'nope'/);
  });

  it('check of a folder whose name ends in .js: status 2, one line, nothing run', () => {
    const dir = scratch();
    fs.mkdirSync(path.join(dir, 'solution.js'));
    const r = exercise(['check', 'ls-wc', 'solution.js'], dir);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /'solution\.js' is not a file/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });

  it("help exercise prints the command's usage within 80 columns", () => {
    const r = spawnSync(process.execPath, [CLI, 'help', 'exercise'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /exercise check NAME FILE/);
    assertFits(r.stdout);
  });
});

for (const language of LANGUAGES) {
  describe(`exercise check, ${language === 'ts' ? 'TypeScript' : 'JavaScript'}`, () => {
    for (const e of EXERCISES) {
      it(`${e.name}: the starter does not pass and the check says what the kernel saw`, () => {
        const dir = scratch();
        assert.equal(exercise([e.name, `--${language}`], dir).status, 0);
        const r = exercise(['check', e.name, `${e.name}.${language}`], dir);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^exercise ${e.name}: NOT YET$`, 'm'));
        for (const words of DIAGNOSIS[e.name]) assert.match(r.stdout, words);
        assertFits(r.stdout);
      });

      it(`${e.name}: the reference solution passes`, () => {
        const dir = scratch();
        const file = `${e.name}.${language}`;
        fs.writeFileSync(path.join(dir, file), programText(e, 'solution', language, file));
        const r = exercise(['check', e.name, file], dir);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^exercise ${e.name}: PASSED$`, 'm'));
        assertFits(r.stdout);
      });
    }
  });
}

describe('exercise check, bounded', () => {
  it('a program that never ends is killed at the bound with every process it forked, and the check says so', async () => {
    const dir = scratch();
    const pids = path.join(dir, 'pids');
    fs.writeFileSync(
      path.join(dir, 'spin.js'),
      "const { fork } = require('bidirectional-ipc');\n" +
        "const fs = require('node:fs');\n" +
        'const child = fork(() => { for (;;); });\n' +
        `fs.writeFileSync(${JSON.stringify(pids)}, process.pid + ' ' + child);\n` +
        'for (;;);\n',
    );
    const r = exercise(['check', 'reap-children', 'spin.js'], dir, { BIDIRECTIONAL_IPC_WATCHDOG_MS: '2000' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /still running after \d+\.\d s, the check's bound; the check killed it/);
    assert.match(r.stdout, /the program \(pid \d+\) is in state R/);
    for (const pid of fs.readFileSync(pids, 'utf8').split(' ').map(Number)) await assertEnds(pid);
  });
});

describe('exercise check, interrupted', () => {
  it('Ctrl-C (SIGINT) of the check ends the program it runs, which is in a process group of its own', async () => {
    const dir = scratch();
    const pidFile = path.join(dir, 'pid');
    fs.writeFileSync(
      path.join(dir, 'busy.js'),
      // Running, never blocked: only the 30 s bound would end it, long after the Ctrl-C below.
      `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));\n` + 'for (;;);\n',
    );
    const check = spawn(process.execPath, [CLI, 'exercise', 'check', 'ls-wc', 'busy.js'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const ended = once(check, 'exit');
    const deadline = Date.now() + 20_000;
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8') === '') {
      assert.ok(Date.now() < deadline, 'the program started');
      await setTimeout(20);
    }
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    check.kill('SIGINT');
    const [, signal] = await ended;
    assert.equal(signal, 'SIGINT');
    await assertEnds(pid);
  });
});

describe('the starters that hang, seen in /proc without the check', () => {
  // What the checks report for these starters, observed here from the kernel alone.
  const BLOCKED: Record<string, RegExp[]> = {
    'close-unused-ends': [/do_wait/, /pipe_read/], // the parent waits, the child reads
    'ls-wc': [/do_wait/, /pipe_read/], // the parent waits for ls then wc; wc reads (ls has ended)
    'no-deadlock': [/pipe_write/, /pipe_write/], // both write, neither reads
  };
  for (const [name, expected] of Object.entries(BLOCKED)) {
    it(`${name}: run by itself, its processes stay blocked in ${expected.map((e) => e.source).join(' and ')}`, async () => {
      const dir = scratch();
      fs.mkdirSync(path.join(dir, 'node_modules'));
      fs.symlinkSync(PACKAGE_ROOT, path.join(dir, 'node_modules', 'bidirectional-ipc'));
      const e = EXERCISES.find((x) => x.name === name)!;
      fs.writeFileSync(path.join(dir, 'starter.js'), programText(e, 'starter', 'js', 'starter.js'));
      const program = spawn(process.execPath, ['starter.js'], { cwd: dir, detached: true, stdio: 'ignore' });
      const ended = once(program, 'exit');
      const waits = () => {
        const pids = [program.pid!, ...childrenOf(program.pid!)];
        return pids.filter((pid) => stateOf(pid) === 'S').map((pid) => wchan(pid));
      };
      const matches = (seen: string[]) =>
        seen.length === expected.length && expected.every((re, i) => re.test(seen[i]));
      const deadline = Date.now() + 20_000;
      let seen = waits();
      while (!matches(seen) && Date.now() < deadline) {
        await setTimeout(20);
        seen = waits();
      }
      process.kill(-program.pid!, 'SIGKILL');
      await ended;
      assert.ok(matches(seen), `blocked in ${seen.join(', ')}`);
    });
  }
});

describe('a starter as a student runs it', () => {
  it("resolves 'bidirectional-ipc' from the folder's node_modules, outside the repository", () => {
    const dir = scratch();
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(PACKAGE_ROOT, path.join(dir, 'node_modules', 'bidirectional-ipc'));
    const e = EXERCISES.find((x) => x.name === 'frame-messages')!;
    for (const language of LANGUAGES) {
      const file = `${e.name}.${language}`;
      fs.writeFileSync(path.join(dir, file), programText(e, 'solution', language, file));
      const r = spawnSync(process.execPath, [...(language === 'ts' ? typeScriptFlags()! : []), file], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'message 1: hello\nmessage 2: a pipe keeps no boundaries\n');
    }
  });
});

/** Checks `source`, saved as NAME.js in a scratch folder, against exercise `name`. */
function checkProgram(name: string, source: string): SpawnSyncReturns<string> {
  const dir = scratch();
  fs.writeFileSync(path.join(dir, `${name}.js`), source);
  const r = exercise(['check', name, `${name}.js`], dir);
  assertFits(r.stdout);
  return r;
}

const IMPORTS = "const { _exit, close, fork, pipe, read, waitpid, write } = require('bidirectional-ipc');\n";

describe("exercise check, students' own programs", () => {
  it('reap-children: a program that forks no child does not pass', () => {
    const r = checkProgram('reap-children', "console.log('done');\n");
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /No fork\(\) of the program made a child/);
  });

  it('frame-messages: printing the messages without a pipe does not pass', () => {
    const r = checkProgram(
      'frame-messages',
      "console.log('message 1: hello');\nconsole.log('message 2: a pipe keeps no boundaries');\n",
    );
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /read\(\) calls of a child got 0 of the 31 bytes/);
  });

  it('no-deadlock: an echo of a message smaller than a pipe does not pass', () => {
    const r = checkProgram(
      'no-deadlock',
      IMPORTS +
        'const [a, b] = pipe();\nconst [c, d] = pipe();\n' +
        'const child = fork(() => {\n  close(b); close(c);\n  const buf = Buffer.alloc(65536);\n  let n;\n' +
        '  while ((n = read(a, buf)) > 0) write(d, buf.subarray(0, n));\n  close(d);\n});\n' +
        "close(a); close(d);\nwrite(b, Buffer.alloc(1000, 'x'));\nclose(b);\n" +
        'const buf = Buffer.alloc(65536);\nwhile (read(c, buf) > 0);\nwaitpid(child);\n',
    );
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /sent 1000 bytes/);
    assert.match(
      r.stdout.replace(/\s+/g, ' '),
      /no larger than its pipes hold together \(131072 bytes, 65536 \+ 65536 /,
    );
  });

  it('no-deadlock: pipes raised with F_SETPIPE_SZ to hold the whole message do not pass', () => {
    const r = checkProgram(
      'no-deadlock',
      IMPORTS.replace(' }', ', fcntl, F_SETPIPE_SZ }') +
        'const SIZE = 256 * 1024;\nconst [a, b] = pipe();\nconst [c, d] = pipe();\n' +
        'fcntl(b, F_SETPIPE_SZ, SIZE);\nfcntl(d, F_SETPIPE_SZ, SIZE);\n' +
        'const child = fork(() => {\n  close(b); close(c);\n  const buf = Buffer.alloc(65536);\n  let n;\n' +
        '  while ((n = read(a, buf)) > 0) { let s = 0; while (s < n) s += write(d, buf.subarray(0, n), s); }\n' +
        '  close(d);\n});\nclose(a); close(d);\n' +
        "const data = Buffer.alloc(SIZE, 'x');\nlet s = 0;\nwhile (s < SIZE) s += write(b, data, s);\nclose(b);\n" +
        'const buf = Buffer.alloc(65536);\nwhile (read(c, buf) > 0);\nwaitpid(child);\n',
    );
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /sent 262144 bytes/);
    assert.match(
      r.stdout.replace(/\s+/g, ' '),
      /no larger than its pipes hold together \(524288 bytes, 262144 \+ 262144 /,
    );
  });

  it('no-deadlock: a second child that sends while the program reads the echo passes', () => {
    const r = checkProgram(
      'no-deadlock',
      IMPORTS +
        'const SIZE = 1024 * 1024;\nconst [a, b] = pipe();\nconst [c, d] = pipe();\n' +
        'const echo = fork(() => {\n  close(b); close(c);\n  const buf = Buffer.alloc(65536);\n  let n;\n' +
        '  while ((n = read(a, buf)) > 0) { let s = 0; while (s < n) s += write(d, buf.subarray(0, n), s); }\n' +
        '  close(d);\n});\nclose(a); close(d);\n' +
        'const sender = fork(() => {\n  close(c);\n  const data = Buffer.alloc(SIZE, 120);\n' +
        '  let s = 0;\n  while (s < SIZE) s += write(b, data, s);\n  close(b);\n});\nclose(b);\n' +
        'const buf = Buffer.alloc(65536);\nwhile (read(c, buf) > 0);\nwaitpid(echo);\nwaitpid(sender);\n',
    );
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /sent 1048576 bytes/);
  });

  it('no-deadlock: a program that sends nothing is not told the echo came back', () => {
    const r = checkProgram('no-deadlock', "console.log('parent: sent 1048576 bytes, got 1048576 back');\n");
    assert.equal(r.status, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /whole echo came back/);
    assert.match(r.stdout, /sent nothing/);
  });

  it("close-unused-ends: a child that ends at poll()'s POLLHUP passes", () => {
    const r = checkProgram(
      'close-unused-ends',
      IMPORTS.replace(' }', ', poll, POLLIN }') +
        'const [r, w] = pipe();\n' +
        'const child = fork(() => {\n  close(w);\n  const buf = Buffer.alloc(4096);\n' +
        '  for (;;) {\n    const [p] = poll([{ fd: r, events: POLLIN }]);\n' +
        '    if (p.readable) read(r, buf);\n    else if (p.hangup) break;\n  }\n});\n' +
        "close(r);\nwrite(w, 'bytes');\nclose(w);\nwaitpid(child);\n",
    );
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /POLLHUP/);
  });

  it("close-unused-ends: a child's read() of end of file elsewhere than a pipe does not pass", () => {
    const r = checkProgram(
      'close-unused-ends',
      IMPORTS + 'waitpid(fork(() => { read(0, Buffer.alloc(16)); }));\n', // stdin: /dev/null
    );
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /No read\(\) of a child from a pipe returned 0/);
  });

  it('a program that prints 100000 lines: the diagnosis quotes a few of them', () => {
    for (const name of ['ls-wc', 'frame-messages']) {
      const r = checkProgram(name, "for (let i = 0; i < 100000; i++) console.log('line ' + i);\n");
      assert.equal(r.status, 1, r.stdout.slice(0, 2000));
      assert.ok(r.stdout.split('\n').length < 40, `${name}: ${r.stdout.split('\n').length} lines`);
      assert.match(r.stdout, /100000 lines/);
    }
  });

  it('a program that throws: the check quotes the error, not the line that threw', () => {
    const r = checkProgram('close-unused-ends', "throw new Error('boom');\n");
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /Its stderr says: Error: boom/);
  });

  it('a child left running when the program ends is reported as such and ended', async () => {
    const dir = scratch();
    const pidFile = path.join(dir, 'orphan');
    fs.writeFileSync(
      path.join(dir, 'orphan.js'),
      IMPORTS +
        'for (let i = 1; i <= 3; i++) waitpid(fork(() => _exit(i)));\n' +
        'const orphan = fork(() => { for (;;); });\n' +
        `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(orphan));\n`,
    );
    const r = exercise(['check', 'reap-children', 'orphan.js'], dir);
    assert.equal(r.status, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /the check's bound/);
    const orphan = fs.readFileSync(pidFile, 'utf8');
    assert.match(r.stdout, new RegExp(`Child ${orphan} was never reaped`));
    assert.match(r.stdout, new RegExp(`still running \\(pid ${orphan}\\)`));
    await assertEnds(Number(orphan));
  });
});

describe('exercise check, an ES module', () => {
  it("a .mjs program that imports 'bidirectional-ipc' runs and passes", () => {
    const dir = scratch();
    const solution = programText(EXERCISES[0], 'solution', 'js', 'solution.mjs');
    fs.writeFileSync(
      path.join(dir, 'solution.mjs'),
      solution.replace(
        /const \{ ([^}]+) \} = require\('bidirectional-ipc'\);/,
        "import { $1 } from 'bidirectional-ipc';",
      ),
    );
    const r = exercise(['check', EXERCISES[0].name, 'solution.mjs'], dir);
    assert.doesNotMatch(r.stdout, /ERR_MODULE_NOT_FOUND/);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe('exercise check, escapes', () => {
  it('a process the program started in a session of its own does not outlive the check', async () => {
    const dir = scratch();
    const pidFile = path.join(dir, 'escaped');
    fs.writeFileSync(
      path.join(dir, 'escape.js'),
      "const { spawn } = require('node:child_process');\n" +
        "const sleeper = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });\n" +
        `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(sleeper.pid));\n` +
        'sleeper.unref();\n',
    );
    const r = exercise(['check', 'reap-children', 'escape.js'], dir);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    await assertEnds(Number(fs.readFileSync(pidFile, 'utf8')));
  });

  it('nor does one started in a session of its own with an empty environment, by a child that ends', async () => {
    const dir = scratch();
    const pidFile = path.join(dir, 'escaped');
    fs.writeFileSync(
      path.join(dir, 'escape.js'),
      "const { spawn } = require('node:child_process');\n" +
        "const { fork, waitpid } = require('bidirectional-ipc');\n" +
        'const child = fork(() => {\n' +
        "  const sleeper = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore', env: {} });\n" +
        `  require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(sleeper.pid));\n` +
        '  process.exit(0);\n' +
        '});\n' +
        'waitpid(child);\n',
    );
    const r = exercise(['check', 'reap-children', 'escape.js'], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    await assertEnds(Number(fs.readFileSync(pidFile, 'utf8')));
  });
});

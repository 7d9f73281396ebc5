// The command line as people expect it: usage errors in one line with status
// 2, --version and help, options refused where they do not apply, --diagram
// checked before the demo runs, Ctrl-C in steps.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LESSONS } from '../src/learn/lessons/index';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { CLI, runCli, tutorialOutput } from './helpers';

const VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** A usage error: one line on stderr naming the problem, nothing on stdout, status 2. */
function assertUsageError(args: string[], line: string): void {
  const run = runCli(args);
  assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
  assert.equal(run.stdout, '', `${args.join(' ')}: nothing ran`);
  assert.equal(run.stderr, `bidirectional-ipc: ${line} (see --help)\n`);
}

/** The same for `view`, which names itself and its own --help. */
function assertViewUsageError(args: string[], line: string): void {
  const run = runCli(['view', ...args]);
  assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, `bidirectional-ipc view: ${line} (see view --help)\n`);
}

describe('command line', () => {
  it('an unknown option or command: one line, status 2', () => {
    assertUsageError(['--bogus'], "unknown option '--bogus'");
    assertUsageError(['demo', '--bogus'], "unknown option '--bogus'");
    assertUsageError(['-x'], "unknown option '-x'");
    assertUsageError(['bogus'], "unknown command 'bogus'");
    assertUsageError(['demo', 'extra'], "unexpected argument 'extra'");
    assertUsageError(
      ['--trace=bogus'],
      "unknown call 'bogus' in --trace (calls: pipe, fork, read, write, close, waitpid, _exit, sleep, dup, dup2, execvp, kill, poll, fcntl, bytesQueued, mkfifo, setParentDeathSignal, pidfdOpen, socketpair, shutdown, internal, all)",
    );
    assertUsageError(['--iterations', 'ten'], "--iterations: a whole number from 1 to 100000, not 'ten'");
    assertUsageError(['--iterations', '-1'], "--iterations: a whole number from 1 to 100000, not '-1'");
    assertUsageError(['help', 'bogus'], "unknown command 'bogus'");
    assertUsageError(['lesson', 'nope'], `lesson: no lesson 'nope' (lesson --list shows the ${LESSONS.length})`);
  });

  it('--version, -v, --help, -h and help', () => {
    for (const flag of ['--version', '-v']) {
      const run = runCli([flag]);
      assert.equal(run.status, 0);
      assert.equal(run.stdout, `bidirectional-ipc ${VERSION}\n`);
    }
    const help = runCli(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: bidirectional-ipc/);
    assert.equal(runCli(['-h']).stdout, help.stdout);
    assert.equal(runCli(['help']).stdout, help.stdout);
    assert.equal(runCli(['lesson', '--help']).stdout, help.stdout);
    assert.equal(runCli(['help', 'lesson']).stdout, help.stdout);
    const viewHelp = runCli(['help', 'view']);
    assert.equal(viewHelp.status, 0);
    assert.equal(viewHelp.stdout, runCli(['view', '--help']).stdout);
  });

  it('without its addon (installed with --ignore-scripts): one line naming the fix, status 1', () => {
    const run = spawnSync(process.execPath, [CLI], {
      encoding: 'utf8',
      env: { ...process.env, BIDIRECTIONAL_IPC_BUILD: path.join(PACKAGE_ROOT, 'no-such-build') },
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.split('\n').length, 2, run.stderr); // one line and its newline
    assert.match(run.stderr, /^bidirectional-ipc: the bidirectional-ipc addon is not built \(no .*no-such-build/);
    assert.match(run.stderr, /npm rebuild bidirectional-ipc/);
  });

  it('view: an unknown option, or one without its value, in the one line the other commands give', () => {
    const viewError = assertViewUsageError;
    viewError(['--bogus'], "unknown option '--bogus'");
    viewError(['demo', '-x'], "unknown option '-x'");
    viewError(['--html'], "option '--html' needs a value");
  });

  it('view --html and --json are checked before anything runs; --from with bad JSON names the file', () => {
    const viewError = assertViewUsageError;
    viewError(['--html', '/no/such/dir/page.html'], "--html: no directory '/no/such/dir'");
    viewError(['--json=/no/such/dir/run.json', '--html', '/tmp/x.html'], "--json: no directory '/no/such/dir'");
    viewError(['--html', '/tmp'], "--html: '/tmp' is a directory");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-test-'));
    try {
      const bad = path.join(scratch, 'bad.json');
      fs.writeFileSync(bad, '{ not json');
      const run = runCli(['view', '--from', bad, '--html', path.join(scratch, 'page.html')]);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr.split('\n').length, 2, run.stderr);
      assert.ok(run.stderr.startsWith(`bidirectional-ipc view: --from: ${bad} is not JSON (`), run.stderr);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('Ctrl-C during --trace leaves no temporary directory', { timeout: 30_000 }, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-trace-'));
    try {
      const child = spawn(process.execPath, [CLI, '--trace=write', '--iterations', '100000'], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.once('data', () => child.kill('SIGINT'));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
      clearTimeout(timer);
      assert.equal(signal, 'SIGINT');
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('an option that does not apply to the command is refused the same way for every command', () => {
    assertUsageError(['steps', '--json'], "option '--json' does not apply to 'steps'");
    assertUsageError(['demo', '--no-pause'], "option '--no-pause' does not apply to 'demo'");
    assertUsageError(['--no-pause'], "option '--no-pause' does not apply to 'demo'");
    assertUsageError(['compare', '--trace'], "option '--trace' does not apply to 'compare'");
    assertUsageError(['lesson', 'zombie', '--diagram', 'x.md'], "option '--diagram' does not apply to 'lesson'");
    assertUsageError(['steps', '--iterations', '2'], "option '--iterations' does not apply to 'steps'");
    assertUsageError(['compare', '--list'], "option '--list' does not apply to 'compare'");
  });

  it('--diagram PATH is checked before the demo runs', () => {
    assertUsageError(['--diagram', '/no/such/dir/run.md'], "--diagram: no directory '/no/such/dir'");
    assertUsageError(['--diagram', '/tmp'], "--diagram: '/tmp' is a directory");
    assertUsageError(['--diagram'], "option '--diagram' needs a value");
  });

  it('steps takes --trace', () => {
    const run = runCli(['steps', '--no-pause', '--trace=pipe,fork']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^\[parent \d+\] pipe\(\) = \[\d+ parent_read, \d+ child_write\]$/m);
    assert.match(run.stderr, /^\[child \d+\] fork\(\) = 0$/m);
  });

  it('demo --iterations N prints 2N lines', () => {
    const run = runCli(['--iterations', '2']);
    assert.equal(run.status, 0);
    assert.equal(run.stdout, tutorialOutput().split('\n').slice(0, 4).join('\n') + '\n');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it(
    'steps interrupted with Ctrl-C at a prompt exits 130 and leaves no stopped child',
    { skip: hasScript ? false : 'needs script (apt-get install bsdutils)', timeout: 20_000 },
    async () => {
      // script(1) gives steps a terminal, so it pauses for Enter; Ctrl-C is typed at the third prompt,
      // when the child exists and is stopped.
      const child = spawn('script', ['-qfec', `"${process.execPath}" "${CLI}" steps`, '/dev/null'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let prompts = 0;
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
        const seen = out.match(/\[Enter\] to go on/g)?.length ?? 0;
        if (seen > prompts) {
          prompts = seen;
          child.stdin.write(prompts < 3 ? '\r' : '\x03');
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      clearTimeout(timer);
      assert.equal(code, 130, out.slice(-500));
      const pid = Number(/child \(pid (\d+)\), state T/.exec(out)?.[1]);
      assert.ok(pid > 0, 'the child was there, stopped');
      assert.equal(fs.existsSync(`/proc/${pid}`), false, 'and it is gone');
    },
  );
});

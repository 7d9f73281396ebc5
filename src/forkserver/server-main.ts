// The fork server process: started by startForkServer() (client.ts) as a
// fresh Node, it loads the preload modules, waits until its event loop holds
// nothing but the control stream, then forks one child per request from that
// quiet state with the package's fork(), reaps each child and reports its
// exit. It ends when its creator does (end of the control stream), killing
// the children still running, or on request once its children have ended.
// First: it takes gc before anything else loads (server-gc.ts says why).
import { collectGarbage } from './server-gc';
import { Socket } from 'node:net';
import { packageError } from '../errors';
import { fork, prepareFork } from '../fork';
import { waitExit } from '../io';
import { MSG_DONTWAIT, recvmsg } from '../socket';
import {
  _exit,
  close,
  dup2,
  getppid,
  kill,
  O_CLOEXEC,
  O_NONBLOCK,
  pipe,
  read,
  setParentDeathSignal,
  write,
} from '../syscalls';
import {
  CONTROL_FD,
  DESCRIPTOR_FD,
  splitLines,
  toWire,
  type Reply,
  type Request,
  type ServerSettings,
  type WireError,
} from './protocol';

const settings = JSON.parse(process.argv[2]) as ServerSettings;
const serverPid = process.pid;

/**
 * Makes the kernel kill this process when `parent` ends (PR_SET_PDEATHSIG),
 * however busy it is then; exits at once if `parent` has already ended (the
 * setting only covers a death after it).
 */
function dieWithParent(parent: number): void {
  setParentDeathSignal('SIGKILL');
  if (getppid() !== parent) _exit(1);
}
const control = new Socket({ fd: CONTROL_FD, readable: true, writable: true });
/** Running children, each with the read end of the pipe its job's error comes back on. */
const running = new Map<number, number>();
let closing = false;
/** Set in a forked child: it stops doing the server's work at once. */
let inChild = false;

function reply(message: Reply): void {
  if (!inChild) control.write(`${JSON.stringify(message)}\n`);
}

/** Where each specifier resolved (resolving with `paths` redoes the lookup on every call). */
const resolved = new Map<string, string>();

/**
 * Loads a module the way the caller named it, resolved from the server's
 * working directory (the caller's) once: like require()'s own cache, a
 * module loaded stays the one the server runs.
 */
function load(specifier: string): Record<string, unknown> {
  let file = resolved.get(specifier);
  if (file === undefined) {
    file = require.resolve(specifier, { paths: [process.cwd()] });
    resolved.set(specifier, file);
  }
  return require(file);
}

/** Settles once the event loop has nothing pending but the control stream, or rejects after `timeoutMs`. */
function quiet(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      // Inside an immediate: the check itself is not among the resources listed.
      const pending = process.getActiveResourcesInfo();
      const control = pending.indexOf('PipeWrap');
      if (control !== -1) pending.splice(control, 1);
      if (pending.length === 0) return resolve();
      if (Date.now() >= deadline) {
        return reject(
          packageError(
            'ERR_FORK_SERVER_NOT_QUIET',
            `the fork server still had work pending ${timeoutMs} ms after its preload: ${pending.join(', ')}. ` +
              'Children forked now would inherit it; make the preload modules finish their work in init().',
          ),
        );
      }
      setTimeout(() => setImmediate(check), 5);
    };
    setImmediate(check);
  });
}

/**
 * An init() whose promise nothing left in the server can settle: the loop
 * ran dry while it was awaited (the control stream does not count then).
 */
function initNeverSettles(specifier: string): Error {
  return packageError(
    'ERR_FORK_SERVER_INIT_STUCK',
    `the init() of preload '${specifier}' returned a promise that nothing left in the fork server ` +
      'can settle: no timer, I/O or other work was pending when the server ran out of work',
  );
}

async function start(): Promise<void> {
  // The engine fork() needs, loaded first: a Node it cannot serve fails the start with its reason.
  prepareFork();
  let initOf: string | null = null;
  const stuck = (): void => {
    if (initOf !== null) startFailed(initNeverSettles(initOf));
  };
  control.unref();
  process.on('beforeExit', stuck);
  try {
    for (const specifier of settings.preload) {
      const loaded = load(specifier);
      initOf = specifier;
      if (typeof loaded.init === 'function') await (loaded.init as () => unknown)();
      initOf = null;
    }
  } finally {
    process.off('beforeExit', stuck);
    control.ref();
  }
  await quiet(settings.quietTimeoutMs);
  collectGarbage();
}

/** Reports why the server could not start, and ends it once the report is sent. */
function startFailed(error: unknown): void {
  reply({ type: 'start-failed', error: toWire(error) });
  control.end(() => _exit(1));
}

/** The error a job threw, as its child reports it (at most one pipe buffer, so the write never blocks). */
function reportThrown(fd: number, error: unknown): void {
  const wire = toWire(error);
  let text = JSON.stringify(wire);
  if (text.length > 3000)
    text = JSON.stringify({ ...wire, stack: wire.stack?.slice(0, 2000), message: wire.message.slice(0, 500) });
  write(fd, text);
}

function readThrown(fd: number): WireError | null {
  const buffer = Buffer.alloc(4096);
  let text = '';
  try {
    for (let n; (n = read(fd, buffer)) > 0;) text += buffer.toString('utf8', 0, n);
  } catch {
    // EAGAIN: the child wrote nothing more (it holds no write end any longer)
  }
  close(fd);
  return text.length > 0 ? (JSON.parse(text) as WireError) : null;
}

/**
 * In the child, just after fork(): take the request's stdio, drop the
 * server's descriptors, run the job. Only children run it, so the parentheses
 * make V8 compile it when this module loads, in the server: otherwise each
 * child would compile it anew (fork.ts's afterFork says more).
 */
// prettier-ignore
const becomeChild = (function becomeChild(
  job: (...args: unknown[]) => unknown,
  request: Extract<Request, { type: 'fork' }>,
  stdio: number[],
  thrownFd: number,
): void {
  inChild = true;
  dieWithParent(serverPid);
  close(DESCRIPTOR_FD);
  for (const fd of running.values()) close(fd);
  running.clear();
  stdio.forEach((fd, target) => dup2(fd, target));
  for (const fd of stdio) if (fd > 2) close(fd);
  if (request.env !== null) {
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, request.env);
  }
  // The child ends as `node job.js` would: once the job has settled and its
  // event loop is empty, so output still queued on a pipe is written first.
  Promise.resolve()
    .then(() => job(...request.args))
    .then(
      () => close(thrownFd),
      (error: unknown) => {
        process.exitCode = 1;
        process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
        reportThrown(thrownFd, error);
        close(thrownFd);
      },
    );
});

function refuse(id: number, error: unknown, fds: number[]): void {
  for (const fd of fds) close(fd);
  reply({ type: 'refused', id, error: toWire(error) });
}

/** One fork request; returns false in the child, which then stops reading requests. */
function handleFork(request: Extract<Request, { type: 'fork' }>): boolean {
  let stdio: number[] = [];
  if (request.fds > 0) {
    const buffer = Buffer.alloc(32);
    const received = recvmsg(DESCRIPTOR_FD, buffer, request.fds, MSG_DONTWAIT);
    stdio = received.fds;
    const id = Number(buffer.toString('utf8', 0, received.bytesRead));
    if (id !== request.id || stdio.length !== request.fds) {
      refuse(
        request.id,
        packageError('ERR_FORK_SERVER_PROTOCOL', `descriptors for request ${id}, expected ${request.id}`),
        stdio,
      );
      return true;
    }
  }
  if (closing) {
    refuse(request.id, packageError('ERR_FORK_SERVER_CLOSED', 'the fork server is closing'), stdio);
    return true;
  }
  let job: unknown;
  try {
    const loaded = load(request.module);
    const name = request.export ?? 'default';
    // An export is the module's own property: not one every object inherits (toString, constructor).
    job =
      request.export === null && typeof loaded === 'function'
        ? loaded
        : Object.hasOwn(loaded, name)
          ? loaded[name]
          : undefined;
    if (typeof job !== 'function') {
      throw packageError(
        'ERR_FORK_SERVER_NO_EXPORT',
        `module '${request.module}' has no function export named '${name}'` +
          (job === undefined ? '' : ` (it is of type ${typeof job})`),
      );
    }
  } catch (error) {
    refuse(request.id, error, stdio);
    return true;
  }
  let thrown: [number, number];
  let pid: number;
  try {
    thrown = pipe(O_CLOEXEC | O_NONBLOCK);
  } catch (error) {
    refuse(request.id, error, stdio);
    return true;
  }
  try {
    pid = fork();
  } catch (error) {
    close(thrown[0]);
    close(thrown[1]);
    refuse(request.id, error, stdio);
    return true;
  }
  if (pid === 0) {
    close(thrown[0]);
    becomeChild(job as (...args: unknown[]) => unknown, request, stdio, thrown[1]);
    return false;
  }
  for (const fd of stdio) close(fd);
  close(thrown[1]);
  running.set(pid, thrown[0]);
  reply({ type: 'forked', id: request.id, pid });
  waitExit(pid).then(
    (status) => {
      // A child forked while this reaction was queued has it too (fork()
      // keeps pending promise reactions): only the server reports.
      if (inChild) return;
      const thrownFd = running.get(pid)!;
      running.delete(pid);
      reply({ type: 'exit', id: request.id, pid, status: status.status, thrown: readThrown(thrownFd) });
      if (closing && running.size === 0) finish();
    },
    (error: unknown) => {
      if (inChild) return;
      // ECHILD cannot happen for a child of ours; if it does, say so rather than hang.
      process.stderr.write(`fork server: waiting for ${pid} failed: ${String(error)}\n`);
      _exit(70);
    },
  );
  return true;
}

/** kill(2), for a child that may have ended since (ESRCH is then no error). */
function signal(pid: number, sig: number | string): void {
  try {
    kill(pid, sig);
  } catch {
    // already gone
  }
}

function finish(): void {
  control.end(() => _exit(0));
}

function handle(message: unknown): boolean {
  if (inChild) return false;
  const request = message as Request;
  if (request.type === 'fork') return handleFork(request);
  if (request.type === 'close') {
    closing = true;
    if (request.signal !== null) for (const pid of running.keys()) signal(pid, request.signal);
    if (running.size === 0) finish();
  }
  return true;
}

dieWithParent(settings.creator);

// The caller sends no request before 'ready'.
let partial = '';
control.on('data', (chunk: Buffer) => {
  partial = splitLines(partial, chunk, handle);
});
// The creator has ended (or closed its end): so does the server, and with it
// every child still running, which nobody is left to read or reap.
control.on('end', () => {
  for (const pid of running.keys()) signal(pid, 'SIGKILL');
  _exit(0);
});
control.on('error', () => _exit(0));

start().then(
  () => {
    reply({ type: 'ready', pid: process.pid });
  },
  (error: unknown) => startFailed(error),
);

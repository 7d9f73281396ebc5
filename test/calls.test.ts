// src/calls.ts describes each native call once; these hold the addons
// (native/exports.h's lists) and the wrappers to that description.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CALLS, callsOf, CONSTANTS, type TracedCall } from '../src/calls';
import * as ipc from '../src/index';
import { forkEngine, native, nativeInternals } from '../src/native';
import { inChild } from './helpers';

describe('the export objects hold the calls src/calls.ts describes', () => {
  it('the core addon: its calls, its internal calls and its constants', () => {
    assert.deepEqual(Object.keys(native).sort(), [...callsOf('core', false), 'checkedUv', 'constants'].sort());
    assert.deepEqual(Object.keys(native.constants).sort(), [...CONSTANTS].sort());
    for (const value of Object.values(native.constants)) assert.equal(typeof value, 'number');
    for (const name of callsOf('core', true)) {
      assert.equal(typeof nativeInternals[name as keyof typeof nativeInternals], 'function', name);
    }
  });

  it('the fork engine: its calls and its internal calls', () => {
    const engine = forkEngine();
    assert.deepEqual(Object.keys(engine).sort(), [...callsOf('engine', false), 'builtFor', 'internal'].sort());
    assert.deepEqual(Object.keys(engine.internal).sort(), callsOf('engine', true).sort());
  });
});

/**
 * One call of each traced name through the package's functions: `watch()`
 * installs the tracer just before it. Typed by the description, so a call
 * described as traced needs an entry here.
 */
const MAKE: Record<TracedCall, (watch: () => void) => void> = {
  pipe: (watch) => {
    watch();
    ipc.pipe();
  },
  fork: (watch) => {
    watch();
    ipc.waitpid(ipc.fork(() => ipc._exit(0)));
  },
  read: (watch) => {
    const [r, w] = ipc.pipe();
    ipc.write(w, 'x');
    watch();
    ipc.read(r, Buffer.alloc(1));
  },
  write: (watch) => {
    const [, w] = ipc.pipe();
    watch();
    ipc.write(w, 'x');
  },
  close: (watch) => {
    const [r] = ipc.pipe();
    watch();
    ipc.close(r);
  },
  waitpid: (watch) => {
    const pid = ipc.fork(() => ipc._exit(0));
    watch();
    ipc.waitpid(pid);
  },
  _exit: (watch) => {
    watch();
    ipc._exit(0);
  },
  sleep: (watch) => {
    watch();
    ipc.sleep(0);
  },
  dup: (watch) => {
    watch();
    ipc.dup(0);
  },
  dup2: (watch) => {
    watch();
    ipc.dup2(0, 0);
  },
  execvp: (watch) => {
    watch();
    ipc.execvp('true', ['true']);
  },
  kill: (watch) => {
    watch();
    ipc.kill(ipc.getpid(), 0);
  },
  poll: (watch) => {
    watch();
    ipc.poll([], 0);
  },
  fcntl: (watch) => {
    watch();
    ipc.fcntl(0, ipc.F_GETFD);
  },
  bytesQueued: (watch) => {
    const [r] = ipc.pipe();
    watch();
    ipc.bytesQueued(r);
  },
  mkfifo: (watch) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calls-'));
    watch();
    ipc.mkfifo(path.join(dir, 'fifo'), 0o600);
  },
  setParentDeathSignal: (watch) => {
    watch();
    ipc.setParentDeathSignal(0);
  },
  pidfdOpen: (watch) => {
    watch();
    ipc.close(ipc.pidfdOpen(ipc.getpid()));
  },
  socketpair: (watch) => {
    watch();
    ipc.socketpair();
  },
  sendmsg: (watch) => {
    const [a] = ipc.socketpair();
    watch();
    ipc.sendmsg(a, 'x');
  },
  recvmsg: (watch) => {
    const [a, b] = ipc.socketpair();
    ipc.sendmsg(a, 'x');
    watch();
    ipc.recvmsg(b, Buffer.alloc(1));
  },
  shutdown: (watch) => {
    const [a] = ipc.socketpair();
    watch();
    ipc.shutdown(a, ipc.SHUT_WR);
  },
};

describe('the tracer sees the calls src/calls.ts marks traced, by their names', () => {
  for (const [name, make] of Object.entries(MAKE)) {
    it(name, () => {
      // In a child of its own: _exit and execvp end it. The first event the
      // tracer sees after watch() is reported (untraced) and the tracer removed.
      const child = inChild((report) => {
        let first = true;
        make(() =>
          ipc.setTracer((event) => {
            ipc.setTracer(null);
            if (first) report(`${event.phase} ${event.call}`);
            first = false;
          }),
        );
      });
      assert.equal(child.report, `start ${name}`);
      assert.equal(child.status.exitCode, 0);
    });
  }

  it('and not the calls it marks untraced', () => {
    const untraced = Object.entries(CALLS).filter(([, call]) => call.trace === 'none');
    const made: string[] = [];
    const events: ipc.TraceEvent[] = [];
    ipc.setTracer((event) => events.push(event));
    try {
      for (const [name] of untraced) {
        const call = (ipc as Record<string, unknown>)[name];
        if (typeof call !== 'function' || call.length !== 0) continue;
        call();
        made.push(name);
      }
    } finally {
      ipc.setTracer(null);
    }
    assert.deepEqual(made, ['getpid', 'getppid']);
    assert.deepEqual(events, []);
  });
});

// Loads the addon and types it: one member per native call.
import bindings from 'bindings';

/** The addon as built from native/, before any argument validation. */
export interface NativeModule {
  pipe(flags: number): [number, number];
  fork(onChildIdle: (phase: 'beforeExit' | 'exit') => void, keepFds?: number[]): number;
  read(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  write(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  close(fd: number): void;
  waitpid(pid: number, options: number): [number, number];
  _exit(code: number): never;
  getpid(): number;
  getppid(): number;
  sleep(milliseconds: number): void;
  setErrorClass(errorClass: new (message: string) => Error): void;
  /** fork(2) alone, for the raw-fork lesson: the child cannot run JavaScript. */
  bareFork(): number;
  childStdioReopened(): number[];
  stdioPendingBytes(moreFds?: number[]): number;
  dontforkRegionCount(): number;
  constants: {
    O_CLOEXEC: number;
    O_NONBLOCK: number;
    WNOHANG: number;
    WUNTRACED: number;
    WCONTINUED: number;
  };
}

function load(): NativeModule {
  if (process.platform !== 'linux') {
    throw new Error(
      `bidirectional-ipc supports Linux only; this is ${process.platform}. ` +
        'Its fork() depends on Linux madvise(2) flags and /proc.',
    );
  }
  // BIDIRECTIONAL_IPC_ADDON names another build of the addon, such as the
  // sanitizer build that `npm run test:sanitize` loads.
  const override = process.env.BIDIRECTIONAL_IPC_ADDON;
  if (override) return require(override) as NativeModule;
  try {
    // Where node-gyp puts it in this package: found without a search.
    return require('../../build/Release/bidirectional_ipc.node') as NativeModule;
  } catch {
    return bindings('bidirectional_ipc'); // other layouts (Debug builds, other tools)
  }
}

export const native: NativeModule = load();

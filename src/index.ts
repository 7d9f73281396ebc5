// The package's public face: the system calls, fork and its hooks, the error class.
export {
  pipe,
  read,
  write,
  close,
  waitpid,
  wait,
  _exit,
  getpid,
  getppid,
  sleep,
  dup,
  dup2,
  execvp,
  kill,
  poll,
  fcntl,
  bytesQueued,
  decodeWaitStatus,
  signalName,
  O_CLOEXEC,
  O_NONBLOCK,
  WNOHANG,
  WUNTRACED,
  WCONTINUED,
  F_GETFL,
  F_SETFL,
  F_GETFD,
  F_SETFD,
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  FD_CLOEXEC,
  POLLIN,
  POLLOUT,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  setParentDeathSignal,
  pidfdOpen,
} from './syscalls';
export type { WaitStatus, PollFd, PollResult } from './syscalls';
export * from './socket';
export * from './forkserver';
export { setTracer } from './tracer';
export type { TraceEvent, Tracer } from './tracer';
export { fork, prepareFork, registerAtFork } from './fork';
export type { ForkHooks, ForkKeepable, ForkOptions } from './fork';
export { SyscallError, isSyscallError } from './errors';
export type { ArgumentError } from './errors';
export { OwnedFd, PipeReader, PipeWriter, waitExit } from './io';
export type { PipeStreamOptions } from './io';

// TypeScript re-exports each name above through a getter, and that many
// getters put this module's exports object in V8's dictionary mode: every
// `ipc.read(...)` would look `read` up by hash and call a getter. The same
// values as plain properties of one object literal load as fast as a local.
module.exports = Object.defineProperty({ ...module.exports }, '__esModule', { value: true });

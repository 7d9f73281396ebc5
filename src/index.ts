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
  decodeWaitStatus,
  signalName,
  setTracer,
  O_CLOEXEC,
  O_NONBLOCK,
  WNOHANG,
  WUNTRACED,
  WCONTINUED,
} from './syscalls';
export type { WaitStatus, TraceEvent, Tracer } from './syscalls';
export { fork, registerAtFork } from './fork';
export type { ForkHooks, ForkKeepable, ForkOptions } from './fork';
export { SyscallError } from './errors';
export type { ArgumentError } from './errors';

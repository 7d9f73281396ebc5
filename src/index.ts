// The package's public face: the system calls, fork and its hooks, the error class.
export * from './syscalls';
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
// Set through `module`, not by `module.exports =`: Node finds the names an
// `import { ... }` may take by lexing this file, and an assignment it sees
// there drops every name of the `export *` lines.
Object.assign(module, { exports: Object.defineProperty({ ...module.exports }, '__esModule', { value: true }) });

// Using fork in real programs: event-loop I/O on pipe ends, owned
// descriptors, and awaiting a child's exit.
export { OwnedFd } from './owned';
export { PipeReader, PipeWriter } from './pipe-stream';
export type { PipeStreamOptions } from './pipe-stream';
export { waitExit } from './child';

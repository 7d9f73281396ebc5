// A wait that makes no traced call, for the tools' own waiting (a read that
// waits for its writer's line to be printed, steps waiting for a zombie):
// --trace and the web view show the program's calls, not the tools'.

/** Blocks the thread for `ms` milliseconds without a system call of the package. */
export function untracedSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

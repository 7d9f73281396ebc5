// "Bidirectional Inter-Process Communication with Pipes in Rust using libc",
// step 2 (src/main.rs), function for function, on this package's system calls.
//
// Where the Rust program writes `unsafe { libc::call(...) }`, this one calls the
// same function of the package, and the kernel sees the same calls in the same
// order: pipe, pipe, fork, close, close, then write/read/nanosleep in the
// parent and read/write in the child, close, close, wait4. Two differences are
// deliberate and marked: a failed call throws a SyscallError (the Rust program
// ignores the results of write and read), and parentProcess returns the status
// that wait() reports (the Rust program drops it).
import { close, fork, pipe, read, sleep, wait, write, type WaitStatus } from '../index';
import { writeAll } from '../internal/io-loops';

/** `const ITERATIONS: usize = 10;` */
export const ITERATIONS = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true }); // from_utf8(..).unwrap()

/** `println!`: the line and its newline in one write(2) to fd 1, retried until whole. */
function println(line: string): void {
  writeAll(1, `${line}\n`);
}

/** What main() did in this process: the parent also learns how the child ended. */
export type Outcome = { role: 'child' } | { role: 'parent'; child: WaitStatus };

/**
 * `fn main() -> Result<()>`. `iterations` is the tutorial's ITERATIONS unless
 * a shorter run is asked for (`--iterations`, for a slide-sized diagram).
 */
export function main(iterations: number = ITERATIONS): Outcome {
  // Step 2: two pipes, one for each direction.
  const [parentRead, childWrite] = createPipe();
  const [childRead, parentWrite] = createPipe();

  // Step 2: `match unsafe { libc::fork() }` (-1 is thrown as a SyscallError).
  const pid = fork();
  if (pid === 0) {
    // Child process: close the parent's ends, then echo.
    close(parentRead);
    close(parentWrite);
    childProcess(childRead, childWrite, iterations);
    return { role: 'child' };
  }
  // Parent process: close the child's ends, then talk.
  close(childRead);
  close(childWrite);
  return { role: 'parent', child: parentProcess(parentRead, parentWrite, iterations) };
}

/** `fn create_pipe() -> Result<(RawFd, RawFd)>`: pipe(2), read end first. */
export function createPipe(): [readFd: number, writeFd: number] {
  return pipe();
}

/** `fn parent_process(read_fd, write_fd)`: send, read the echo, sleep; then close and wait. */
export function parentProcess(readFd: number, writeFd: number, iterations: number = ITERATIONS): WaitStatus {
  const buf = new Uint8Array(1024);
  for (let i = 0; i < iterations; i++) {
    const message = `Parent message ${i}`;
    write(writeFd, message);
    const bytesRead = read(readFd, buf);
    if (bytesRead > 0) {
      const received = utf8.decode(buf.subarray(0, bytesRead));
      println(`Parent received: ${received}`);
    }
    sleep(100); // thread::sleep(Duration::from_millis(100))
  }

  close(readFd);
  close(writeFd);
  return wait(); // libc::wait(&mut status)
}

/** `fn child_process(read_fd, write_fd)`: read each message, print it, echo it back. */
export function childProcess(readFd: number, writeFd: number, iterations: number = ITERATIONS): void {
  const buf = new Uint8Array(1024);
  for (let n = 0; n < iterations; n++) {
    const bytesRead = read(readFd, buf);
    if (bytesRead > 0) {
      const received = utf8.decode(buf.subarray(0, bytesRead));
      println(`Child received: ${received}`);
      const response = `Child echoing: ${received}`;
      write(writeFd, response);
    }
  }

  close(readFd);
  close(writeFd);
}

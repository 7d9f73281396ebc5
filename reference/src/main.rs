//! The tutorial's program (its step 2, `src/main.rs`): two pipes, a fork, ten
//! messages from the parent, each echoed by the child. Every system call is made
//! through the `libc` crate, as the tutorial does, so that its trace is the
//! baseline the TypeScript demo is compared with: the same functions, messages,
//! closes, sleep and wait, and results of `write` and `read` left unchecked
//! where the tutorial leaves them unchecked.
use std::io::{Error, Result};
use std::os::unix::io::RawFd;
use std::thread;
use std::time::Duration;

const ITERATIONS: usize = 10;

fn main() -> Result<()> {
    // One pipe per direction: the parent reads what the child writes, and back.
    let (parent_read, child_write) = create_pipe()?;
    let (child_read, parent_write) = create_pipe()?;

    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(Error::last_os_error());
    }
    if pid == 0 {
        // In the child: the parent's ends are not ours to hold.
        unsafe {
            libc::close(parent_read);
            libc::close(parent_write);
        }
        child_process(child_read, child_write)?;
    } else {
        // In the parent: drop the child's ends.
        unsafe {
            libc::close(child_read);
            libc::close(child_write);
        }
        parent_process(parent_read, parent_write)?;
    }
    Ok(())
}

/// pipe(2): returns (read end, write end).
fn create_pipe() -> Result<(RawFd, RawFd)> {
    let mut ends: [libc::c_int; 2] = [-1, -1];
    let rc = unsafe { libc::pipe(ends.as_mut_ptr()) };
    if rc == -1 {
        return Err(Error::last_os_error());
    }
    Ok((ends[0], ends[1]))
}

/// Sends each message, prints the echo that comes back, pauses 100 ms;
/// then closes its ends and reaps the child.
fn parent_process(read_fd: RawFd, write_fd: RawFd) -> Result<()> {
    let mut buf = [0u8; 1024];
    for i in 0..ITERATIONS {
        let message = format!("Parent message {}", i);
        unsafe {
            libc::write(write_fd, message.as_ptr().cast(), message.len());
            let n = libc::read(read_fd, buf.as_mut_ptr().cast(), buf.len());
            if n > 0 {
                let received = std::str::from_utf8(&buf[..n as usize]).unwrap();
                println!("Parent received: {}", received);
            }
        }
        thread::sleep(Duration::from_millis(100));
    }

    unsafe {
        libc::close(read_fd);
        libc::close(write_fd);
        let mut status: libc::c_int = 0;
        libc::wait(&mut status);
    }
    Ok(())
}

/// Reads each message, prints it and writes it back prefixed; then closes its ends.
fn child_process(read_fd: RawFd, write_fd: RawFd) -> Result<()> {
    let mut buf = [0u8; 1024];
    for _ in 0..ITERATIONS {
        unsafe {
            let n = libc::read(read_fd, buf.as_mut_ptr().cast(), buf.len());
            if n > 0 {
                let received = std::str::from_utf8(&buf[..n as usize]).unwrap();
                println!("Child received: {}", received);
                let reply = format!("Child echoing: {}", received);
                libc::write(write_fd, reply.as_ptr().cast(), reply.len());
            }
        }
    }

    unsafe {
        libc::close(read_fd);
        libc::close(write_fd);
    }
    Ok(())
}

//! Rust baselines for `npm run bench`, on the same `libc` calls as the tutorial:
//!   bench pingpong N   16-byte message and its echo between parent and forked child, N times
//!   bench bulk BYTES   BYTES from parent to child in 64 KiB writes, sequence-checked
//!   bench percall N    1-byte write then 1-byte read on one pipe in one process, N times
//! Prints {"seconds": S} for the timed part only.
use std::time::Instant;

fn create_pipe() -> (i32, i32) {
    let mut fds = [-1; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

fn write_all(fd: i32, mut data: &[u8]) {
    while !data.is_empty() {
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        assert!(n > 0, "write failed");
        data = &data[n as usize..];
    }
}

fn read_exact(fd: i32, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        assert!(n >= 0, "read failed");
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    got
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args[2].parse().unwrap();
    let (down_r, down_w) = create_pipe();
    let (up_r, up_w) = create_pipe();
    let seconds = match args[1].as_str() {
        "pingpong" => {
            let mut buf = [b'p'; 16];
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                for _ in 0..n {
                    read_exact(down_r, &mut buf);
                    write_all(up_w, &buf);
                }
                unsafe { libc::_exit(0) };
            }
            let start = Instant::now();
            for _ in 0..n {
                write_all(down_w, &buf);
                read_exact(up_r, &mut buf);
            }
            let elapsed = start.elapsed().as_secs_f64();
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            elapsed
        }
        "bulk" => {
            const CHUNK: usize = 65536;
            let chunks = n / CHUNK as u64;
            let mut buf = vec![b'b'; CHUNK];
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                unsafe { libc::close(down_w) };
                for i in 0..chunks {
                    if read_exact(down_r, &mut buf) != CHUNK
                        || u64::from_ne_bytes(buf[..8].try_into().unwrap()) != i
                    {
                        unsafe { libc::_exit(3) };
                    }
                }
                unsafe { libc::_exit(0) };
            }
            unsafe { libc::close(down_r) };
            let start = Instant::now();
            for i in 0..chunks {
                buf[..8].copy_from_slice(&i.to_ne_bytes());
                write_all(down_w, &buf);
            }
            unsafe { libc::close(down_w) };
            let mut status = 0;
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert_eq!(status, 0, "bulk: the child found a gap");
            start.elapsed().as_secs_f64()
        }
        "percall" => {
            let mut c = [b'x'; 1];
            let start = Instant::now();
            for _ in 0..n {
                write_all(down_w, &c);
                read_exact(down_r, &mut c);
            }
            start.elapsed().as_secs_f64()
        }
        other => panic!("unknown mode {other}"),
    };
    println!("{{\"seconds\": {seconds:.9}}}");
}

"""Python baseline for `npm run bench`: a message of BYTES bytes (default 16)
and its echo between parent and forked child with the os module, N times.
Usage: pingpong.py N [BYTES]. Prints {"seconds": S}."""
import json
import os
import sys
import time


def read_exact(fd, n):
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def main():
    n = int(sys.argv[1])
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    message = b"p" * size
    pid = os.fork()
    if pid == 0:
        for _ in range(n):
            data = read_exact(down_r, size)
            while data:
                data = data[os.write(up_w, data):]
        os._exit(0)
    start = time.perf_counter()
    for _ in range(n):
        data = message
        while data:
            data = data[os.write(down_w, data):]
        read_exact(up_r, size)
    seconds = time.perf_counter() - start
    os.waitpid(pid, 0)
    print(json.dumps({"seconds": seconds}))


main()

"""Python baseline for `npm run bench`: 16-byte message and its echo between
parent and forked child with the os module, N times. Prints {"seconds": S}."""
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
    message = b"p" * 16
    pid = os.fork()
    if pid == 0:
        for _ in range(n):
            os.write(up_w, read_exact(down_r, 16))
        os._exit(0)
    start = time.perf_counter()
    for _ in range(n):
        os.write(down_w, message)
        read_exact(up_r, 16)
    seconds = time.perf_counter() - start
    os.waitpid(pid, 0)
    print(json.dumps({"seconds": seconds}))


main()

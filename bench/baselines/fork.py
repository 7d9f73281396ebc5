"""Python baseline for `npm run bench`: os.fork of a parent grown to about
MB megabytes of RSS (many small objects, like the Node case's heap); the child
runs one line of Python and leaves with os._exit; the parent reaps it with
os.waitpid. Usage: fork.py MB REPEAT [CHILDREN]. With CHILDREN, one timing is
CHILDREN forks in a row, then CHILDREN waitpids. Prints
{"rssMb": R, "seconds": [S, ...], "mappings": M, "pageTablesKb": P}: M and P
are what fork(2) copies besides the pages (bench/profile.ts compares them with
the Node parent's)."""
import json
import os
import sys
import time


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def address_space():
    """The parent's mappings (lines of /proc/self/maps) and page tables (VmPTE, kB)."""
    with open("/proc/self/maps") as maps:
        mappings = sum(1 for _ in maps)
    with open("/proc/self/status") as status:
        pte = next(int(line.split()[1]) for line in status if line.startswith("VmPTE:"))
    return mappings, pte


def inflate(mb):
    held = []
    while rss_mb() < mb:
        held.append([{"i": i, "s": f"x{i}"} for i in range(4096)])
    return held


def fork_and_reap(children):
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            total = sum([1, 2, 3])  # the child runs Python
            os._exit(0 if total == 6 else 1)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit(f"the forked child failed: {status}")


def main():
    mb = float(sys.argv[1])
    repeat = int(sys.argv[2])
    children = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    held = inflate(mb)
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        fork_and_reap(children)
        seconds.append(time.perf_counter() - start)
    mappings, pte = address_space()
    print(json.dumps({"rssMb": rss_mb(), "seconds": seconds, "held": len(held),
                      "mappings": mappings, "pageTablesKb": pte}))


main()

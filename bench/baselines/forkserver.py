# Python's multiprocessing with the forkserver start method, the same job as
# bench/forkserver.ts: time from Process.start() to the job's first line and
# to its result, the data set preloaded in the server
# (set_forkserver_preload). argv: records, repetitions. Prints JSON.
import json
import multiprocessing as mp
import sys
import time

import forkserver_preload


def job(conn):
    conn.send("first")
    items = forkserver_preload.ITEMS
    count = 0
    total = 0
    for item in items:
        if item["score"] >= 500 and "red" in item["tags"]:
            count += 1
            total += item["score"]
    conn.send(json.dumps({"count": count, "scoreSum": total}))
    conn.close()


def main():
    reps = int(sys.argv[2])
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["forkserver_preload"])
    first, result = [], []
    for rep in range(reps + 1):  # the first starts the server: not counted
        reader, writer = ctx.Pipe(duplex=False)
        start = time.perf_counter()
        process = ctx.Process(target=job, args=(writer,))
        process.start()
        writer.close()
        reader.recv()
        t_first = time.perf_counter()
        reader.recv()
        t_result = time.perf_counter()
        process.join()
        if rep > 0:
            first.append((t_first - start) * 1e3)
            result.append((t_result - start) * 1e3)
    print(json.dumps({"first": first, "result": result}))


if __name__ == "__main__":
    main()

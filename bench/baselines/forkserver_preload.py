# The preload of bench/baselines/forkserver.py: records built as the warm
# pool's loadCatalog builds them (xorshift32), FORKSERVER_BENCH_RECORDS of them.
import os

TAGS = ["red", "green", "blue", "small", "large", "new", "used", "sale"]


def load(records):
    seed = 2463534242
    items = []

    def step(s):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        return s

    for i in range(records):
        seed = step(seed)
        name = "item-%d-%x" % (i, seed)
        seed = step(seed)
        a = TAGS[seed % 8]
        seed = step(seed)
        b = TAGS[seed % 8]
        seed = step(seed)
        items.append({"id": i, "name": name, "tags": [a, b], "score": seed % 1000})
    return items


ITEMS = load(int(os.environ.get("FORKSERVER_BENCH_RECORDS", "10000")))

// The heap every fork figure grows: many small objects, as a real program's
// heap is, until the process's RSS is about `mb` megabytes. Python's and
// Ruby's baselines (bench/baselines/fork.*) grow theirs the same way.
export function inflate(mb: number): unknown[] {
  const held: unknown[] = [];
  while (process.memoryUsage().rss < mb * 2 ** 20) {
    held.push(Array.from({ length: 4096 }, (_, i) => ({ i, s: `x${i}` })));
  }
  return held;
}

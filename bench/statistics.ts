// The statistics the benchmarks report: medians, because a shared machine's
// noise is one-sided (a run is slowed, never sped up), and the spread.

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A figure as the tables show it: the median and the spread (min–max). */
export function summary(xs: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

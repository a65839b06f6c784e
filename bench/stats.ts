/** Timing and summary statistics. Samples are nanoseconds from `process.hrtime.bigint()`. */

export type Nanos = bigint;

/** Runs `fn` once and returns its result and how long it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ns: Nanos }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { result, ns: process.hrtime.bigint() - start };
}

export const nsToMs = (ns: Nanos | number): number => Number(ns) / 1e6;

/** Nearest-rank percentile (p in 0..100) of already sorted values. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median; the mean of the two middle values for an even count. */
export function medianOfSorted(sorted: readonly number[]): number {
  if (sorted.length === 0) throw new Error('median of no samples');
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Summary {
  n: number;
  min: number;
  median: number;
  mean: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summary of samples, in milliseconds. */
export function summarizeMs(samples: readonly Nanos[]): Summary {
  const sorted = samples.map(nsToMs).sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: medianOfSorted(sorted),
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

// Summary statistics for timers, with Logster's stats_helper arithmetic (so figures match it).

/** Mean of the values; undefined for none. */
export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * The p-th percentile of values sorted ascending, by linear interpolation at p/100 × (n−1), in the
 * same order of operations as Logster so that the last digit agrees. Undefined for none.
 */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  if (n === 1) return sorted[0];
  const frac = ((p / 100) * (n - 1)) % 1;
  const left = Math.trunc((p * (n - 1)) / 100);
  if (frac !== 0) return sorted[left]! + (sorted[left + 1]! - sorted[left]!) * frac;
  return sorted[left];
}

export function sortNumbers(values: number[]): number[] {
  return values.sort((a, b) => a - b);
}

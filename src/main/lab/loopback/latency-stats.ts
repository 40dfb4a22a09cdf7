import type { LatencyStats } from '../../../shared/loopback';

function rank(sorted: readonly number[], fraction: number): number {
  // Nearest-rank percentile: always one of the measured values, never an interpolation.
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] as number;
}

/**
 * Percentiles of a run's latencies (µs). A run has at most a few thousand edges, so a sorted
 * copy is exact and simpler than a histogram; jitter is p99 − p50, with the stddev beside it.
 */
export function latencyStats(values: readonly number[]): LatencyStats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((left, right) => left - right);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  const variance = sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / sorted.length;
  const p50 = rank(sorted, 0.5);
  const p99 = rank(sorted, 0.99);
  return {
    count: sorted.length,
    minUs: sorted[0] as number,
    p50Us: p50,
    p95Us: rank(sorted, 0.95),
    p99Us: p99,
    maxUs: sorted[sorted.length - 1] as number,
    meanUs: mean,
    stddevUs: Math.sqrt(variance),
    jitterUs: Math.max(0, p99 - p50),
  };
}

import type { LatencyHistogram } from '../../../shared/api';
import type { LoopbackResult } from '../../../shared/loopback';

/** Bins per factor of ten: 20 gives steps of about 12 %, fine enough to see a 2.0 vs 2.2 ms split. */
const BINS_PER_DECADE = 20;

/**
 * Counts the matched clock-model latencies into log-spaced bins (engine side: the console only
 * draws them). Bounds sit on a fixed grid (10^(k/20) µs), so two runs' histograms line up.
 */
export function latencyHistogram(result: LoopbackResult): LatencyHistogram {
  const values = result.edges.flatMap((edge) =>
    edge.status === 'matched' && edge.latencyUs !== null ? [edge.latencyUs] : [],
  );
  if (values.length === 0) return { boundsUs: [], counts: [] };
  // A latency at or below 1 µs (clock error around a zero delay) goes in the first bin.
  const step = (value: number): number => Math.floor(Math.log10(Math.max(1, value)) * BINS_PER_DECADE);
  const low = Math.min(...values.map(step));
  const high = Math.max(...values.map(step));
  const counts = new Array<number>(high - low + 1).fill(0);
  for (const value of values) counts[step(value) - low] = (counts[step(value) - low] ?? 0) + 1;
  const boundsUs = Array.from({ length: counts.length + 1 }, (_, index) => 10 ** ((low + index) / BINS_PER_DECADE));
  return { boundsUs, counts };
}

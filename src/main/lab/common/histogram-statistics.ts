import type { Histogram } from 'hdr-histogram-js';
import type { StageStatistics } from '../../../shared/run';

/** Percentiles, min, max and mean of one histogram (ns); undefined when it holds no sample. */
export function statisticsOf(histogram: Histogram): StageStatistics | undefined {
  if (histogram.totalCount === 0) return undefined;
  return {
    count: histogram.totalCount,
    // A histogram that only holds zeros keeps MAX_SAFE_INTEGER as its smallest non-zero value.
    min:
      histogram.minNonZeroValue === Number.MAX_SAFE_INTEGER
        ? 0
        : Math.min(histogram.minNonZeroValue, histogram.getValueAtPercentile(0)),
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
    mean: histogram.mean,
  };
}

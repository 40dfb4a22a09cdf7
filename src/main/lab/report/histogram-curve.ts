import { decodeHistogram } from '../common/create-histogram';

/** Quantiles of the percentile-distribution chart: evenly spaced on a "nines" axis up to 99.999%. */
export const CURVE_QUANTILES: readonly number[] = [...Array.from({ length: 21 }, (_unused, step) => 1 - 10 ** (-step / 4)), 1];

/** Value at each quantile (ms) of an HdrHistogram in ns, sent as compressed base64. */
export function percentileCurve(encoded: string): { quantile: number; valueMs: number }[] {
  const histogram = decodeHistogram(encoded);
  try {
    if (histogram.totalCount === 0) return [];
    return CURVE_QUANTILES.map((quantile) => ({
      quantile,
      valueMs: (quantile >= 1 ? histogram.maxValue : histogram.getValueAtPercentile(quantile * 100)) / 1e6,
    }));
  } finally {
    histogram.destroy();
  }
}

import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { createHistogram, initHistograms } from '../../src/main/lab/common/create-histogram';
import { mergeEncodedStages, mergeHistograms } from '../../src/main/lab/multi/merge-histograms';
import { SeededRandom } from '../../src/main/lab/common/seeded-random';

const PERCENTILES = [0, 10, 50, 90, 95, 99, 99.9, 99.99, 100];

describe('merging per-instance histograms', () => {
  it('gives the percentiles of one histogram fed every sample, not an average of percentiles', async () => {
    await initHistograms();
    const random = new SeededRandom(1234);
    const everything = createHistogram();
    // Three instances with very different latencies: averaging their p99s would be far off.
    const instances = [200_000, 1_500_000, 9_000_000].map((scaleNs, index) => {
      const histogram = createHistogram();
      for (let sample = 0; sample < 20_000 + index * 7_000; sample++) {
        const value = Math.round(scaleNs * (0.5 + random.next() * random.next() * 4));
        histogram.recordValue(value);
        everything.recordValue(value);
      }
      return histogram;
    });
    const encoded = instances.map((histogram) => encodeIntoCompressedBase64(histogram));
    const merged = mergeHistograms(encoded);
    expect(merged.totalCount).toBe(everything.totalCount);
    for (const percentile of PERCENTILES) expect(merged.getValueAtPercentile(percentile)).toBe(everything.getValueAtPercentile(percentile));
    const averagedP99 = instances.reduce((total, histogram) => total + histogram.getValueAtPercentile(99), 0) / instances.length;
    expect(Math.abs(averagedP99 - merged.getValueAtPercentile(99))).toBeGreaterThan(merged.getValueAtPercentile(99) * 0.1);

    const stages = mergeEncodedStages([{ e2e: encoded[0] }, { e2e: encoded[1], send: encoded[2] }]);
    expect(Object.keys(stages).sort()).toEqual(['e2e', 'send']);
    for (const histogram of [...instances, everything, merged]) histogram.destroy();
  });
});

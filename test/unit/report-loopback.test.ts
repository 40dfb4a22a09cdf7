import { describe, expect, it } from 'vitest';
import { loopbackSection } from '../../src/main/lab/report/render-loopback';
import { latencyHistogram } from '../../src/main/lab/loopback/latency-histogram';
import { LoopbackOptionsSchema, LoopbackResultSchema, type LoopbackEdge, type LoopbackResult } from '../../src/shared/loopback';

/** A saved result: `latenciesUs` are the clock-model latencies of its matched edges. */
function result(latenciesUs: number[], overrides: Partial<LoopbackResult> = {}): LoopbackResult {
  const edges: LoopbackEdge[] = latenciesUs.map((latencyUs, index) => ({
    index,
    direction: index % 2 === 0 ? 'rise' : 'fall',
    sentUs: index * 25_000,
    latencyUs,
    arrivalLatencyUs: latencyUs + 1500,
    probeUs: 3_600_000_000 + index * 25_000,
    millivolts: 1000,
    sendCallbackUs: 20,
    status: 'matched',
  }));
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const stats = { count: sorted.length, minUs: sorted[0]!, p50Us: sorted[Math.floor(sorted.length / 2)]!, p95Us: sorted.at(-1)!, p99Us: sorted.at(-1)!, maxUs: sorted.at(-1)!, meanUs: 0, stddevUs: 0, jitterUs: 0 };
  return LoopbackResultSchema.parse({
    startedAt: '2026-01-02T03:04:05.000Z', epochHostUs: 1e9, durationS: 5, rig: 'demo', variable: 'invert', address: '/lzx/proc/invert', port: '/dev/ttyUSB0',
    probe: { firmware: '1.1.0', adcBits: 10, link: 'uart' }, options: LoopbackOptionsSchema.parse({}), thresholdMv: 500, complete: true, stopReason: null,
    sent: edges.length, matched: edges.length, misses: 0, spurious: 0,
    clock: { offsetUs: 3.6e9, driftPpm: 41.5, residualUs: 12.5, samples: 144, kept: 30, minRoundTripUs: 3900, medianRoundTripUs: 4800, spanS: 5, boundUs: 38, linkFit: 'fits', expectedMinRoundTripUs: 3800, medianTurnaroundUs: 40 },
    latency: sorted.length ? stats : null, arrivalLatency: sorted.length ? stats : null, arrivalErrorNote: 'note',
    lines: { good: 500, garbage: 0, partial: 0, oversized: 0, outOfOrder: 0, extraFields: 0 },
    link: { kind: 'uart', source: 'hello', baud: 115200, latencyTimerMs: 16 },
    target: { latencyMs: 10, passed: sorted.length ? sorted.at(-1)! <= 10_000 : null },
    stopKind: null,
    edges,
    ...overrides,
  });
}

describe('latency histogram', () => {
  it('puts a 2 ms bulk and a 9 ms tail in bars of their own (log-spaced bins on a fixed grid)', () => {
    const histogram = latencyHistogram(result([...Array.from({ length: 95 }, (_, index) => 2000 + index * 3), 9000, 9100, 9200, 9300, 9400]));
    expect(histogram.boundsUs).toHaveLength(histogram.counts.length + 1);
    expect(histogram.counts.reduce((sum, count) => sum + count, 0)).toBe(100);
    // Bins widen by 10^(1/20) ≈ 12 %: the bulk spreads over more than the first bar.
    const ratio = (histogram.boundsUs[1] as number) / (histogram.boundsUs[0] as number);
    expect(ratio).toBeCloseTo(10 ** (1 / 20), 9);
    expect(histogram.counts.filter((count) => count > 0).length).toBeGreaterThanOrEqual(3);
    expect(histogram.counts.at(-1)).toBeGreaterThan(0);
  });

  it('is empty when no edge matched', () => {
    expect(latencyHistogram(result([]))).toEqual({ boundsUs: [], counts: [] });
  });
});

describe('report: hardware loop-back section', () => {
  it('gives the verdict, the pictures and the clock fit in words', () => {
    const html = loopbackSection([{ id: 'loopback-1', startedAtMs: Date.UTC(2026, 0, 2), summary: result([2100, 2200, 2150, 2300]) as unknown as Record<string, unknown> }]);
    expect(html).toContain('<span class="badge passed">PASS</span>');
    expect(html).toContain('p99 2.30 ms against the 10 ms target');
    expect(html).toContain('aria-label="latency histogram"');
    expect(html).toContain('aria-label="every edge aligned at its send"');
    expect(html).toContain('of 144 PING exchanges, the 30 quickest were used');
    expect(html).toContain('USB-serial latency timer 16 ms (set it to 1 ms)');
  });

  it('fails a result over the target and marks one that stopped early', () => {
    const html = loopbackSection([{ id: 'loopback-2', startedAtMs: 0, summary: result([2000, 12_500], { complete: false, stopReason: 'the probe went silent after 2 of 200 edges', stopKind: 'silent' }) as unknown as Record<string, unknown> }]);
    expect(html).toContain('<span class="badge failed">FAIL</span>');
    expect(html).toContain('Incomplete: the probe went silent after 2 of 200 edges.');
  });

  it('shows an older summary as the table it is', () => {
    const html = loopbackSection([{ id: 'old', startedAtMs: 0, summary: { p50Ms: 1.25, missedEdges: 0 } }]);
    expect(html).toContain('<td>p50Ms</td>');
  });
});

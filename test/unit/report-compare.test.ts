import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/shared/report';
import { compareRuns } from '../../src/main/lab/report/compare-runs';
import { mannWhitneyU, median } from '../../src/main/lab/report/mann-whitney';
import { assembleReport } from '../../src/main/lab/report/report-builder';
import { createSyntheticRun, type SyntheticRunOptions } from '../fixtures/synthetic-run';

/** A report of a synthetic run, as it would come out of the store. */
function syntheticReport(options: SyntheticRunOptions): RunReport {
  const run = createSyntheticRun({ intervals: 120, messagesPerInterval: 150, ...options });
  const { histograms, ...summary } = run.summary;
  const startedAtMs = Date.parse(run.info.startedAt);
  return assembleReport({
    run: {
      id: run.info.id, rig: 'demo', scenario: 'sustained', status: 'passed', startedAtMs, endedAtMs: startedAtMs + 12_000, intervalCount: 120,
      baseline: false, e2eP99Ms: run.summary.stages.e2e!.p99 / 1e6, heartbeatAtMs: startedAtMs, info: { ...run.info }, environment: null,
      summary: summary as unknown as Record<string, unknown>,
    },
    intervals: run.frames.map((frame) => ({ seq: frame.sequence, atMs: startedAtMs + frame.atMs, frame: frame as unknown as Record<string, unknown> })),
    histograms: Object.entries(histograms).map(([name, encoded]) => ({ name, encoded: encoded!, totalCount: 1 })),
    alerts: [],
    loopback: [],
  });
}

describe('mannWhitneyU', () => {
  it('matches the textbook asymptotic result with continuity correction', () => {
    const result = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(result.u).toBe(25);
    expect(result.cliffsDelta).toBe(1);
    // scipy.stats.mannwhitneyu(a, b, method='asymptotic') gives p = 0.01219
    expect(result.pValue).toBeCloseTo(0.01219, 4);
  });

  it('handles ties with average ranks and finds no difference between equal samples', () => {
    const result = mannWhitneyU([1, 2, 2, 3], [1, 2, 2, 3]);
    expect(result.u).toBe(8);
    expect(result.cliffsDelta).toBe(0);
    expect(result.pValue).toBe(1);
  });

  it('refuses an empty sample in plain words', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(/two non-empty samples; got 0 and 1/);
  });

  it('computes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('compareRuns on synthetic runs', () => {
  const baseline = syntheticReport({ id: 'base', seed: 11 });

  it('flags a 20% p99 shift as a regression', () => {
    const comparison = compareRuns(baseline, syntheticReport({ id: 'slow', seed: 12, scale: 1.2 }));
    expect(comparison.verdict).toBe('regressed');
    expect(comparison.test.pValue).toBeLessThan(0.01);
    expect(comparison.test.medianRatio).toBeGreaterThan(1.12);
    expect(comparison.test.cliffsDelta).toBeGreaterThan(0.3);
    const p99 = comparison.rows.find((row) => row.stage === 'e2e' && row.percentile === 'p99');
    expect(p99?.change).toBeGreaterThan(0.1);
    expect(comparison.reason).toMatch(/median \+\d+\.\d%/);
  });

  it('reports a 20% faster run as improved', () => {
    expect(compareRuns(baseline, syntheticReport({ id: 'fast', seed: 13, scale: 0.8 })).verdict).toBe('improved');
  });

  it.each([1.02, 0.98, 1])('does not flag ±2%% noise (scale %s)', (scale) => {
    const comparison = compareRuns(baseline, syntheticReport({ id: `noise-${scale}`, seed: 20 + Math.round(scale * 100), scale }));
    expect(comparison.verdict).toBe('unchanged');
  });

  it('calls it inconclusive when the whole-run p99 contradicts the per-interval samples', () => {
    const slow = syntheticReport({ id: 'slow', seed: 12, scale: 1.2 });
    const basePercentile = baseline.summary.stages.find((row) => row.stage === 'e2e')!;
    const contradicting: RunReport = {
      ...slow,
      summary: { ...slow.summary, stages: slow.summary.stages.map((row) => (row.stage === 'e2e' ? { ...row, p99: basePercentile.p99 * 0.5 } : row)) },
    };
    const comparison = compareRuns(baseline, contradicting);
    expect(comparison.verdict).toBe('unchanged');
    expect(comparison.reason).toMatch(/Inconclusive/);
  });

  it('gives no verdict on too few intervals', () => {
    const comparison = compareRuns(baseline, syntheticReport({ id: 'short', seed: 5, scale: 2, intervals: 4 }));
    expect(comparison.verdict).toBe('unchanged');
    expect(comparison.reason).toMatch(/Too few intervals/);
  });

  it('carries both runs’ percentile curves for the overlay chart', () => {
    const comparison = compareRuns(baseline, syntheticReport({ id: 'slow', seed: 12, scale: 1.2 }));
    expect(comparison.curves.baseline.length).toBeGreaterThan(10);
    expect(comparison.curves.candidate.at(-1)!.valueMs).toBeGreaterThan(comparison.curves.baseline[0]!.valueMs);
  });
});
describe('comparing two replays', () => {
  it('says when they played different logs, or the same log another way', () => {
    const log = { fileName: 'friday.log', format: 'irc' as const, messages: 578, spanMs: 294_476, sha256: 'a'.repeat(64), damaged: 0 };
    const replay = { log, speed: 30, fromMs: 0, toMs: 295_000, loop: false, users: 'as-recorded' as const, windowMessages: 578 };
    const baseline = { ...syntheticReport({ id: 'before', seed: 1 }), replay };
    const same = compareRuns(baseline, { ...syntheticReport({ id: 'after', seed: 2 }), replay });
    expect(same.differences?.filter((difference) => /chat log|replay/.test(difference))).toEqual([]);
    const edited = compareRuns(baseline, { ...syntheticReport({ id: 'after', seed: 2 }), replay: { ...replay, speed: 60, log: { ...log, sha256: 'b'.repeat(64) } } });
    expect(edited.differences).toContain(`chat log replayed differs: friday.log (sha256 ${'a'.repeat(16)}…) in before, friday.log (sha256 ${'b'.repeat(16)}…) in after`);
    expect(edited.differences?.find((difference) => difference.startsWith('replay differs'))).toMatch(/speed 30, 0 s to 295 s, viewers as-recorded in before, speed 60/);
  });
});

describe('a comparison that cannot contradict itself', () => {
  it('says the verdict is about the typical interval and that a few slow intervals moved the whole-run p99', () => {
    const baseline = syntheticReport({ id: 'base', seed: 11 });
    const noisy = syntheticReport({ id: 'noisy', seed: 31 });
    // Three intervals of the candidate 10× slower: the whole-run p99 jumps, the typical interval does not.
    const slowSeqs = new Set(noisy.intervals.slice(40, 43).map((interval) => interval.seq));
    const withOutliers: RunReport = {
      ...noisy,
      intervals: noisy.intervals.map((interval) =>
        slowSeqs.has(interval.seq) ? { ...interval, stages: { ...interval.stages, e2e: { ...interval.stages['e2e']!, p99: interval.stages['e2e']!.p99 * 10, max: interval.stages['e2e']!.max * 10 } } } : interval,
      ),
      summary: { ...noisy.summary, stages: noisy.summary.stages.map((row) => (row.stage === 'e2e' ? { ...row, p99: row.p99 * 2.37 } : row)) },
    };
    const comparison = compareRuns(baseline, withOutliers);
    expect(comparison.verdict).toBe('unchanged');
    const reading = comparison.reading!;
    expect(reading.figure).toBe('e2e p99');
    expect(reading.slowerThanAnyBaseline).toBe(3);
    expect(reading.candidateIntervals).toBe(withOutliers.intervals.length);
    expect(reading.wholeRun.change).toBeGreaterThan(1);
    expect(Math.abs(reading.typical.change!)).toBeLessThan(0.05);
    expect(reading.sentence).toMatch(/^The verdict is about the typical interval's e2e p99 .*within noise \(p = /);
    expect(reading.sentence).toMatch(/whole-run e2e p99 .*\+\d+\u00a0%, driven by 3 of 120 intervals of this run slower than any interval of the other run/);
    expect(comparison.distributions?.candidate?.slowestMs.length).toBeGreaterThanOrEqual(3);
    expect(comparison.distributions?.candidate?.count).toBe(120);
  });

  it('prints small figures with enough digits and changes with their sign', async () => {
    const { formatFigure, formatChange } = await import('../../src/shared/format-figures');
    expect(formatFigure(0.000412)).toBe('0.000412');
    expect(formatFigure(0.0412)).toBe('0.0412');
    expect(formatFigure(12345)).toBe('12,345');
    expect(formatChange(1.367)).toBe('+137\u00a0%');
    expect(formatChange(-0.024)).toBe('−2.4\u00a0%');
    expect(formatChange(0.00001)).toBe('±0.00\u00a0%');
  });
});

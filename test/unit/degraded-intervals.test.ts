import { describe, expect, it } from 'vitest';
import type { RunFrame } from '../../src/shared/run';
import { describeDegradedIntervals } from '../../src/shared/describe-degraded-intervals';
import { renderReportHtml } from '../../src/main/lab/report/render-html';
import { assembleReport } from '../../src/main/lab/report/report-builder';
import { DegradedIntervals } from '../../src/main/lab/session/degraded-intervals';

const frame = (atMs: number, limiterFallbacks: number, degraded?: boolean): RunFrame => ({ atMs, limiterFallbacks, ...(degraded !== undefined ? { degraded } : {}) }) as unknown as RunFrame;

describe('degraded intervals', () => {
  it('opens a stretch when fallbacks grow, closes it when the store says it answers and none grew', () => {
    const intervals = new DegradedIntervals();
    const changes = [
      frame(100, 0, false),
      frame(200, 5, true),
      frame(300, 9, true),
      // Redis answers again within this interval, but fallbacks still grew in it: still degraded.
      frame(400, 12, false),
      frame(500, 12, false),
      frame(600, 12, false),
      frame(700, 12, true),
      frame(800, 20, true),
    ].map((each) => intervals.observe(each));
    expect(changes.filter(Boolean)).toEqual([
      { state: 'degraded', atMs: 200, limiterFallbacks: 5 },
      { state: 'recovered', atMs: 500, limiterFallbacks: 12 },
      { state: 'degraded', atMs: 700, limiterFallbacks: 12 },
    ]);
    expect(intervals.degraded).toBe(true);
    expect(intervals.intervals()).toEqual([{ fromMs: 200, toMs: 500 }, { fromMs: 700 }]);
    expect(describeDegradedIntervals(intervals.intervals())).toBe('0.2–0.5 s, 0.7 s to the end');
  });

  it('keeps a stretch open while frames do not say (merged frames of several instances)', () => {
    const intervals = new DegradedIntervals();
    intervals.observe(frame(100, 3));
    intervals.observe(frame(200, 3));
    expect(intervals.intervals()).toEqual([{ fromMs: 100 }]);
  });

  it('shows in the HTML report', () => {
    const report = assembleReport({
      run: {
        id: 'degraded', rig: 'demo', scenario: 'burst', status: 'failed', startedAtMs: 0, endedAtMs: 1000, intervalCount: 0, baseline: false, e2eP99Ms: null, heartbeatAtMs: 0, info: {}, environment: null,
        summary: { degradedIntervals: [{ fromMs: 3200, toMs: 10_400 }] },
      },
      intervals: [],
      histograms: [],
      alerts: [],
      loopback: [],
    });
    expect(renderReportHtml(report)).toContain('Redis did not answer in time and the in-process limiter stood in (limits held per process, not across instances): 3.2–10.4 s into the run.');
  });
});

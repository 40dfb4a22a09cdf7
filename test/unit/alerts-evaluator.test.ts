import { describe, expect, it } from 'vitest';
import type { AlertFrame, AlertNotification } from '../../src/shared/alerts';
import { AlertEvaluator } from '../../src/main/lab/alerts/alert-evaluator';

// Frames every 100 ms; `p99` gives e2e.p99 in ms for each frame.
function frames(p99s: readonly number[], startMs = 0): AlertFrame[] {
  return p99s.map((p99, index) => ({
    atMs: startMs + index * 100,
    stages: { e2e: { p99 } },
    outcomes: { accepted: 90, rate_limited_global: 10 },
    redisRttMs: 0.4,
    eventLoopDelayMs: 1.5,
    heapUsedBytes: 50_000_000,
  }));
}

function run(evaluator: AlertEvaluator, input: readonly AlertFrame[]): AlertNotification[] {
  return input.flatMap((frame) => evaluator.evaluate(frame));
}

const slow = { id: 'e2e-slow', metric: 'e2e.p99', comparison: '>', threshold: 10, forMs: 500, keepFiringMs: 300, severity: 'critical' } as const;

describe('AlertEvaluator', () => {
  it('never fires when the condition lasts less than its `for`', () => {
    const evaluator = new AlertEvaluator([slow]);
    // Breached for 400 ms (5 frames, 0..400) twice, with a healthy frame between.
    const out = run(evaluator, frames([20, 20, 20, 20, 20, 1, 20, 20, 20, 20, 20, 1, 1]));
    expect(out).toEqual([]);
    expect(evaluator.firing()).toEqual([]);
  });

  it('fires once and resolves once when the condition lasts longer, with a blip inside keepFiring', () => {
    const evaluator = new AlertEvaluator([slow]);
    // 0..1000 breached, one healthy frame at 1100 (shorter than keepFiring), breached again, then healthy.
    const series = [...Array(11).fill(20), 1, 20, 20, 1, 1, 1, 1, 1, 1];
    const out = run(evaluator, frames(series));
    expect(out.map((n) => `${n.event.kind}@${n.event.kind === 'firing' ? n.event.firedAtMs : n.event.resolvedAtMs}`)).toEqual(['firing@500', 'resolved@1700']);
    const [fired, resolved] = out;
    expect(fired?.event.activeSinceMs).toBe(0);
    expect(fired?.event.value).toBe(20);
    expect(fired?.event.severity).toBe('critical');
    expect(fired?.event.context).toMatchObject({ outcomes: { rate_limited_global: 10 }, redisRttMs: 0.4, eventLoopDelayMs: 1.5, heapUsedBytes: 50_000_000 });
    expect(resolved?.event.alertId).toBe(fired?.event.alertId);
    expect(resolved?.change).toBe('close');
  });

  it('fires on the first breached frame when `for` is 0, and treats a missing metric as no breach', () => {
    const evaluator = new AlertEvaluator([{ id: 'rtt', metric: 'redis.rttMs', comparison: '>=', threshold: 2 }]);
    expect(evaluator.evaluate({ atMs: 0 })).toEqual([]);
    expect(evaluator.evaluate({ atMs: 100, redisRttMs: 2 }).map((n) => n.event.kind)).toEqual(['firing']);
    expect(evaluator.evaluate({ atMs: 200 }).map((n) => n.event.kind)).toEqual(['resolved']);
  });

  it('groups correlated alerts instead of repeating them', () => {
    const evaluator = new AlertEvaluator(
      [
        { id: 'e2e-slow', metric: 'e2e.p99', comparison: '>', threshold: 10, severity: 'warning' },
        { id: 'global-limit', metric: 'outcomes.rate_limited_global.rate', comparison: '>', threshold: 0.05, severity: 'critical' },
      ],
      { groupWindowMs: 1_000 },
    );
    const first = evaluator.evaluate({ atMs: 0, stages: { e2e: { p99: 20 } }, outcomes: { accepted: 100 } });
    const second = evaluator.evaluate({ atMs: 100, stages: { e2e: { p99: 20 } }, outcomes: { accepted: 80, rate_limited_global: 20 } });
    expect(first.map((n) => n.change)).toEqual(['open']);
    expect(second.map((n) => n.change)).toEqual(['join']);
    expect(second[0]?.event.groupId).toBe(first[0]?.event.groupId);
    expect(second[0]?.group).toMatchObject({ ruleIds: ['e2e-slow', 'global-limit'], activeCount: 2, highestSeverity: 'critical' });
    // Both resolve: the last one closes the group.
    const resolved = evaluator.evaluate({ atMs: 200, stages: { e2e: { p99: 1 } }, outcomes: { accepted: 100 } });
    expect(resolved.map((n) => n.change)).toEqual(['resolve', 'close']);
    // The same rule firing again within the window joins the same group: a repeat, not news.
    const again = evaluator.evaluate({ atMs: 900, stages: { e2e: { p99: 30 } }, outcomes: { accepted: 100 } });
    expect(again.map((n) => [n.change, n.event.groupId, n.group.firingCount])).toEqual([['join', first[0]?.event.groupId, 3]]);
    evaluator.evaluate({ atMs: 1_000, stages: { e2e: { p99: 1 } }, outcomes: { accepted: 100 } });
    // Past the window: a new group.
    const later = evaluator.evaluate({ atMs: 5_000, stages: { e2e: { p99: 30 } }, outcomes: { accepted: 100 } });
    expect(later[0]?.change).toBe('open');
    expect(later[0]?.event.groupId).not.toBe(first[0]?.event.groupId);
  });

  it('resolves what still fires when the run ends', () => {
    const evaluator = new AlertEvaluator([{ id: 'errors', metric: 'errors.rate', comparison: '>', threshold: 0.01 }]);
    expect(evaluator.evaluate({ atMs: 0, outcomes: { accepted: 90, failed: 10 } })[0]?.event.value).toBeCloseTo(0.1);
    const end = evaluator.resolveAll({ atMs: 50 });
    expect(end.map((n) => [n.event.kind, n.change])).toEqual([['resolved', 'close']]);
    expect(evaluator.firing()).toEqual([]);
  });

  it('refuses rules with a bad metric name or a duplicate id, naming the field', () => {
    expect(() => new AlertEvaluator([{ id: 'x', metric: 'e2e p99', comparison: '>', threshold: 1 }])).toThrow(/\[0\]\.metric: expected a metric name/);
    expect(
      () =>
        new AlertEvaluator([
          { id: 'x', metric: 'e2e.p99', comparison: '>', threshold: 1 },
          { id: 'x', metric: 'e2e.p50', comparison: '>', threshold: 1 },
        ]),
    ).toThrow(/rule id "x" is used twice/);
  });
});

describe('alertFrameOf', () => {
  it('reads a RunFrame in milliseconds, with outcome codes and counters', async () => {
    const { alertFrameOf } = await import('../../src/main/lab/alerts/alert-frame-of');
    const { readAlertMetric } = await import('../../src/shared/alerts');
    const frame = alertFrameOf(
      {
        runId: 'r',
        sequence: 3,
        atMs: 400,
        intervalMs: 100,
        sent: 100,
        completed: 100,
        throughput: 1000,
        inFlight: 0,
        late: 0,
        outcomes: { accepted: 90, rejected: 8, failed: 2, byCode: { cooldown: 8, failed: 2 } },
        stages: { e2e: { count: 90, p50: 1_000_000, p95: 4_000_000, p99: 12_500_000, max: 20_000_000 } },
        eventLoopDelay: { p50: 1_000_000, p99: 3_000_000, max: 5_000_000 },
        cpuPercent: 50,
        heapUsedBytes: 1000,
        rssBytes: 2000,
        redisRoundTrip: 400_000,
        limiterFallbacks: 7,
      },
      1_000,
    );
    expect(frame.atMs).toBe(1_400);
    expect(readAlertMetric(frame, 'e2e.p99')).toBe(12.5);
    expect(readAlertMetric(frame, 'errors.rate')).toBeCloseTo(0.02);
    expect(readAlertMetric(frame, 'rejected.rate')).toBeCloseTo(0.08);
    expect(readAlertMetric(frame, 'outcomes.cooldown')).toBe(8);
    expect(readAlertMetric(frame, 'redis.rttMs')).toBe(0.4);
    expect(readAlertMetric(frame, 'eventLoop.delayMs')).toBe(3);
    expect(readAlertMetric(frame, 'limiter.fallbacks')).toBe(7);
  });
});

describe('default rules', () => {
  it('are valid rules on metrics a frame carries', async () => {
    const { DEFAULT_ALERT_RULES, readAlertMetric } = await import('../../src/shared/alerts');
    const evaluator = new AlertEvaluator(DEFAULT_ALERT_RULES);
    const frame: AlertFrame = { atMs: 0, stages: { e2e: { p99: 1 } }, outcomes: { accepted: 1 }, redisRttMs: 0.2, eventLoopDelayMs: 1 };
    for (const rule of DEFAULT_ALERT_RULES) expect(readAlertMetric(frame, rule.metric)).toBeDefined();
    expect(evaluator.evaluate(frame)).toEqual([]);
  });
});

describe('alerts tied to their run', () => {
  it('carries the run and its scenario on the firing and the resolved event, and writes values in their unit', async () => {
    const evaluator = new AlertEvaluator([slow], { idPrefix: 'run-7', run: { id: 'run-7', scenario: 'sustained' } });
    const out = run(evaluator, frames([...Array(8).fill(44.466175), ...Array(8).fill(1)]));
    expect(out.map((notification) => notification.event.kind)).toEqual(['firing', 'resolved']);
    for (const notification of out) expect(notification.event.run).toEqual({ id: 'run-7', scenario: 'sustained' });
    const { formatAlertValue } = await import('../../src/shared/format-alert-value');
    expect(formatAlertValue('e2e.p99', 44.466175)).toBe('44.5 ms');
    expect(formatAlertValue('errors.rate', 0.0147)).toBe('1.47 %');
    expect(formatAlertValue('outcomes.accepted', 12_345)).toBe('12,345 per interval');
  });
});

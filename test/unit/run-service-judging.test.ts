import { describe, expect, it } from 'vitest';
import type { RunFrame, RunSummary } from '../../src/shared/run';
import { compileThreshold } from '../../src/shared/scenario';
import { RunFrameHistory } from '../../src/main/lab/session/run-frame-history';
import { judgeLimiterThreshold } from '../../src/main/lab/session/run-service';

const summary = (limiterFallbacks: number, expression: string): RunSummary =>
  ({
    run: { id: 'r' },
    stopReason: 'completed',
    sent: 100,
    completed: 100,
    unaccounted: 0,
    passed: true,
    pipeline: { limiterFallbacks, tapMatched: 0, tapUnmatched: 0 },
    // As the engine judged it, without the pipeline's counter.
    thresholds: [{ key: 'limiter.fallbacks', expression, unit: 'count', actual: 0, limit: 1, passed: true, excess: 0, samples: 100 }],
  }) as unknown as RunSummary;

describe('degraded Redis', () => {
  it('compiles limiter.fallbacks as a count threshold', () => {
    expect(compileThreshold('limiter.fallbacks', '<1')).toMatchObject({ unit: 'count', metric: { kind: 'limiter' }, condition: { operator: '<', limit: 1 } });
  });

  it('fails the run when the in-process limiter stood in more often than allowed', () => {
    const judged = judgeLimiterThreshold(summary(37, '<1'));
    expect(judged.passed).toBe(false);
    expect(judged.thresholds[0]).toMatchObject({ passed: false, actual: 37, excess: 36 });
    expect(judgeLimiterThreshold(summary(0, '<1')).passed).toBe(true);
  });
});

const frame = (runId: string, sequence: number): RunFrame => ({ runId, sequence }) as RunFrame;

describe('the frames the engine keeps', () => {
  it("gives the run going on, else the last run's, and thins the oldest past its capacity", () => {
    const history = new RunFrameHistory(100);
    history.start('a');
    for (let sequence = 0; sequence < 150; sequence++) history.push(frame('a', sequence));
    const kept = history.after(-1, 1000);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept.at(-1)?.sequence).toBe(149);
    expect(kept[0]?.sequence).toBe(0);
    // Newest frames are never thinned, and sequence order holds.
    expect(kept.slice(-40).map((item) => item.sequence)).toEqual(Array.from({ length: 40 }, (_value, index) => 110 + index));
    expect(history.after(147, 10).map((item) => item.sequence)).toEqual([148, 149]);
    history.finish('a');
    expect(history.after(147, 10).map((item) => item.runId)).toEqual(['a', 'a']);
    history.start('b');
    expect(history.after(-1, 10)).toEqual([]);
    history.push(frame('b', 0));
    expect(history.after(-1, 10)).toEqual([frame('b', 0)]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/shared/message';
import { compileThresholds } from '../../src/shared/scenario';
import { initHistograms, decodeHistogram } from '../../src/main/lab/common/create-histogram';
import { MetricsWindow } from '../../src/main/lab/metrics/run-metrics';
import { evaluateThresholds } from '../../src/main/lab/metrics/thresholds';

let window: MetricsWindow;

const accepted = (e2e: number): Outcome => ({ status: 'accepted', changes: [], packet: { bundle: false, messages: [], bytes: 0 }, timings: { validate: 2_000, limit: 5_000, encode: 1_000, send: 20_000, e2e } });
const rejected = (code: 'rate_limited_user' | 'bad_value'): Outcome => ({ status: 'rejected', rejection: { code, detail: '' }, timings: { validate: 2_000 } });

beforeAll(async () => {
  expect(['wasm', 'js']).toContain(await initHistograms());
  window = new MetricsWindow();
  // 1000 messages: e2e 1..1000 µs, 100 rate-limited, 10 bad values, 2 failures.
  for (let i = 1; i <= 1000; i++) {
    window.recordStart(i % 100 === 0 ? 3_000_000 : 50_000, i % 100 === 0);
    if (i <= 100) window.recordOutcome(rejected('rate_limited_user'));
    else if (i <= 110) window.recordOutcome(rejected('bad_value'));
    else if (i <= 112) window.recordOutcome({ status: 'failed', error: 'socket closed', timings: {} });
    else window.recordOutcome(accepted(i * 1000));
  }
});
afterAll(() => window.destroy());

describe('thresholds', () => {
  it('pass as written', () => {
    const verdicts = evaluateThresholds(
      compileThresholds({ 'e2e.p99': '<2ms', 'errors.rate': '<1%', 'rejected.rate_limited_user.rate': '<=10%', 'validate.p95': '<100us', 'late.count': '<=10', 'lost.count': '<1', throughput: '>=100' }),
      window.view(5000),
    );
    expect(verdicts.map((verdict) => [verdict.key, verdict.passed])).toEqual([
      ['e2e.p99', true],
      ['errors.rate', true],
      ['rejected.rate_limited_user.rate', true],
      ['validate.p95', true],
      ['late.count', true],
      ['lost.count', true],
      ['throughput', true],
    ]);
    expect(verdicts[0]?.samples).toBe(888);
  });

  it('fail as written, saying by how much', () => {
    const verdicts = evaluateThresholds(compileThresholds({ 'e2e.p99': '<500us', 'errors.rate': '<0.1%', 'rejected.rate': '<5%', 'slip.max': '<1ms', 'tap.p99': '<1ms' }), window.view(5000));
    expect(verdicts.every((verdict) => !verdict.passed)).toBe(true);
    const e2e = verdicts[0];
    expect(e2e?.actual).toBeGreaterThan(980_000);
    expect(e2e?.excess).toBeCloseTo((e2e?.actual ?? 0) - 500_000);
    expect(e2e?.ratio).toBeGreaterThan(1.9);
    expect(verdicts[1]).toMatchObject({ actual: 0.002, limit: 0.001 });
    expect(verdicts[2]?.actual).toBeCloseTo(0.11);
    // No tap samples: a threshold on a stage that never ran fails rather than passing silently.
    expect(verdicts[4]).toMatchObject({ passed: false, samples: 0 });
    expect(verdicts[4]?.actual).toBeUndefined();
  });

  it('skip metrics with no samples while the run is going on', () => {
    expect(evaluateThresholds(compileThresholds({ 'tap.p99': '<1ms' }), window.view(5000), true)).toEqual([]);
  });

  it('compare > and >= the other way round', () => {
    const [verdict] = evaluateThresholds(compileThresholds({ throughput: '>1000' }), window.view(5000));
    expect(verdict).toMatchObject({ passed: false, actual: 200, excess: 800 });
  });

  it('travel as compressed base64 that decodes to the same histogram', () => {
    const encoded = window.stages.encode();
    const decoded = decodeHistogram(encoded.e2e ?? '');
    expect(decoded.totalCount).toBe(888);
    expect(decoded.getValueAtPercentile(99)).toBe(window.stages.get('e2e').getValueAtPercentile(99));
    decoded.destroy();
  });
});

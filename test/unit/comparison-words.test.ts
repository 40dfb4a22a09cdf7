import { describe, expect, it } from 'vitest';
import { comparisonRowTone, wholeRunDriver } from '../../src/shared/comparison-words';
import type { ComparisonReading } from '../../src/shared/report';

const reading = (wholeChange: number, typicalChange: number, slower: number, faster = 0): ComparisonReading => ({
  figure: 'e2e p99',
  typical: { baselineMs: 20, candidateMs: 20 * (1 + typicalChange), change: typicalChange },
  wholeRun: { baselineMs: 20.3, candidateMs: 20.3 * (1 + wholeChange), change: wholeChange },
  slowerThanAnyBaseline: slower,
  candidateIntervals: 301,
  fasterThanAnyCandidate: faster,
  baselineIntervals: 300,
  sentence: '',
});

describe('a comparison that cannot contradict itself', () => {
  it('never colours a row red when the verdict is not a regression, however much the whole-run figure moved', () => {
    // The case: whole-run p99 +137 % while the verdict says NOT SIGNIFICANT.
    expect(comparisonRowTone(1.367, 'unchanged')).toBe('');
    expect(comparisonRowTone(1.367, 'regressed')).toBe('bad');
    expect(comparisonRowTone(0.03, 'regressed')).toBe('');
    expect(comparisonRowTone(-0.2, 'improved')).toBe('ok');
    expect(comparisonRowTone(-0.2, 'unchanged')).toBe('');
    expect(comparisonRowTone(null, 'regressed')).toBe('');
  });

  it('says in words which intervals drove the whole-run figure', () => {
    expect(wholeRunDriver(reading(1.367, 0.137, 3))).toBe('driven by 3 of 301 intervals of this run (slower than any interval of the other run)');
    expect(wholeRunDriver(reading(-0.5, -0.02, 0, 4))).toBe('driven by 4 of 300 intervals of the other run (slower than any interval of this run)');
    expect(wholeRunDriver(reading(0.1, 0.1, 0))).toBeNull();
    expect(wholeRunDriver(undefined)).toBeNull();
  });
});

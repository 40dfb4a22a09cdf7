import type { ComparisonReading, ComparisonVerdict } from './report';

/**
 * How a comparison row is coloured: red or green only when the verdict says the runs differ, and
 * then only for rows that moved the same way by more than 5 %. A whole-run figure can move a lot
 * on a few slow intervals while the verdict (about the typical interval) says "not significant":
 * that row is neutral, with the reason beside it (`wholeRunDriver`).
 */
export function comparisonRowTone(change: number | null, verdict: ComparisonVerdict): 'bad' | 'ok' | '' {
  if (change === null) return '';
  if (verdict === 'regressed' && change > 0.05) return 'bad';
  if (verdict === 'improved' && change < -0.05) return 'ok';
  return '';
}

/** "driven by 3 of 301 intervals": what moved the whole-run figure apart from the typical interval, or null when nothing stands out. */
export function wholeRunDriver(reading: ComparisonReading | undefined): string | null {
  if (!reading) return null;
  const whole = reading.wholeRun.change;
  const typical = reading.typical.change;
  if (whole === null) return null;
  const apart = whole - (typical ?? 0);
  const count = (value: number): string => value.toLocaleString('en-US');
  if (apart > 0 && reading.slowerThanAnyBaseline > 0)
    return `driven by ${count(reading.slowerThanAnyBaseline)} of ${count(reading.candidateIntervals)} intervals of this run (slower than any interval of the other run)`;
  if (apart < 0 && reading.fasterThanAnyCandidate > 0)
    return `driven by ${count(reading.fasterThanAnyCandidate)} of ${count(reading.baselineIntervals)} intervals of the other run (slower than any interval of this run)`;
  return null;
}

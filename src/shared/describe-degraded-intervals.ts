import type { DegradedInterval } from './run';

/** "3.2–10.4 s, 12.0 s to the end" for people. */
export function describeDegradedIntervals(intervals: readonly DegradedInterval[]): string {
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  return intervals.map((interval) => (interval.toMs === undefined ? `${seconds(interval.fromMs)} s to the end` : `${seconds(interval.fromMs)}–${seconds(interval.toMs)} s`)).join(', ');
}

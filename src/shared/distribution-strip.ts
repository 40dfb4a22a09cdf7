import type { IntervalDistribution } from './report';

/** One row of the per-interval picture: a box from p25 to p75, whiskers to min and p95, dots for the slowest. */
export interface StripRow {
  readonly label: string;
  readonly y: number;
  readonly whisker: readonly [number, number];
  readonly box: readonly [number, number];
  readonly median: number;
  readonly dots: readonly number[];
}

export interface StripLayout {
  readonly width: number;
  readonly height: number;
  readonly plot: { readonly left: number; readonly right: number };
  readonly ticks: readonly { readonly x: number; readonly label: string }[];
  readonly rows: readonly StripRow[];
}

/** A round step for about `count` ticks across `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

/**
 * Where each mark of the two runs' per-interval distributions goes on one shared millisecond
 * axis (both the console and the HTML export draw from this, so they show the same picture).
 */
export function layoutDistributionStrip(rows: readonly { label: string; distribution: IntervalDistribution | null }[], width = 560): StripLayout {
  const left = 72;
  const right = width - 24;
  const rowHeight = 26;
  const top = 8;
  const present = rows.flatMap((row) => (row.distribution ? [row.distribution] : []));
  const highest = Math.max(1e-6, ...present.map((distribution) => distribution.maxMs));
  const step = niceStep(highest, 5);
  const axisMax = Math.ceil(highest / step) * step;
  const x = (valueMs: number): number => left + (Math.max(0, valueMs) / axisMax) * (right - left);
  const ticks: { x: number; label: string }[] = [];
  for (let value = 0; value <= axisMax + step / 2; value += step) ticks.push({ x: x(value), label: `${Number(value.toPrecision(6))}` });
  // The unit rides on the last tick, where it cannot collide with another label.
  const last = ticks.at(-1);
  if (last) ticks[ticks.length - 1] = { ...last, label: `${last.label} ms` };
  const laidOut = rows.flatMap((row, index) => {
    const distribution = row.distribution;
    if (!distribution) return [];
    return [
      {
        label: row.label,
        y: top + index * rowHeight + rowHeight / 2,
        whisker: [x(distribution.minMs), x(distribution.p95Ms)] as const,
        box: [x(distribution.p25Ms), x(distribution.p75Ms)] as const,
        median: x(distribution.medianMs),
        dots: distribution.slowestMs.map(x),
      },
    ];
  });
  return { width, height: top + rows.length * rowHeight + 22, plot: { left, right }, ticks, rows: laidOut };
}

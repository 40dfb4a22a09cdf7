// One way to write a figure everywhere in the console: thousands separators, 24-hour times,
// units always. Only display conversion happens here; every statistic comes from the engine.

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const TIME_OF_DAY = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** 12,345 (whole numbers with thousands separators). */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? '–' : GROUPED.format(value);
}

/** A figure with as many decimals as its size needs: 0.123, 1.23, 12.3, 1,234. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || Number.isInteger(value)) return GROUPED.format(value);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** Nanoseconds as milliseconds, without the unit (table cells under an "ms" heading). */
export function formatNsAsMs(ns: number | null | undefined): string {
  return ns === null || ns === undefined ? '–' : formatValue(ns / 1e6);
}

/** A ratio 0..1 as a percentage: "0.42 %". */
export function formatPercent(ratio: number | null | undefined, digits = 2): string {
  return ratio === null || ratio === undefined || Number.isNaN(ratio) ? '–' : `${(ratio * 100).toFixed(digits)} %`;
}

/** "2026-11-26 19:10:59": sortable, 24-hour, the same on every bench (local time). */
export function formatDateTime(ms: number): string {
  const date = new Date(ms);
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${TIME_OF_DAY.format(date)}`;
}

/** "19:10:59" (local, 24-hour). */
export function formatTimeOfDay(ms: number): string {
  return TIME_OF_DAY.format(new Date(ms));
}

/** "850 ms", "12.4 s", "3 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${pad(Math.round((ms % 60_000) / 1000))} s`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

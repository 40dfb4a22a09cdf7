const SECONDS = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** A message time as a log writes it: seconds (any origin), or an ISO 8601 date and time. */
export interface LogTime {
  readonly ms: number;
  /** An ISO 8601 time: a moment on the wall clock, not an offset. */
  readonly wallClock: boolean;
}

/**
 * Reads `t` of JSON Lines and CSV: a number of seconds (3.25, "3.25") or an ISO 8601 time
 * ("2025-03-07T20:15:00.120Z"); undefined for anything else.
 */
export function parseLogTime(value: unknown): LogTime | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? { ms: value * 1000, wallClock: false } : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? { ms: seconds * 1000, wallClock: false } : undefined;
  }
  return isoTime(text);
}

/** An ISO 8601 date and time (a space may stand for the T), as ms since the epoch. */
export function isoTime(text: string): LogTime | undefined {
  if (!ISO_DATE_TIME.test(text)) return undefined;
  const ms = Date.parse(text.charCodeAt(10) === 32 ? `${text.slice(0, 10)}T${text.slice(11)}` : text);
  return Number.isFinite(ms) ? { ms, wallClock: true } : undefined;
}

/**
 * What the technician chose for the scope, shared by every chart without going through
 * React renders: the charts' animation loops read it each frame and redraw when `revision` moves.
 */
export interface ScopeView {
  /** Seconds of run time across the screen (1 s to 10 min). */
  windowSeconds: number;
  /** Frozen: the traces stop moving while frames keep arriving underneath. */
  paused: boolean;
  /** Fixed top of the latency scale in ms; null: auto. */
  fixedMaxMs: number | null;
  /** Cursor A and B, in seconds of run time. */
  cursors: [number | null, number | null];
  revision: number;
}

export const TIMEBASES_SECONDS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600] as const;

export function createScopeView(): ScopeView {
  return { windowSeconds: 30, paused: false, fixedMaxMs: null, cursors: [null, null], revision: 0 };
}

/** "1 s", "30 s", "2 min". */
export function formatTimebase(seconds: number): string {
  return seconds < 60 ? `${seconds} s` : `${seconds / 60} min`;
}

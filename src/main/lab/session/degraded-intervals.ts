import type { DegradedInterval, RunFrame } from '../../../shared/run';

/** Redis stopped answering (the in-process limiter stands in), or answers again. */
export interface DegradedChange {
  readonly state: 'degraded' | 'recovered';
  /** ms since the run started (the frame that showed it). */
  readonly atMs: number;
  readonly limiterFallbacks: number;
  /** The store's words: why it degraded (which Cluster node and slot), or why it recovered. */
  readonly reason?: string;
}

/**
 * Follows a run's frames and keeps the stretches during which Redis did not answer: one begins
 * with the first frame whose limiter fallbacks grew (or that says degraded), and ends with the
 * first frame that says the store is not degraded and whose fallbacks did not grow. Frames
 * that do not say (merged frames of several instances) end a stretch only at the end of the run.
 */
export class DegradedIntervals {
  private readonly closed: DegradedInterval[] = [];
  private openSinceMs: number | undefined;
  private openReason: string | undefined;
  private fallbacks = 0;

  /** The change this frame shows, if any. */
  observe(frame: RunFrame): DegradedChange | undefined {
    const grew = frame.limiterFallbacks > this.fallbacks;
    this.fallbacks = Math.max(this.fallbacks, frame.limiterFallbacks);
    if (this.openSinceMs === undefined && (grew || frame.degraded === true)) {
      this.openSinceMs = frame.atMs;
      // A frame that is no longer degraded (a short stretch between two frames) holds the word of its recovery.
      this.openReason = frame.degraded === true ? frame.degradedReason : undefined;
      return { state: 'degraded', atMs: frame.atMs, limiterFallbacks: this.fallbacks, ...(this.openReason ? { reason: this.openReason } : {}) };
    }
    if (this.openSinceMs !== undefined && !grew && frame.degraded === false) {
      this.closed.push({ fromMs: this.openSinceMs, toMs: frame.atMs, ...(this.openReason ? { reason: this.openReason } : {}) });
      this.openSinceMs = undefined;
      this.openReason = undefined;
      return { state: 'recovered', atMs: frame.atMs, limiterFallbacks: this.fallbacks, ...(frame.degradedReason ? { reason: frame.degradedReason } : {}) };
    }
    return undefined;
  }

  get degraded(): boolean {
    return this.openSinceMs !== undefined;
  }

  get limiterFallbacks(): number {
    return this.fallbacks;
  }

  /** Every stretch so far, the open one last (without an end). */
  intervals(): DegradedInterval[] {
    return this.openSinceMs === undefined ? [...this.closed] : [...this.closed, { fromMs: this.openSinceMs, ...(this.openReason ? { reason: this.openReason } : {}) }];
  }
}

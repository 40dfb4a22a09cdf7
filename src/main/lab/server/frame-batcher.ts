/**
 * Collects values and hands them on as one array at most `maxPerSecond` times a second, so
 * the console's wire and its renderer see ≤ 20 updates/s whatever the engine's interval.
 */
export class FrameBatcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastFlushMs = 0;
  private readonly gapMs: number;

  constructor(
    maxPerSecond: number,
    private readonly deliver: (batch: T[]) => void,
  ) {
    this.gapMs = 1000 / maxPerSecond;
  }

  push(value: T): void {
    this.pending.push(value);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlushMs + this.gapMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }

  /** Delivers what is pending now (the end of a run must not wait for the next slot). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastFlushMs = performance.now();
    this.deliver(batch);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}

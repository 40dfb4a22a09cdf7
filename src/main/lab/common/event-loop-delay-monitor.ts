import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** Event-loop delay of one thread over some span, ns. */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

const NONE: LoopDelay = { p50: 0, p99: 0, max: 0, count: 0 };
const delayOf = (histogram: RecordableHistogram): LoopDelay =>
  histogram.count > 0 ? { p50: histogram.percentile(50), p99: histogram.percentile(99), max: histogram.max, count: histogram.count } : NONE;

/**
 * Event-loop delay of the calling thread, per interval and over the whole run: a timer every
 * `resolutionMs` records how late it fired. Node's monitorEventLoopDelay cannot serve per
 * interval: its reset() also forgets the previous tick, so a stall just before a reset (the
 * very interval that should show it) is dropped.
 */
export class EventLoopDelayMonitor {
  private readonly interval = createHistogram();
  private readonly total = createHistogram();
  private timer: NodeJS.Timeout | undefined;
  private lastMs = 0;

  constructor(private readonly resolutionMs = 2) {}

  start(): void {
    if (this.timer) return;
    this.lastMs = performance.now();
    this.timer = setInterval(() => {
      const nowMs = performance.now();
      const lateNs = Math.max(1, Math.round((nowMs - this.lastMs - this.resolutionMs) * 1e6));
      this.lastMs = nowMs;
      this.interval.record(lateNs);
      this.total.record(lateNs);
    }, this.resolutionMs);
    // The monitor alone must not keep a thread alive.
    this.timer.unref();
  }

  /** The delay since the last call (or the start); starts a new interval. */
  takeInterval(): LoopDelay {
    const delay = delayOf(this.interval);
    this.interval.reset();
    return delay;
  }

  /** The delay since the start. */
  overall(): LoopDelay {
    return delayOf(this.total);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

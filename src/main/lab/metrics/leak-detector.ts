import type { LeakVerdict } from '../../../shared/run';

export interface LeakDetectorOptions {
  /** One heap point per window: the window's lowest heap (or the post-GC heap when forced). */
  readonly windowMs: number;
  readonly toleranceBytesPerHour: number;
  readonly method: LeakVerdict['method'];
  /** Points kept; beyond it neighbours merge, so memory stays bounded for any run length. */
  readonly maxPoints?: number;
  /** A straight line must explain at least this share of the variance to call it a leak. */
  readonly minRSquared?: number;
}

/**
 * Soak leak detection: fits a least-squares line to heap-after-GC over time and flags a leak
 * when the slope exceeds the tolerance and the line explains the series (R²), so a sawtooth or
 * noise around a flat level is not called a leak. The first fifth of the points (warm-up: JIT,
 * pools, caches filling) is left out of the fit once there are enough of them.
 */
export class LeakDetector {
  private times: number[] = [];
  private heaps: number[] = [];
  private windowStartMs: number | undefined;
  private windowMinimum = Number.POSITIVE_INFINITY;
  private readonly maxPoints: number;
  private readonly minRSquared: number;

  constructor(private readonly options: LeakDetectorOptions) {
    this.maxPoints = options.maxPoints ?? 2048;
    this.minRSquared = options.minRSquared ?? 0.5;
  }

  /** Feeds a heap reading; the window's minimum becomes one point when the window closes. */
  sample(atMs: number, heapBytes: number): void {
    if (this.windowStartMs === undefined) this.windowStartMs = atMs;
    if (atMs - this.windowStartMs >= this.options.windowMs) {
      if (Number.isFinite(this.windowMinimum)) this.addPoint(atMs, this.windowMinimum);
      this.windowStartMs = atMs;
      this.windowMinimum = Number.POSITIVE_INFINITY;
    }
    if (heapBytes < this.windowMinimum) this.windowMinimum = heapBytes;
  }

  /** Adds a point directly (heap measured right after a forced GC). */
  addPoint(atMs: number, heapBytes: number): void {
    this.times.push(atMs);
    this.heaps.push(heapBytes);
    if (this.times.length > this.maxPoints) this.halve();
  }

  get points(): number {
    return this.times.length;
  }

  verdict(): LeakVerdict {
    const skip = this.times.length >= 10 ? Math.floor(this.times.length / 5) : 0;
    const times = this.times.slice(skip);
    const heaps = this.heaps.slice(skip);
    const n = times.length;
    const toleranceBytesPerHour = this.options.toleranceBytesPerHour;
    const base = { toleranceBytesPerHour, samples: n, method: this.options.method, ...(n > 0 ? { firstHeapBytes: heaps[0], lastHeapBytes: heaps[n - 1], spanMs: (times[n - 1] as number) - (times[0] as number) } : {}) };
    if (n < 3) return { ...base, leaking: false, slopeBytesPerHour: 0, rSquared: 0 };
    let meanT = 0;
    let meanH = 0;
    for (let i = 0; i < n; i++) {
      meanT += (times[i] as number) / n;
      meanH += (heaps[i] as number) / n;
    }
    let covariance = 0;
    let varianceT = 0;
    let varianceH = 0;
    for (let i = 0; i < n; i++) {
      const dt = (times[i] as number) - meanT;
      const dh = (heaps[i] as number) - meanH;
      covariance += dt * dh;
      varianceT += dt * dt;
      varianceH += dh * dh;
    }
    if (varianceT === 0) return { ...base, leaking: false, slopeBytesPerHour: 0, rSquared: 0 };
    const slopePerMs = covariance / varianceT;
    const rSquared = varianceH === 0 ? 0 : (covariance * covariance) / (varianceT * varianceH);
    const slopeBytesPerHour = slopePerMs * 3_600_000;
    return { ...base, leaking: slopeBytesPerHour > toleranceBytesPerHour && rSquared >= this.minRSquared, slopeBytesPerHour, rSquared };
  }

  private halve(): void {
    const times: number[] = [];
    const heaps: number[] = [];
    for (let i = 0; i + 1 < this.times.length; i += 2) {
      times.push(((this.times[i] as number) + (this.times[i + 1] as number)) / 2);
      heaps.push(Math.min(this.heaps[i] as number, this.heaps[i + 1] as number));
    }
    this.times = times;
    this.heaps = heaps;
  }
}

import type { ClockFit } from '../../../shared/loopback';

// Maps the probe's microsecond clock to the host's from PING/PONG exchanges.
// Each exchange gives (host send, probe stamp, host receive); the probe stamped somewhere
// inside the round trip, so the midpoint is the estimate and half the round trip bounds its
// error. A serial link's jitter makes most round trips long and lopsided; the shortest ones
// are nearly symmetric, so only they are kept (minimum-round-trip filtering), and a line
// probe = a + b·host is fitted through their midpoints (offset and drift).
//
// Numbers: host times come in as µs since the caller's epoch and probe stamps are rebased on
// the first stamp seen, so the fit works on values of a few seconds to hours, never on
// 10^9..10^12 µs absolute values whose squares would lose precision in a double.

export interface ClockSample {
  /** Host time the PING was written, µs since the caller's epoch. */
  hostSendUs: number;
  /** Host time the PONG line arrived, µs since the caller's epoch. */
  hostReceiveUs: number;
  /** The probe's stamp in the PONG, µs on its own clock. */
  probeUs: number;
}

export interface ClockModelOptions {
  /** Samples are grouped in bins of this length and the shortest round trips of each bin kept. */
  binUs?: number;
  /** Fraction of each bin kept (shortest round trips first); at least one sample per bin. */
  keepFraction?: number;
  /** Absolute host time of the caller's epoch, µs: only used to report the offset in absolute terms. */
  hostEpochUs?: number;
}

interface Line {
  /** probe − probeBase = intercept + slope · (host − center) */
  intercept: number;
  slope: number;
  center: number;
  residualUs: number;
  kept: number;
  spanUs: number;
  /** Half-width of the band the exchanges leave for the intercept, µs (0 for a plain regression). */
  boundUs: number;
}

const MIN_SPAN_FOR_DRIFT_US = 200_000;
const MAX_DRIFT = 1000e-6;

/** The fitted offset-and-drift model between a probe's clock and the host's. */
export class ClockModel {
  private readonly samples: ClockSample[] = [];
  private probeBase: number | undefined;
  private readonly binUs: number;
  private readonly keepFraction: number;
  private readonly hostEpochUs: number;
  private cached: Line | undefined;

  constructor(options: ClockModelOptions = {}) {
    this.binUs = options.binUs ?? 250_000;
    this.keepFraction = options.keepFraction ?? 0.2;
    this.hostEpochUs = options.hostEpochUs ?? 0;
  }

  /** Adds one PING/PONG exchange. Exchanges with a negative round trip are ignored. */
  add(sample: ClockSample): void {
    if (!(sample.hostReceiveUs >= sample.hostSendUs)) return;
    this.probeBase ??= sample.probeUs;
    this.samples.push(sample);
    this.cached = undefined;
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  /** The fit over every sample so far, or null before the first sample. */
  fit(): ClockFit | null {
    const line = this.line();
    return line ? this.describe(line) : null;
  }

  /** Maps a probe stamp to host µs since the epoch, with a fit local to that instant (±windowUs). */
  toHost(probeUs: number, windowUs = Number.POSITIVE_INFINITY): number | null {
    const global = this.line();
    if (!global || this.probeBase === undefined) return null;
    const guess = this.invert(global, probeUs);
    if (!Number.isFinite(windowUs)) return guess;
    const local = this.line(guess - windowUs, guess + windowUs);
    return local ? this.invert(local, probeUs) : guess;
  }

  /** Maps host µs since the epoch to the probe's clock (the emulator's ground truth uses this in tests). */
  toProbe(hostUs: number): number | null {
    const line = this.line();
    if (!line || this.probeBase === undefined) return null;
    return this.probeBase + line.intercept + line.slope * (hostUs - line.center);
  }

  private invert(line: Line, probeUs: number): number {
    return line.center + (probeUs - (this.probeBase ?? 0) - line.intercept) / line.slope;
  }

  private kept(fromUs: number, toUs: number): ClockSample[] {
    const bins = new Map<number, ClockSample[]>();
    for (const sample of this.samples) {
      const mid = (sample.hostSendUs + sample.hostReceiveUs) / 2;
      if (mid < fromUs || mid > toUs) continue;
      const bin = Math.floor(mid / this.binUs);
      const list = bins.get(bin);
      if (list) list.push(sample);
      else bins.set(bin, [sample]);
    }
    const kept: ClockSample[] = [];
    for (const list of bins.values()) {
      list.sort((left, right) => left.hostReceiveUs - left.hostSendUs - (right.hostReceiveUs - right.hostSendUs));
      kept.push(...list.slice(0, Math.max(1, Math.round(list.length * this.keepFraction))));
    }
    return kept;
  }

  private line(fromUs = Number.NEGATIVE_INFINITY, toUs = Number.POSITIVE_INFINITY): Line | null {
    const whole = fromUs === Number.NEGATIVE_INFINITY && toUs === Number.POSITIVE_INFINITY;
    if (whole && this.cached) return this.cached;
    const kept = this.kept(fromUs, toUs);
    if (kept.length === 0) return null;
    const rough = this.regress(kept);
    const inRange = this.samples.filter((sample) => {
      const mid = (sample.hostSendUs + sample.hostReceiveUs) / 2;
      return mid >= fromUs && mid <= toUs;
    });
    const line = this.band(inRange, rough) ?? rough;
    let squares = 0;
    for (const sample of kept) squares += this.residual(line, sample) ** 2;
    line.residualUs = Math.sqrt(squares / kept.length);
    if (whole) this.cached = line;
    return line;
  }

  /**
   * Each exchange says the probe stamped between the host's send and receive, which bounds the
   * line's intercept from both sides. The tightest bounds come from the exchange with the
   * quickest PING leg and the one with the quickest PONG leg, separately, so this needs far
   * fewer lucky exchanges than a midpoint needing both legs quick at once. The slope is chosen
   * to leave the widest band (the bounds are linear in the slope, so the width is concave and
   * a ternary search finds its peak); the intercept is the band's middle. Returns null when the
   * exchanges contradict each other (a reboot, a corrupted stamp): the regression stands in.
   */
  private band(samples: ClockSample[], rough: Line): Line | null {
    if (samples.length < 2) return null;
    const base = this.probeBase ?? 0;
    const center = rough.center;
    const bounds = (slope: number): { low: number; high: number } => {
      let low = Number.NEGATIVE_INFINITY;
      let high = Number.POSITIVE_INFINITY;
      for (const sample of samples) {
        const y = sample.probeUs - base;
        low = Math.max(low, y - slope * (sample.hostReceiveUs - center));
        high = Math.min(high, y - slope * (sample.hostSendUs - center));
      }
      return { low, high };
    };
    let slope = 1;
    if (rough.spanUs >= MIN_SPAN_FOR_DRIFT_US) {
      // Search all plausible crystals (±1000 ppm), not around the regression: under a loaded
      // host the regression's slope can be far off, and the band needs no starting guess.
      let left = 1 - MAX_DRIFT;
      let right = 1 + MAX_DRIFT;
      for (let step = 0; step < 100; step += 1) {
        const third = (right - left) / 3;
        const a = bounds(left + third);
        const b = bounds(right - third);
        if (a.high - a.low < b.high - b.low) left += third;
        else right -= third;
      }
      slope = (left + right) / 2;
    }
    const { low, high } = bounds(slope);
    if (!(high >= low)) return null;
    return { intercept: (low + high) / 2, slope, center, residualUs: 0, kept: rough.kept, spanUs: rough.spanUs, boundUs: (high - low) / 2 };
  }

  private residual(line: Line, sample: ClockSample): number {
    const x = (sample.hostSendUs + sample.hostReceiveUs) / 2 - line.center;
    const y = sample.probeUs - (this.probeBase ?? 0);
    return y - (line.intercept + line.slope * x);
  }

  private regress(kept: ClockSample[]): Line {
    const base = this.probeBase ?? 0;
    const xs = kept.map((sample) => (sample.hostSendUs + sample.hostReceiveUs) / 2);
    const ys = kept.map((sample) => sample.probeUs - base);
    const n = xs.length;
    const center = xs.reduce((sum, x) => sum + x, 0) / n;
    const meanY = ys.reduce((sum, y) => sum + y, 0) / n;
    let sxx = 0;
    let sxy = 0;
    let minX = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < n; index += 1) {
      const dx = (xs[index] as number) - center;
      sxx += dx * dx;
      sxy += dx * ((ys[index] as number) - meanY);
      minX = Math.min(minX, xs[index] as number);
      maxX = Math.max(maxX, xs[index] as number);
    }
    // Too short a span cannot tell drift from noise: assume equal rates until it grows.
    const spanUs = maxX - minX;
    const slope = n >= 3 && spanUs >= MIN_SPAN_FOR_DRIFT_US && sxx > 0 ? sxy / sxx : 1;
    const line: Line = { intercept: meanY, slope, center, residualUs: 0, kept: n, spanUs, boundUs: 0 };
    let squares = 0;
    for (const sample of kept) squares += this.residual(line, sample) ** 2;
    line.residualUs = Math.sqrt(squares / n);
    return line;
  }

  private describe(line: Line): ClockFit {
    const trips = this.samples.map((sample) => sample.hostReceiveUs - sample.hostSendUs).sort((left, right) => left - right);
    const probeAtCenter = (this.probeBase ?? 0) + line.intercept;
    return {
      offsetUs: probeAtCenter - (this.hostEpochUs + line.center),
      driftPpm: (line.slope - 1) * 1e6,
      residualUs: line.residualUs,
      samples: this.samples.length,
      kept: line.kept,
      minRoundTripUs: trips[0] ?? 0,
      medianRoundTripUs: trips[Math.floor(trips.length / 2)] ?? 0,
      spanS: line.spanUs / 1e6,
      boundUs: line.boundUs,
    };
  }
}

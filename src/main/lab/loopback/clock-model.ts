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

// Protocol 1.1 adds what NTP has: the probe's reply stamp (txUs), so its turnaround is taken
// out of the round trip, and on a UART link each line's time on the wire (bytes × 10 / baud)
// is taken out of its own leg: the PING's last byte lands pingWireUs after the host wrote its
// first, and the PONG's last byte leaves pongWireUs after the probe wrote its first. What is
// left is the USB and driver delay of each leg, which minimum-round-trip filtering handles.

export interface ClockSample {
  /** Host time the PING was written, µs since the caller's epoch. */
  hostSendUs: number;
  /** Host time the PONG line arrived, µs since the caller's epoch. */
  hostReceiveUs: number;
  /** The probe's stamp when the PING's last byte was read, µs on its own clock. */
  probeUs: number;
  /** The probe's stamp right before the PONG's first byte was written (1.0 probe: absent, = probeUs). */
  probeTxUs?: number;
  /** Time the PING line spends on the wire (UART: bytes × 10 / baud), µs; 0 on native USB. */
  pingWireUs?: number;
  /** Time the PONG line spends on the wire, µs; 0 on native USB. */
  pongWireUs?: number;
}

/** A sample reduced to one probe instant inside a host interval (turnaround and wire time taken out). */
interface Exchange {
  hostSendUs: number;
  hostReceiveUs: number;
  probeUs: number;
  /** The raw round trip, for the figures reported. */
  roundTripUs: number;
  turnaroundUs: number;
  wireUs: number;
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
  private readonly samples: Exchange[] = [];
  /** Exchanges whose corrected interval came out negative: the link is faster than the stated wire. */
  private contradicting = 0;
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
    const txUs = sample.probeTxUs ?? sample.probeUs;
    const turnaroundUs = Math.max(0, txUs - sample.probeUs);
    const wireUs = (sample.pingWireUs ?? 0) + (sample.pongWireUs ?? 0);
    const hostSendUs = sample.hostSendUs + (sample.pingWireUs ?? 0);
    // The probe's turnaround is in its own clock; its drift (≤ 1000 ppm) over ≤ ms is below 1 µs.
    let hostReceiveUs = sample.hostReceiveUs - (sample.pongWireUs ?? 0) - turnaroundUs;
    if (hostReceiveUs < hostSendUs) {
      // Faster than the wire allows: count it, and keep it as a zero-width interval.
      this.contradicting += 1;
      hostReceiveUs = hostSendUs;
    }
    this.probeBase ??= sample.probeUs;
    this.samples.push({
      hostSendUs,
      hostReceiveUs,
      probeUs: sample.probeUs,
      roundTripUs: sample.hostReceiveUs - sample.hostSendUs,
      turnaroundUs,
      wireUs,
    });
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

  private kept(fromUs: number, toUs: number): Exchange[] {
    const bins = new Map<number, Exchange[]>();
    for (const sample of this.samples) {
      const mid = (sample.hostSendUs + sample.hostReceiveUs) / 2;
      if (mid < fromUs || mid > toUs) continue;
      const bin = Math.floor(mid / this.binUs);
      const list = bins.get(bin);
      if (list) list.push(sample);
      else bins.set(bin, [sample]);
    }
    const kept: Exchange[] = [];
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
  private band(samples: Exchange[], rough: Line): Line | null {
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

  private residual(line: Line, sample: Exchange): number {
    const x = (sample.hostSendUs + sample.hostReceiveUs) / 2 - line.center;
    const y = sample.probeUs - (this.probeBase ?? 0);
    return y - (line.intercept + line.slope * x);
  }

  private regress(kept: Exchange[]): Line {
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
    const trips = this.samples.map((sample) => sample.roundTripUs).sort((left, right) => left - right);
    const turnarounds = this.samples.map((sample) => sample.turnaroundUs).sort((left, right) => left - right);
    const medianTurnaroundUs = turnarounds[Math.floor(turnarounds.length / 2)] ?? 0;
    // What the quickest exchange should take: both lines on the wire plus the probe's turnaround.
    const quickest = this.samples.reduce<Exchange | undefined>(
      (best, sample) => (best === undefined || sample.roundTripUs < best.roundTripUs ? sample : best),
      undefined,
    );
    const expectedMinRoundTripUs = quickest ? quickest.wireUs + quickest.turnaroundUs : 0;
    const minRoundTripUs = trips[0] ?? 0;
    const probeAtCenter = (this.probeBase ?? 0) + line.intercept;
    return {
      linkFit: this.linkFit(line, minRoundTripUs, expectedMinRoundTripUs),
      expectedMinRoundTripUs,
      medianTurnaroundUs,
      offsetUs: probeAtCenter - (this.hostEpochUs + line.center),
      driftPpm: (line.slope - 1) * 1e6,
      residualUs: line.residualUs,
      samples: this.samples.length,
      kept: line.kept,
      minRoundTripUs,
      medianRoundTripUs: trips[Math.floor(trips.length / 2)] ?? 0,
      spanS: line.spanUs / 1e6,
      boundUs: line.boundUs,
    };
  }

  /**
   * Whether the exchanges look like the link they were modelled as. USB adds at most a couple of
   * ms to the quickest exchange; a USB-serial latency timer (16 ms by default) holds every reply
   * for its whole period, which no round-trip method can split between the legs.
   */
  private linkFit(line: Line, minRoundTripUs: number, expectedMinRoundTripUs: number): NonNullable<ClockFit['linkFit']> {
    if (this.samples.length >= 10 && this.contradicting / this.samples.length > 0.2) return 'faster-than-wire';
    if (minRoundTripUs - expectedMinRoundTripUs > SLOW_LINK_EXCESS_US) return 'slow-link';
    if (line.boundUs > LOOSE_BOUND_US) return 'loose';
    return 'fits';
  }
}

/** More than this above the wire time in the quickest exchange: something holds the replies. */
const SLOW_LINK_EXCESS_US = 4000;
/** A bound wider than this leaves the edge times too loose for a sub-millisecond figure. */
const LOOSE_BOUND_US = 500;

import { describe, expect, it } from 'vitest';
import { LeakDetector } from '../../src/main/lab/metrics/leak-detector';
import { SeededRandom } from '../../src/main/lab/common/seeded-random';

const MiB = 1024 * 1024;
const HOUR_MS = 3_600_000;

/** A 30-minute soak sampled every 100 ms: GC sawtooth on top of a base level that grows or not. */
function soak(growthMiBPerHour: number, seed: number): LeakDetector {
  const detector = new LeakDetector({ windowMs: 10_000, toleranceBytesPerHour: 16 * MiB, method: 'window-minimum' });
  const random = new SeededRandom(seed);
  for (let atMs = 0; atMs <= HOUR_MS / 2; atMs += 100) {
    const base = 40 * MiB + (growthMiBPerHour * MiB * atMs) / HOUR_MS;
    // Young-generation garbage piles up for ~2 s, then a scavenge drops it: the sawtooth.
    const sawtooth = ((atMs % 2000) / 2000) * 12 * MiB;
    detector.sample(atMs, base + sawtooth + random.next() * 2 * MiB);
  }
  return detector;
}

describe('soak leak detector', () => {
  it('flags a deliberate leak', () => {
    const verdict = soak(64, 1).verdict();
    expect(verdict.leaking).toBe(true);
    expect(verdict.slopeBytesPerHour / MiB).toBeGreaterThan(50);
    expect(verdict.slopeBytesPerHour / MiB).toBeLessThan(80);
    expect(verdict.rSquared).toBeGreaterThan(0.9);
    expect(verdict.samples).toBeGreaterThan(100);
  });

  it('does not flag a flat heap', () => {
    const verdict = soak(0, 2).verdict();
    expect(verdict.leaking).toBe(false);
    expect(Math.abs(verdict.slopeBytesPerHour)).toBeLessThan(16 * MiB);
  });

  it('does not flag growth under the tolerance', () => {
    expect(soak(4, 3).verdict().leaking).toBe(false);
  });

  it('ignores a warm-up rise that then levels off', () => {
    const detector = new LeakDetector({ windowMs: 1000, toleranceBytesPerHour: 16 * MiB, method: 'forced-gc' });
    for (let minute = 0; minute < 60; minute++) detector.addPoint(minute * 60_000, (minute < 5 ? 20 + minute * 4 : 40) * MiB);
    expect(detector.verdict().leaking).toBe(false);
  });

  it('keeps memory bounded by merging points', () => {
    const detector = new LeakDetector({ windowMs: 1, toleranceBytesPerHour: 16 * MiB, method: 'forced-gc', maxPoints: 64 });
    for (let i = 0; i < 10_000; i++) detector.addPoint(i * 1000, 40 * MiB + i * 10_000);
    expect(detector.points).toBeLessThanOrEqual(64);
    expect(detector.verdict().leaking).toBe(true);
  });
});

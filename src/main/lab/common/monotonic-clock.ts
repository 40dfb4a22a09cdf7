import { performance } from 'node:perf_hooks';

/**
 * process.hrtime.bigint() at performance.now() = 0, as a number. performance.now() is
 * (hrtime − this thread's time origin) / 1e6, so adding the origin back gives hrtime
 * nanoseconds that every thread of the process shares, without a BigInt per reading.
 * Fitted from the tightest of several bracketing reads: off by a few tens of ns at most.
 */
function hrtimeOriginNs(): number {
  let bestWidth = Infinity;
  let origin = 0;
  for (let attempt = 0; attempt < 32; attempt++) {
    const before = process.hrtime.bigint();
    const nowMs = performance.now();
    const after = process.hrtime.bigint();
    const width = Number(after - before);
    if (width < bestWidth) {
      bestWidth = width;
      origin = Number(before) + width / 2 - nowMs * 1e6;
    }
  }
  return origin;
}

const ORIGIN_NS = hrtimeOriginNs();

/**
 * Now, in process.hrtime nanoseconds as a plain number (the clock of ChatMessage.dueAtNs and of
 * every stage stamp). A double holds these exactly for 104 days of uptime and to a few ns after.
 */
export function monotonicNs(): number {
  return ORIGIN_NS + performance.now() * 1e6;
}

/** A monotonicNs() reading as performance.now() milliseconds (this thread's origin). */
export function performanceMsOf(monotonic: number): number {
  return (monotonic - ORIGIN_NS) / 1e6;
}

import type { AlertFrame } from '../../../shared/alerts';
import type { RunFrame } from '../../../shared/run';

/**
 * A run's interval frame as alert rules read it: stage figures and delays in milliseconds
 * (frames carry ns), outcome counts by status and by rejection code, Redis round trip, heap.
 */
export function alertFrameOf(frame: RunFrame, startedAtMs: number, extraCounters?: Readonly<Record<string, number>>): AlertFrame {
  const stages: Record<string, Record<string, number>> = {};
  for (const [stage, figures] of Object.entries(frame.stages)) {
    if (!figures) continue;
    stages[stage] = { p50: figures.p50 / 1e6, p95: figures.p95 / 1e6, p99: figures.p99 / 1e6, max: figures.max / 1e6, count: figures.count };
  }
  const outcomes: Record<string, number> = { accepted: frame.outcomes.accepted, rejected: frame.outcomes.rejected, failed: frame.outcomes.failed };
  for (const [code, count] of Object.entries(frame.outcomes.byCode)) if (code !== 'failed') outcomes[code] = count;
  return {
    atMs: startedAtMs + frame.atMs,
    stages,
    throughput: frame.throughput,
    outcomes,
    eventLoopDelayMs: frame.eventLoopDelay.p99 / 1e6,
    heapUsedBytes: frame.heapUsedBytes,
    rssBytes: frame.rssBytes,
    cpuPercent: frame.cpuPercent,
    ...(frame.redisRoundTrip !== undefined ? { redisRttMs: frame.redisRoundTrip / 1e6 } : {}),
    counters: { 'limiter.fallbacks': frame.limiterFallbacks, ...extraCounters },
  };
}

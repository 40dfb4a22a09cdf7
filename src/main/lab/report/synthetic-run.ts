import * as hdr from 'hdr-histogram-js';
import type { RunFrame, RunInfo, RunSummary } from '../../../shared/run';
import { SeededRandom } from '../load/seeded-random';
import { createHistogram } from '../metrics/create-histogram';
import { statisticsOf } from '../metrics/histogram-statistics';

export interface SyntheticRunOptions {
  readonly id: string;
  readonly rig?: string;
  readonly scenario?: string;
  readonly startedAtMs?: number;
  readonly intervals?: number;
  readonly messagesPerInterval?: number;
  /** Median end-to-end latency, ms. */
  readonly medianMs?: number;
  /** Multiplies every latency (1.2 = 20% slower). */
  readonly scale?: number;
  readonly seed?: number;
}

export interface SyntheticRun {
  readonly info: RunInfo;
  readonly frames: RunFrame[];
  readonly summary: RunSummary;
}

/**
 * A made-up run with a known latency distribution (log-normal around `medianMs`): frames,
 * histograms and summary shaped exactly like the load engine's. For previews, tests and demos
 * of the report without a rig.
 */
export function createSyntheticRun(options: SyntheticRunOptions): SyntheticRun {
  const random = new SeededRandom(options.seed ?? 1);
  const intervals = options.intervals ?? 100;
  const perInterval = options.messagesPerInterval ?? 200;
  const medianNs = (options.medianMs ?? 2) * 1e6 * (options.scale ?? 1);
  const startedAtMs = options.startedAtMs ?? Date.now();
  const info: RunInfo = {
    id: options.id,
    scenario: options.scenario ?? 'sustained',
    rig: options.rig ?? 'demo',
    state: 'finished',
    startedAt: new Date(startedAtMs).toISOString(),
    plannedDurationMs: intervals * 100,
    plannedMessages: intervals * perInterval,
    seed: options.seed ?? 1,
    intervalMs: 100,
    namespace: `cvlab:run:${options.id}`,
    store: 'memory',
  };
  const total = createHistogram();
  const validateTotal = createHistogram();
  const frames: RunFrame[] = [];
  let accepted = 0;
  let rejected = 0;
  for (let sequence = 0; sequence < intervals; sequence++) {
    const interval = createHistogram();
    for (let index = 0; index < perInterval; index++) {
      // Box–Muller: a normal draw for a log-normal latency with σ = 0.35.
      const u = Math.max(random.next(), 1e-12);
      const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
      const latency = Math.max(1, Math.round(medianNs * Math.exp(0.35 * normal)));
      interval.recordValue(latency);
      total.recordValue(latency);
      validateTotal.recordValue(2_000 + Math.round(random.next() * 1_000));
    }
    const rejectedNow = Math.round(perInterval * 0.05);
    accepted += perInterval - rejectedNow;
    rejected += rejectedNow;
    frames.push({
      runId: options.id,
      sequence,
      atMs: (sequence + 1) * 100,
      intervalMs: 100,
      sent: perInterval,
      completed: perInterval,
      throughput: perInterval * 10,
      inFlight: 0,
      late: 0,
      outcomes: {
        accepted: perInterval - rejectedNow,
        rejected: rejectedNow,
        failed: 0,
        byCode: { out_of_range: rejectedNow },
      },
      stages: {
        e2e: {
          count: interval.totalCount,
          p50: interval.getValueAtPercentile(50),
          p95: interval.getValueAtPercentile(95),
          p99: interval.getValueAtPercentile(99),
          max: interval.maxValue,
        },
      },
      eventLoopDelay: { p50: 20_000, p99: 200_000 + random.next() * 100_000, max: 400_000 },
      cpuPercent: 40 + random.next() * 10,
      heapUsedBytes: 60e6 + sequence * 1e4,
      rssBytes: 150e6,
      limiterFallbacks: 0,
    });
    interval.destroy();
  }
  const e2e = statisticsOf(total)!;
  const summary: RunSummary = {
    run: info,
    endedAt: new Date(startedAtMs + intervals * 100).toISOString(),
    elapsedMs: intervals * 100,
    stopReason: 'completed',
    sent: accepted + rejected,
    completed: accepted + rejected,
    unaccounted: 0,
    outcomes: { accepted, rejected, failed: 0, byCode: { out_of_range: rejected } },
    throughput: perInterval * 10,
    slip: { toleranceNs: 1e6, late: 0, lateRate: 0 },
    stages: { e2e, validate: statisticsOf(validateTotal)! },
    histograms: { e2e: hdr.encodeIntoCompressedBase64(total), validate: hdr.encodeIntoCompressedBase64(validateTotal) },
    thresholds: [
      {
        key: 'e2e.p99',
        expression: '<10ms',
        unit: 'ns',
        actual: e2e.p99,
        limit: 10e6,
        passed: e2e.p99 < 10e6,
        excess: Math.max(0, e2e.p99 - 10e6),
        ratio: e2e.p99 / 10e6,
        samples: e2e.count,
      },
    ],
    passed: e2e.p99 < 10e6,
    resources: {
      cpuPercentMean: 45,
      cpuPercentMax: 50,
      rssMaxBytes: 150e6,
      heapMaxBytes: 61e6,
      eventLoopDelayP99: 300_000,
      eventLoopDelayMax: 400_000,
    },
    pipeline: { limiterFallbacks: 0, tapMatched: 0, tapUnmatched: 0 },
    framesKept: intervals,
  };
  total.destroy();
  validateTotal.destroy();
  return { info, frames, summary };
}

import type { Outcome } from '../../../shared/message';
import type { RigConfig } from '../../../shared/rig';
import type { AuditBatch } from './audit-batch';

/**
 * Where every outcome goes after the hot path, without waiting: the audit log hangs here.
 * `record` must return at once (queue, never I/O on the caller's stack).
 */
export interface OutcomeSink {
  record(entry: OutcomeRecord): void;
  /**
   * A sink that decodes the engine's audit batches itself (on a thread of its own) takes a run's
   * batches as they come: the returned function is handed each one and may transfer its buffers
   * away. Undefined (or no such method): the caller decodes each batch and calls `record`.
   * @param wallClockOffsetMs Date.now() − monotonic ms, measured once on the host
   */
  batches?(rig: RigConfig, wallClockOffsetMs: number): ((batch: AuditBatch) => void) | undefined;
}

/** One message's outcome as the audit log and the metrics see it. */
export interface OutcomeRecord {
  readonly user: string;
  readonly text: string;
  /** Wall-clock milliseconds when the outcome was decided. */
  readonly atMs: number;
  readonly outcome: Outcome;
}

/** The pipeline's own counters, as they cross from the engine thread in each snapshot. */
export interface PipelineCounters {
  /** Messages served by the in-process limiter because Redis failed. */
  limiterFallbacks: number;
  redisErrors: number;
  /** Datagrams seen on the tap, and sent datagrams it never saw. */
  tapMatched: number;
  tapUnmatched: number;
  /** Messages that failed inside the pipeline (socket errors). */
  failures: number;
  /** Commits Redis applied after this instance had decided them in process: messages applied twice. Should stay 0. */
  lateApplied?: number;
  /** The in-process limiter stands in for Redis now. */
  degraded?: boolean;
  /** Why, in plain words (which node and slot of a Cluster), or what ended it; the store's latest word. */
  degradedReason?: string;
  /** OSC datagrams the target refused or could not be reached for (nothing listening, no route), of those checked. */
  oscTargetAbsent?: number;
  /** OSC send errors other than an absent target, of those checked (one datagram in 64 on the fast path). */
  oscSendErrors?: number;
}

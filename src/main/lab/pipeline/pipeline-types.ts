import type { AppliedChange, ChatMessage, Outcome } from '../../../shared/message';

/**
 * Where every outcome goes after the hot path, without waiting: the audit log hangs here.
 * `record` must return at once (queue, never I/O on the caller's stack).
 */
export interface OutcomeSink {
  record(entry: OutcomeRecord): void;
}

/** One message's outcome as the audit log and the metrics see it. */
export interface OutcomeRecord {
  readonly user: string;
  readonly text: string;
  /** Wall-clock milliseconds when the outcome was decided. */
  readonly atMs: number;
  readonly outcome: Outcome;
}

export interface Disposable {
  dispose(): void;
}

/** The system under test, as the load lab, the CLI and the console see it. */
export interface ChatPipeline {
  /** Runs one message through validate → limit → store → encode → send. Never throws. */
  process(message: ChatMessage): Promise<Outcome>;
  /** Datagram seen on the OSC tap: due time → arrival on the wire, ns. */
  onDidTap(listener: (e2eTapNs: number) => void): Disposable;
  /** A change accepted here, or published by another instance on the same Redis. */
  onDidChangeState(listener: (change: AppliedChange & { origin: 'local' | 'remote'; publishedAtMs?: number }) => void): Disposable;
  /** Counters: how often the in-process limiter stood in for Redis, datagrams lost on the tap. */
  counters(): PipelineCounters;
  close(): Promise<void>;
}

export interface PipelineCounters {
  limiterFallbacks: number;
  tapMatched: number;
  tapUnmatched: number;
}

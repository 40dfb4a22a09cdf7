import type { ExitCode } from '../../../shared/exit-codes';
import type { RigConfig } from '../../../shared/rig';
import type { BlackBoxSummary } from '../../../shared/run';
import { REJECTION_CODES } from '../../../shared/rejection';
import type { Scenario } from '../../../shared/scenario';
import type { LoopDelay } from './event-loop-delay-monitor';
import type { PipelineCounters } from './outcome-record';
import type { AuditBatch } from './audit-batch';
import type { EncodedHistogram } from './histogram-transfer';

export type { LoopDelay } from './event-loop-delay-monitor';

/**
 * What crosses between the host (RunController) and the measured engine's thread. Nothing here
 * is per message: the engine hands over one snapshot per interval, with histograms as encoded
 * bytes and counts in small arrays, and (when an audit sink is attached) one audit batch.
 */

/** Outcome codes counted by index: every rejection code, then `failed`. */
export const OUTCOME_CODES = [...REJECTION_CODES, 'failed'] as const;
export const FAILED_CODE_INDEX = OUTCOME_CODES.length - 1;

/** Messages sent through a throwaway pipeline before a run (JIT warm-up), unless the request says otherwise. */
export const DEFAULT_WARM_UP_MESSAGES = 2000;

/** Everything the engine thread needs to run one measured run (structured-cloned once). */
export interface EngineStartRequest {
  readonly rig: RigConfig;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly runId: string;
  readonly namespace: string;
  /**
   * A module (file URL) whose `createPipeline(rig, options)` builds the system under test in the
   * engine thread (functions cannot cross threads); absent: the real chat pipeline.
   */
  readonly pipelineModule?: string;
  /** Collect audit rows for the host's sink. */
  readonly audit: boolean;
  readonly warmUpMessages: number;
  /** How long stop() waits for messages already sent, ms. */
  readonly drainTimeoutMs: number;
  /** The tap ring the engine announces each datagram in (the tap reads it on another thread). */
  readonly tapRing?: SharedArrayBuffer;
  /** A probe watches the rig's test variable: probe viewers move it, the load's viewers never send it. */
  readonly probe?: ProbeViewersRequest;
}

/** Chat → CV: what the engine needs to play the probe viewers. */
export interface ProbeViewersRequest {
  /** The rig's test variable (the one the probe watches). */
  readonly variable: string;
  readonly rateHz: number;
  readonly viewers: number;
}

/**
 * One probe viewer's message once its outcome is known (a few per second: they travel in the
 * snapshots). Times are monotonic ns (the clock every thread of the process shares).
 */
export interface ProbeSendRecord {
  /** Its index among the probe messages (even: low, odd: high). */
  readonly index: number;
  readonly direction: 'rise' | 'fall';
  readonly dueNs: number;
  /** The system under test passed it on: cvlab's pipeline sent its datagram, or the bot's OSC for it was caught. */
  readonly passedOn: boolean;
  /** When its datagram went out (cvlab's pipeline: handed to the kernel; black box: the bot's datagram caught). */
  readonly oscNs?: number;
  /** Black box: when its chat line was written to the bot's socket. */
  readonly writtenNs?: number;
}

/** Counts and histograms of the messages due in one capacity step (step 0 for a plain run) over one interval. */
export interface WindowSnapshot {
  readonly step: number;
  readonly sent: number;
  readonly late: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Per OUTCOME_CODES index (rejections by code, then failed). */
  readonly codes: Uint32Array;
  /** Per METRIC_STAGES index, absent when empty. */
  readonly histograms: (EncodedHistogram | undefined)[];
}

/** One interval of the engine, posted every scenario interval (and once more at the end). */
export interface EngineSnapshot {
  readonly type: 'snapshot';
  /** The engine's clock (process.hrtime ns) when the snapshot was taken. */
  readonly atNs: number;
  /** Cumulative scheduler counts. */
  readonly sent: number;
  readonly completed: number;
  readonly late: number;
  readonly inFlight: number;
  readonly windows: readonly WindowSnapshot[];
  readonly counters: PipelineCounters;
  /** The engine thread's event-loop delay over this interval, and over the run so far. */
  readonly eventLoop: LoopDelay;
  readonly eventLoopTotal: LoopDelay;
  /** The engine thread's own heap (v8.getHeapStatistics in that thread). */
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly redisRoundTripNs?: number;
  readonly audit?: AuditBatch;
  /** Probe messages whose outcome came in this interval, in the order they did. */
  readonly probeSends?: readonly ProbeSendRecord[];
  /** The last snapshot of the run: the scheduler has drained (or timed out). */
  readonly final: boolean;
  readonly drained?: boolean;
}

/**
 * Where the host finds a black-box bot's processes: the pid of the command cvlab started, and the
 * bot's chat connection (its own end's address and port, and the endpoint's port it connected to),
 * from which the owner of a bot started elsewhere is found.
 */
export interface BotProcessRef {
  readonly pid?: number;
  readonly chat?: { readonly botHost: string; readonly botPort: number; readonly endpointPort: number };
}

export type EngineEvent =
  | {
      readonly type: 'started';
      readonly startNs: number;
      readonly threadId: number;
      readonly plannedMessages: number;
      readonly plannedDurationMs: number;
      /** Black box: where the bot's processes are (the host watches their CPU and memory). */
      readonly bot?: BotProcessRef;
    }
  | EngineSnapshot
  /** The scheduler finished by itself (every planned message has an outcome). */
  | { readonly type: 'completed' }
  /** The pipeline is closed (Redis keys purged): the run's resources are gone. */
  | { readonly type: 'closed'; readonly closeError?: string; readonly blackBox?: BlackBoxSummary }
  /** `draining`: the engine is stopping itself and its final snapshot follows (the system under test gave out, not the engine). */
  | { readonly type: 'failed'; readonly error: string; readonly draining?: boolean; /** What the error meant (bad input, a service), as classes do not cross threads. */ readonly exitCode?: ExitCode };

export type HostCommand = { readonly type: 'stop' };

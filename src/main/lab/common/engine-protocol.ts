import type { ExitCode } from '../../../shared/exit-codes';
import type { Outcome } from '../../../shared/message';
import type { RigConfig } from '../../../shared/rig';
import type { BlackBoxSummary, BotConnectionStatus, FanoutCounters, FrameStageStatistics } from '../../../shared/run';
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

/** The technician's bot as the system under test, as data (the engine's thread builds the chat endpoint, the OSC catcher and the bot). */
export interface BlackBoxRequest {
  /** Chat endpoint host, default 127.0.0.1. */
  readonly chatHost?: string;
  /** Default 6667; 0 picks a free port. */
  readonly chatPort?: number;
  /** Default `cvlab`. */
  readonly channel?: string;
  /** Where the bot sends OSC; default a free port on 127.0.0.1. */
  readonly oscListen?: { readonly host: string; readonly port: number };
  /** The real converter: every datagram is forwarded there unchanged. */
  readonly forward?: { readonly host: string; readonly port: number };
  /** A shell command that starts the bot; absent: a bot started elsewhere is awaited. */
  readonly command?: string;
  readonly cwd?: string;
  /** The rig file's path, handed to the bot as CVLAB_RIG. */
  readonly rigPath?: string;
  /** How long to wait for the bot's JOIN (default 10 s with a command, 120 s when waiting). */
  readonly joinTimeoutMs?: number;
  /** How long after its due time a chat message may still be matched to OSC (default 2 s). */
  readonly windowMs?: number;
  /** Between SIGTERM and SIGKILL when the bot is stopped (default 5 s). */
  readonly killAfterMs?: number;
}

/** A fan-out scaling run: the fan-out server the pipeline pushes accepted changes to, as data (it listens on the engine's thread). */
export interface FanoutRequest {
  readonly maxClients: number;
  readonly maxBufferedBytes: number;
  readonly slowPolicy: 'coalesce' | 'drop';
  /** Push other instances' changes too. */
  readonly remote: boolean;
  /** Subscribers the engine waits for before its first message (the host connects them once `fanout-listening` says where). */
  readonly subscribers: number;
  /** How long it waits for them (default 60 s). */
  readonly connectTimeoutMs?: number;
}

/** One instance's share of a multi-instance run, as data: the pipeline joins the run's namespace on the shared Redis. */
export interface InstanceRequest {
  /** The run's namespace, shared by every instance (its keys stay until every share is done). */
  readonly namespace: string;
  readonly agentId: string;
  readonly redisUrl: string;
  /** Redis TIME minus the monotonic clock (ms), measured by the agent: remote changes' propagation is timed against Redis time. */
  readonly redisMinusMonotonicMs: number;
  /** This instance does not drive the converter: its datagrams go to a local relay, forwarded once it is told to take over. */
  readonly relayOsc: boolean;
}

/** An instance's propagation so far (remote changes: their publish in Redis time → seen here). */
export interface InstanceSnapshot {
  readonly remoteChanges: number;
  readonly propagation?: FrameStageStatistics;
}

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
  /** A black-box run: the bot instead of cvlab's pipeline. */
  readonly blackBox?: BlackBoxRequest;
  /** A probe watches the rig's test variable: probe viewers move it, the load's viewers never send it. */
  readonly probe?: ProbeViewersRequest;
  /** A fan-out scaling run: the fan-out server on this thread. */
  readonly fanout?: FanoutRequest;
  /** An instance of a multi-instance run. */
  readonly instance?: InstanceRequest;
  /**
   * Instances of one run start together: once prepared (warmed up, the pipeline subscribed to the
   * others' changes) the engine posts `ready` and sends its first message at the time the host's
   * `start-at` command names.
   */
  readonly awaitStart?: boolean;
}

/** `cvlab send`: one message through cvlab's pipeline on the engine's thread. */
export interface EngineSendRequest {
  readonly type: 'send-once';
  readonly rig: RigConfig;
  readonly user: string;
  readonly text: string;
  readonly namespace: string;
  /** Overrides the rig's Redis. */
  readonly redisUrl?: string;
  /** How long to wait for the datagram on the rig's tap. */
  readonly tapWaitMs: number;
}

/** What `send-once` answers (the outcome as plain data: its printable packet included). */
export interface EngineSendResult {
  readonly type: 'sent';
  /** The engine thread it ran on. */
  readonly threadId: number;
  readonly outcome: Outcome;
  readonly tapNs?: number;
  readonly warnings: readonly string[];
  /** Redis stopped answering while the message was decided: why. */
  readonly degraded?: string;
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
  /** A fan-out run: the fan-out server's counts so far (final: after it flushed and closed). */
  readonly fanout?: FanoutCounters;
  /** An instance: its propagation so far. */
  readonly instance?: InstanceSnapshot;
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
  /** Black box: the chat endpoint and the OSC catcher listen (before `started`: cvlab now waits for the bot's JOIN). */
  | { readonly type: 'bot-listening'; readonly environment: Readonly<Record<string, string>> }
  /** Black box: the bot's connection changed (a few times a second at most). */
  | { readonly type: 'bot-status'; readonly status: BotConnectionStatus }
  /** `awaitStart`: prepared; the engine waits for `start-at`. */
  | { readonly type: 'ready' }
  /** Fan-out: the server listens (before `started`: the engine waits for the subscribers to connect). */
  | { readonly type: 'fanout-listening'; readonly url: string }
  | EngineSnapshot
  /** The scheduler finished by itself (every planned message has an outcome). */
  | { readonly type: 'completed' }
  /** The pipeline is closed (Redis keys purged): the run's resources are gone. */
  | {
      readonly type: 'closed';
      readonly closeError?: string;
      readonly blackBox?: BlackBoxSummary;
      /** An instance, after it lingered for the others' last changes: its whole propagation histogram (compressed base64). */
      readonly instance?: InstanceSnapshot & { readonly propagationHistogram?: string };
    }
  /** `draining`: the engine is stopping itself and its final snapshot follows (the system under test gave out, not the engine). */
  | { readonly type: 'failed'; readonly error: string; readonly draining?: boolean; /** What the error meant (bad input, a service), as classes do not cross threads. */ readonly exitCode?: ExitCode; /** Stopped while it waited to start (a bot's JOIN, subscribers, the other instances): a stopped run, not a failed one. */ readonly stoppedWhileWaiting?: boolean };

/** `take-over-osc`: an instance whose datagrams went to its relay now forwards them to the converter (the sending instance was lost). */
export type HostCommand = { readonly type: 'stop' } | { readonly type: 'take-over-osc' } | { readonly type: 'start-at'; readonly atNs: number };

import { z } from 'zod';
import type { ReplayInfo } from './chat-log';
import { RigSchema } from './rig';
import { ScenarioSchema, type MetricStage, type NetworkConditions, type ThresholdUnit } from './scenario';

/**
 * A load run as the console, the CLI and the store see it. All times are in nanoseconds
 * unless the name says otherwise (…Ms, …Bytes). Runtime-agnostic: plain data only.
 */

export type RunState = 'starting' | 'running' | 'stopping' | 'finished' | 'failed';

/** Why a run ended. */
export type RunStopReason = 'completed' | 'stopped' | 'aborted' | 'failed';

export const RunOverridesSchema = z.object({
  durationMs: z.number().positive().optional(),
  /** Messages per second: the constant rate, or the peak a ramp is scaled to. */
  rate: z.number().positive().optional(),
  /** Viewer population (and the number of virtual users for that executor). */
  users: z.number().int().positive().optional(),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
});
export type RunOverrides = z.output<typeof RunOverridesSchema>;

/** What starts a run. The scenario and rig are parsed again at the border (input or parsed form). */
export const RunStartOptionsSchema = z.object({
  scenario: ScenarioSchema,
  rig: RigSchema,
  overrides: RunOverridesSchema.optional(),
  /** Where the scenario was read from: a replay's relative chat log is looked up next to it first. */
  scenarioFile: z.string().max(4096, 'too long: at most 4096 characters').optional(),
  /** Chat → CV with the connected probe (default: yes when a probe is connected and no loop-back run holds it). */
  useProbe: z.boolean().optional(),
});
export type RunStartOptions = z.input<typeof RunStartOptionsSchema>;

/** The run now (or the last one). */
export interface RunInfo {
  readonly id: string;
  readonly scenario: string;
  readonly rig: string;
  readonly state: RunState;
  /** Wall clock, ISO 8601. */
  readonly startedAt: string;
  readonly plannedDurationMs: number;
  /** Messages the plan holds (known ahead for every executor). */
  readonly plannedMessages: number;
  readonly seed: number;
  readonly intervalMs: number;
  /** Redis namespace of the run's keys; removed when the run ends. */
  readonly namespace: string;
  readonly store: 'memory' | 'redis';
  /** The thread the measured engine runs on (worker_threads threadId; the host's own in in-thread mode). */
  readonly engineThreadId?: number;
  /** A replay: the log played (file name, span, content hash) and the part of it, at what speed. */
  readonly replay?: ReplayInfo;
  /** A black-box run: the bot's connection as it joined (the run starts once it has). */
  readonly bot?: BotConnectionStatus;
}

/** A few times a second: how far the run is. */
export interface RunProgress {
  readonly runId: string;
  readonly elapsedMs: number;
  readonly plannedDurationMs: number;
  /** 0..1 of the planned duration. */
  readonly fraction: number;
  readonly sent: number;
  readonly completed: number;
  readonly inFlight: number;
  /** Completed messages per second over the last interval. */
  readonly ratePerSecond: number;
  /** End-to-end p99 over the run so far, ns. */
  readonly e2eP99: number;
  /** Messages sent later than the slip tolerance so far. */
  readonly late: number;
  /** Capacity search: the rate being held now. */
  readonly stepRate?: number;
  /** The in-process limiter stands in for Redis now (degraded: limits are per process). */
  readonly degraded?: boolean;
  /** How often it did, so far. */
  readonly limiterFallbacks?: number;
  /** Every stretch of the run so far during which it did (the last one open while degraded). */
  readonly degradedIntervals?: readonly DegradedInterval[];
  /** With a probe watching: chat → CV so far (the stages' figures are in the frames). */
  readonly chatToCv?: ChatToCvProgress;
  /** Black-box runs: the bot's chat connection, live (a page shows connected, joined, lines read, replies). */
  readonly bot?: BotConnectionStatus;
  /** Multi-instance runs: each instance as it stands. */
  readonly instances?: readonly InstanceProgress[];
  /** Multi-instance runs: propagation so far, the worst instance's percentiles (the merged histogram comes with the summary). */
  readonly propagation?: FrameStageStatistics;
  /** Fan-out runs: fan-out latency so far over the subscribers that read. */
  readonly fanout?: { readonly subscribers: number; readonly stalledSubscribers: number; readonly latency?: FrameStageStatistics };
}

/** One instance of a multi-instance run while it runs. */
export interface InstanceProgress {
  readonly agentId: string;
  /** Its share of the load (index of count) and whether it drives the converter, once assigned. */
  readonly index?: number;
  readonly count?: number;
  readonly sendsOsc?: boolean;
  readonly sent: number;
  readonly completed: number;
  /** Its newest interval's e2e p99, ns. */
  readonly e2eP99?: number;
  readonly state: 'running' | 'finished' | 'lost';
  readonly lostReason?: string;
}

/** Latency statistics of one stage, ns, with the number of samples they rest on. */
export interface StageStatistics {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Per-interval statistics of one stage (ns). */
export interface FrameStageStatistics {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface OutcomeCounts {
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  /** Rejections by their stable code, plus `failed` for pipeline failures. */
  readonly byCode: Readonly<Record<string, number>>;
}

/** One interval (default 100 ms) of a run. */
export interface RunFrame {
  readonly runId: string;
  /** 0, 1, 2, … */
  readonly sequence: number;
  /** End of the interval, ms since the run started. */
  readonly atMs: number;
  readonly intervalMs: number;
  /** Messages started in the interval (by the scheduler). */
  readonly sent: number;
  /** Outcomes that came back in the interval. */
  readonly completed: number;
  /** Completed per second. */
  readonly throughput: number;
  readonly inFlight: number;
  /** Started later than the slip tolerance, in this interval. */
  readonly late: number;
  readonly outcomes: OutcomeCounts;
  readonly stages: Readonly<Partial<Record<MetricStage, FrameStageStatistics>>>;
  /** The measured engine's thread's event-loop delay (ns). */
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The host thread's (frames, saving, UI, IPC, the OSC tap), ns. */
  readonly hostEventLoopDelay?: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Of one core: 100 = one core busy for the whole interval. */
  readonly cpuPercent: number;
  /** The engine thread's heap; RSS and CPU are the whole process's. */
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** Last PING round trip to the run's Redis, ns (absent with the memory store). */
  readonly redisRoundTrip?: number;
  /** How often the in-process limiter stood in for Redis, cumulative. */
  readonly limiterFallbacks: number;
  /** The state store was degraded at the end of the interval (Redis failed or was slow). */
  readonly degraded?: boolean;
  /** The store's latest word on it: why it degraded (a Cluster's node and slot), or why it recovered. */
  readonly degradedReason?: string;
  /** Black box: the bot's process tree at the end of the interval (absent when it could not be watched). */
  readonly bot?: BotResourceFrame;
}

/** A black-box bot's process tree (the command cvlab started and every descendant) at one moment, as the OS shows it. */
export interface BotResourceFrame {
  /** User + system CPU since the reading before, percent of one core, summed over the processes. */
  readonly cpuPercent: number;
  /** Resident memory summed over the processes (pages they share are counted in each). */
  readonly rssBytes: number;
  readonly processes: number;
}

/** A stretch of a run during which Redis did not answer and the in-process limiter stood in. */
export interface DegradedInterval {
  /** ms since the run started. */
  readonly fromMs: number;
  /** Why, in plain words, when the store said (e.g. which Cluster node and slot failed). */
  readonly reason?: string;
  /** When Redis answered again; absent when the run ended degraded. */
  readonly toMs?: number;
}

/** One threshold judged against the figures it names. */
export interface ThresholdVerdict {
  readonly key: string;
  readonly expression: string;
  readonly unit: ThresholdUnit;
  /** The measured value in `unit` (ns, 0..1, count, per second); absent when nothing was measured. */
  readonly actual?: number;
  readonly limit: number;
  readonly passed: boolean;
  /** How far past the limit, in `unit` (0 when passed). */
  readonly excess: number;
  /** actual / limit, when the limit is not 0. */
  readonly ratio?: number;
  /** Samples the figure rests on. */
  readonly samples: number;
}

/** One rate of a capacity search. */
export interface CapacityStep {
  readonly rate: number;
  readonly sent: number;
  readonly completed: number;
  readonly e2eP99: number;
  readonly slipP99: number;
  readonly achievedPerSecond: number;
  readonly passed: boolean;
  readonly thresholds: readonly ThresholdVerdict[];
  /** Black box: the bot's CPU over the step (percent of one core; max of one-second windows). */
  readonly botCpuPercentMean?: number;
  readonly botCpuPercentMax?: number;
}

export interface CapacityResult {
  /** The highest rate whose thresholds held; absent when even the first step broke. */
  readonly knee?: number;
  /** The first rate that broke; absent when the search reached maxRate intact. */
  readonly brokeAt?: number;
  readonly steps: readonly CapacityStep[];
}

/** Soak: slope of heap after GC over time. */
export interface LeakVerdict {
  readonly leaking: boolean;
  /** Least-squares slope, bytes per hour. */
  readonly slopeBytesPerHour: number;
  readonly toleranceBytesPerHour: number;
  /** Fit quality 0..1: how well a straight line explains the heap series. */
  readonly rSquared: number;
  readonly samples: number;
  /** forced-gc: heap measured after global.gc(); window-minimum: lowest heap of each window. */
  readonly method: 'forced-gc' | 'window-minimum';
  readonly firstHeapBytes?: number;
  readonly lastHeapBytes?: number;
  /** Time between the first and the last point fitted, ms. */
  readonly spanMs?: number;
}

export interface ResourceSummary {
  /** Percent of one core; with several processes, summed over them (see `processes`). */
  readonly cpuPercentMean: number;
  /** Interval maximum; with several processes, the sum of each one's maximum (an upper bound). */
  readonly cpuPercentMax: number;
  /** Processes the CPU figures are summed over (absent: one). */
  readonly processes?: number;
  readonly rssMaxBytes: number;
  readonly heapMaxBytes: number;
  /** The measured engine's thread (ns). */
  readonly eventLoopDelayP99: number;
  readonly eventLoopDelayMax: number;
  /** The host thread's (ns). */
  readonly hostEventLoopDelayP99?: number;
  readonly hostEventLoopDelayMax?: number;
}

/** The whole run, at the end. */
export interface RunSummary {
  readonly run: RunInfo;
  readonly endedAt: string;
  readonly elapsedMs: number;
  readonly stopReason: RunStopReason;
  /** Plain words when the run failed or was aborted. */
  readonly reason?: string;
  readonly sent: number;
  readonly completed: number;
  /** Sent but never answered (sent − accepted − rejected − failed); 0 in a sound run. */
  readonly unaccounted: number;
  readonly outcomes: OutcomeCounts;
  /** Completed per second over the elapsed time. */
  readonly throughput: number;
  readonly slip: { readonly toleranceNs: number; readonly late: number; readonly lateRate: number };
  readonly stages: Readonly<Partial<Record<MetricStage, StageStatistics>>>;
  /** Full histograms (HdrHistogram compressed base64, values in ns), mergeable across instances. */
  readonly histograms: Readonly<Partial<Record<MetricStage, string>>>;
  readonly thresholds: readonly ThresholdVerdict[];
  /** Every threshold held (and, for a capacity search, a knee was found above minKnee; for a soak, no leak). */
  readonly passed: boolean;
  readonly resources: ResourceSummary;
  readonly pipeline: { readonly limiterFallbacks: number; readonly tapMatched: number; readonly tapUnmatched: number };
  /** When the in-process limiter stood in for Redis (absent when it never did). */
  readonly degradedIntervals?: readonly DegradedInterval[];
  readonly capacity?: CapacityResult;
  readonly leak?: LeakVerdict;
  /** Frames kept in memory (the most recent ones); the store keeps the full series. */
  readonly framesKept: number;
  /** Black-box runs: what the external bot did, matched against the chat lines that caused it. */
  readonly blackBox?: BlackBoxSummary;
  /** Runs with a probe connected: the probe viewers' messages followed to the CV edge. */
  readonly chatToCv?: ChatToCvSummary;
}

/** Chat → CV while the run goes on: counts so far and the clock fit's bound now. */
export interface ChatToCvProgress {
  readonly sent: number;
  readonly matched: number;
  readonly missed: number;
  readonly unexplained: number;
  readonly notPassedOn: number;
  /** ± µs of the clock fit now; null before one. */
  readonly boundUs: number | null;
  /** The probe went away (the edges so far are kept). */
  readonly problem?: string;
  /** Each leg of the matched probe messages' path so far (mapped with the clock fit so far). */
  readonly decomposition?: CvDecomposition;
}

/**
 * p50 and p99 of each leg of the matched probe messages' path, ns: chat → OSC (the system under
 * test; from the due time for cvlab's own pipeline), OSC → CV (converter and link), chat → CV, and
 * due → CV. Reports saved before the p99s were kept have the p50s only.
 */
export interface CvDecomposition {
  readonly chatToOscP50?: number;
  readonly chatToOscP99?: number;
  readonly oscToCvP50?: number;
  readonly oscToCvP99?: number;
  readonly chatToCvP50?: number;
  readonly chatToCvP99?: number;
  readonly cvP50?: number;
  readonly cvP99?: number;
}

/**
 * Chat → CV: the probe viewers' messages matched to the CV edges they caused, through the probe's
 * clock model. Latencies are in the run's `stages` (`cv`, `chatToCv`, `oscToCv`, ns); here are
 * the counts, the decomposition and the clock fit's bound that every CV figure carries.
 */
export interface ChatToCvSummary {
  /** Serial path and the probe's HELLO. */
  readonly probe: { readonly path: string; readonly firmware?: string; readonly link: 'uart' | 'usb' };
  readonly variable: string;
  readonly address: string;
  readonly thresholdMv: number;
  readonly rateHz: number;
  readonly viewers: number;
  /** Probe messages sent into the load, and of those the ones the system under test passed on (OSC sent or caught). */
  readonly sent: number;
  readonly passedOn: number;
  /** Passed-on messages that should move the CV across the threshold (the others repeated the level it had). */
  readonly expectedEdges: number;
  /** Expected edges that came, matched to their message. */
  readonly matched: number;
  /** Expected edges that never came within the timeout. */
  readonly missed: number;
  /** Edges no probe message explains (a glitch, someone else moving the variable). */
  readonly unexplained: number;
  /** Probe messages the system under test did not pass on (rejected, rate-limited, no OSC from the bot). */
  readonly notPassedOn: number;
  /** The clock fit the edges were mapped with, at the end of the run (µs). */
  readonly clock: { readonly boundUs: number; readonly residualUs: number; readonly samples: number; readonly linkFit?: 'fits' | 'slow-link' | 'faster-than-wire' | 'loose' } | null;
  /** Each leg of the probe messages' path, ns: chat → OSC (the system under test), OSC → CV (converter and link), chat → CV. */
  readonly decomposition: CvDecomposition;
  /** Why the measurement ended early or did not start (the probe went away); absent when it ran through. */
  readonly problem?: string;
}

/** A black-box bot's chat connection as it stands. */
export interface BotConnectionStatus {
  readonly connected: boolean;
  readonly joined: boolean;
  readonly nick?: string;
  readonly transport?: 'tcp' | 'websocket';
  /** Lines the bot wrote to the chat endpoint, and of those its PRIVMSG replies. */
  readonly linesRead: number;
  readonly replies: number;
  /** Viewer lines written to the bot so far. */
  readonly chatSent?: number;
  /** The bot's OSC datagrams caught so far. */
  readonly oscCaught?: number;
  /** Chat messages decided so far (their OSC caught, or none within the window), and of those matched to OSC. */
  readonly decided?: number;
  readonly matched?: number;
  /** The command cvlab started; absent when the bot was started elsewhere. */
  readonly command?: string;
  /** Its exit once it ended (null while it runs). */
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  /** The last lines of its output, newest last. */
  readonly output?: { readonly stdout: readonly string[]; readonly stderr: readonly string[] };
}

/** The bot a black-box run measured, and how it ended. */
export interface BlackBoxBot {
  /** The shell command cvlab started; absent when the bot was started elsewhere (`--bot-wait`). */
  readonly command?: string;
  /** The first line of its output that looked like a version. */
  readonly version?: string;
  readonly nick?: string;
  readonly transport?: 'tcp' | 'websocket';
  /** null while running or when it was not started by cvlab. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** It exited or disconnected before the run ended: the result is partial. */
  readonly exitedDuringRun: boolean;
  readonly stdoutTail: string;
  readonly stderrTail: string;
}

/** A black-box run's chat and OSC accounting (all counts; latencies in ns). */
export interface BlackBoxSummary {
  readonly endpoint: {
    readonly chatHost: string;
    readonly chatPort: number;
    readonly channel: string;
    readonly oscHost: string;
    readonly oscPort: number;
    readonly forward?: string;
    readonly windowMs: number;
  };
  /** Viewer lines written to the bot's socket. */
  readonly chatSent: number;
  /** Datagrams caught, and the OSC messages in them. */
  readonly oscReceived: number;
  readonly oscMessages: number;
  /** Chat messages whose OSC arrived (fully, or partly: `partial`). */
  readonly matched: number;
  readonly matchedByValue: number;
  readonly matchedByOrder: number;
  readonly partial: number;
  /** OSC messages no chat message explains (a few of their addresses in unmatchedAddresses). */
  readonly unmatchedOsc: number;
  readonly unmatchedAddresses: readonly string[];
  /** Matched by value while several pending messages expected that same value (the oldest won). */
  readonly ambiguous: number;
  /** Chat messages with no OSC: our model rejects them too, or accepts them and the bot sent nothing. */
  readonly missing: { readonly rejectedByModel: number; readonly acceptedButSilent: number };
  /** Matched although our model rejects them (the bot is more lenient than the rig's limits). */
  readonly acceptedAgainstModel: number;
  readonly decodeErrors: number;
  readonly forwarded: number;
  readonly replies: { readonly received: number; readonly matched: number };
  readonly latency: { readonly chatToOsc?: StageStatistics; readonly botReply?: StageStatistics };
  /** How well the bot kept up reading chat (bytes and lines waiting in cvlab's send buffer). */
  readonly slowReader: { readonly maxBufferedBytes: number; readonly linesQueued: number; readonly linesWritten: number };
  readonly bot: BlackBoxBot;
  /** The bot's own health over the run: CPU, memory and a leak verdict, from the OS (no agent inside the bot). */
  readonly resources?: BotResources;
}

/** One process of a bot's tree. */
export interface BotProcess {
  readonly pid: number;
  /** The kernel's name of its program (comm, at most 15 characters). */
  readonly name: string;
}

/** A black-box bot's process tree over the run, read from /proc on the host. */
export interface BotResources {
  /** Plain words when the bot's processes could not be watched (another user's, another machine, not Linux): no figures then. */
  readonly unavailable?: string;
  /** The process the tree is rooted at; `command`: the one cvlab started, `connection`: the owner of the bot's chat socket (`--bot-wait`). */
  readonly pid?: number;
  readonly foundBy?: 'command' | 'connection';
  /** Every process seen in the tree during the run (a few at most are listed). */
  readonly processes: readonly BotProcess[];
  /** Readings taken (one per interval). */
  readonly samples: number;
  readonly intervalMs: number;
  /** Percent of one core, user + system, summed over the tree; max over one-second windows (the kernel counts in ticks). */
  readonly cpu?: { readonly meanPercent: number; readonly maxPercent: number };
  readonly rss?: {
    readonly startBytes: number;
    readonly endBytes: number;
    readonly maxBytes: number;
    /** Least-squares slope of the lowest RSS of each window (warm-up left out), bytes per hour, and how well a line explains it. */
    readonly slopeBytesPerHour?: number;
    readonly rSquared?: number;
  };
  /** The leak verdict on the tree's RSS (the lowest RSS of each window), with the scenario's leakDetection tolerance. */
  readonly leak?: LeakVerdict;
}

/** A black-box run's chat endpoint and OSC catcher listen: where the bot is pointed, before cvlab waits for its JOIN. */
export interface BotAwaited {
  readonly runId: string;
  /** The environment a bot reads to find cvlab (CVLAB_CHAT_HOST, CVLAB_CHAT_PORT, CVLAB_CHANNEL, CVLAB_OSC_HOST, CVLAB_OSC_PORT, CVLAB_RIG). */
  readonly environment: Readonly<Record<string, string>>;
  /** The command cvlab starts; absent: a bot started elsewhere is awaited. */
  readonly command?: string;
  /** Where the bot's OSC is forwarded, host:port. */
  readonly forward?: string;
}

/** One instance's part of a multi-instance run. */
export interface InstanceShare {
  readonly agentId: string;
  readonly index: number;
  readonly count: number;
  /** This instance sends OSC to the rig's converter; the others send to a local sink. */
  readonly sendsOsc: boolean;
}

/** How far an instance's clock is from Redis TIME. */
export interface InstanceClock {
  /** Redis TIME minus the local clock, ms: add it to a local time to get Redis time. */
  readonly offsetMs: number;
  /** Round trip of the best sample, ms: the offset is good to within half of it. */
  readonly roundTripMs: number;
}

/** One instance's own figures in a multi-instance run. */
export interface InstanceResult {
  readonly agentId: string;
  readonly host: string;
  readonly pid: number;
  /** Started here as a child process (else a `cvlab agent` that joined). */
  readonly local: boolean;
  readonly share: InstanceShare;
  readonly summary: RunSummary;
  /** Publish on another instance → seen here, ns. */
  readonly propagation?: StageStatistics;
  readonly remoteChanges: number;
  readonly clock: InstanceClock;
}

/** An instance that stopped answering (or died) before handing in its result. */
export interface LostInstance {
  readonly agentId: string;
  readonly local: boolean;
  readonly reason: string;
}

/** A RunSummary of the whole run (merged figures) plus each instance's own and the propagation stage. */
export interface MultiInstanceSummary extends RunSummary {
  readonly perInstance: readonly InstanceResult[];
  readonly lost: readonly LostInstance[];
  /** Merged over every instance, ns. */
  readonly propagation?: StageStatistics;
  readonly propagationHistogram?: string;
  readonly multiInstance: {
    /** Messages planned for the shares of lost instances: counted as lost (lost.count), never dropped from the plan. */
    readonly lostMessages: number;
    /** The instance that took over sending OSC when the sender was lost. */
    readonly oscTakenOverBy?: string;
    readonly instances: number;
    readonly joined: number;
    readonly oscFrom: 'one' | 'all';
    readonly network: NetworkConditions;
    readonly namespace: string;
    /** Keys of the run's namespace removed at the end (instances keep them until every share is done). */
    readonly keysRemoved: number;
  };
}

/** The fan-out server's counts over a run. */
export interface FanoutCounters {
  readonly clients: number;
  readonly published: number;
  /** Frames handed to sockets. */
  readonly sent: number;
  /** Changes replaced by a newer value of the same variable while a client was slow. */
  readonly coalesced: number;
  /** Changes discarded for a slow client (drop policy). */
  readonly dropped: number;
  /** Connections refused at the limit. */
  readonly refused: number;
  /** Slow clients disconnected. */
  readonly disconnected: number;
}

/** A run with the fan-out stage: the run's own figures plus fan-out latency (accepted → received by each subscriber). */
export interface FanoutScalingSummary extends RunSummary {
  readonly fanout: {
    readonly subscribers: number;
    readonly stalledSubscribers: number;
    /** Accepted → received, every (subscriber, change) pair of the subscribers that read, ns. */
    readonly latency?: StageStatistics;
    readonly latencyHistogram?: string;
    readonly counters: FanoutCounters;
    /** Subscribers that missed a change or saw one out of order (0 in a sound run without drops). */
    readonly subscribersWithGaps: number;
    readonly subscribersOutOfOrder: number;
  };
}

/** A multi-instance run's summary (it carries the instances' section). */
export const isMultiInstanceSummary = (summary: RunSummary): summary is MultiInstanceSummary => 'multiInstance' in summary && 'perInstance' in summary;

/** A fan-out run's summary (it carries the fan-out section). */
export const isFanoutSummary = (summary: RunSummary): summary is FanoutScalingSummary => 'fanout' in summary;

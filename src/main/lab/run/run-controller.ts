import { randomBytes } from 'node:crypto';
import type { Histogram } from 'hdr-histogram-js';
import { Emitter, type Event } from '../../../shared/emitter';
import { parseOrThrow } from '../../../shared/format-issues';
import { RigSchema, type RigConfig } from '../../../shared/rig';
import {
  RunOverridesSchema,
  type CapacityResult,
  type CapacityStep,
  type FrameStageStatistics,
  type LeakVerdict,
  type RunFrame,
  type RunInfo,
  type RunProgress,
  type RunStartOptions,
  type RunStopReason,
  type RunSummary,
  type BlackBoxSummary,
  type BotAwaited,
  type BotConnectionStatus,
  type ChatToCvSummary,
  type BotResourceFrame,
  type StageStatistics,
  type ThresholdVerdict,
  type FanoutCounters,
} from '../../../shared/run';
import { compileThresholds, METRIC_STAGES, ProbeLoadSchema, probeMessageCount, ScenarioSchema, type CompiledThreshold, type MetricStage, type Scenario } from '../../../shared/scenario';
import { AuditBatchReader, type AuditBatch } from '../common/audit-batch';
import {
  DEFAULT_WARM_UP_MESSAGES,
  type BlackBoxRequest,
  type BotProcessRef,
  type FanoutRequest,
  type InstanceRequest,
  type InstanceSnapshot,
  type HostCommand, type EngineEvent, type EngineSnapshot, type EngineStartRequest, type LoopDelay, type WindowSnapshot } from '../common/engine-protocol';
import { startEngineThread, startInThreadEngine, type EngineLink } from './engine-thread';
import { isEarlyEvent } from '../common/engine-link';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';
import { decodeTransferred } from '../common/histogram-transfer';
import { monotonicNs } from '../common/monotonic-clock';
import { RingOscTap } from './ring-osc-tap';
import { createTapRingBuffer } from '../common/tap-ring';
import { initHistograms } from '../common/create-histogram';
import { LeakDetector } from '../metrics/leak-detector';
import { BotResourceMonitor, CpuAggregate } from '../metrics/bot-resource-monitor';
import { ResourceSampler } from '../metrics/resource-sampler';
import { MetricsWindow, RunMetrics } from '../metrics/run-metrics';
import { evaluateThresholds, type MetricsView } from '../metrics/thresholds';
import type { PipelineOptions } from '../engine/pipeline/chat-pipeline';
import type { ChatPipeline } from '../engine/pipeline/pipeline-types';
import type { OutcomeSink, PipelineCounters } from '../common/outcome-record';
import { applyOverrides } from './apply-overrides';
import { decomposeCv, type CvEdgeMatch, type CvProbe, type CvWatch } from './cv-probe';
import { createArrivalPlan, dueCounts, ReplayArrivals, type ArrivalPlan } from '../common/arrival-plan';
import { readChatLogTimes } from '../common/chat-log/chat-log-times';
import { chatLogIdentity } from '../common/chat-log/chat-log-identity';

/** Builds the system under test; the real pipeline by default (a no-op one in the generator benchmark). */
export type PipelineFactory = (rig: RigConfig, options: PipelineOptions) => Promise<ChatPipeline>;

export interface RunControllerOptions {
  /**
   * Builds the pipeline on this thread: a function cannot reach the engine's thread, so a run
   * with one runs its engine in-thread (tests, agents that build their pipeline themselves).
   * Prefer `pipelineModule`.
   */
  readonly createPipeline?: PipelineFactory;
  /** Test seam handed to the pipeline: awaited before each stage (inject a stall here). In-thread, as createPipeline. */
  readonly stageHook?: PipelineOptions['stageHook'];
  /** A module (file URL or path) whose `createPipeline(rig, options)` builds the pipeline inside the engine thread. */
  readonly pipelineModule?: string;
  /** Where outcomes go (the audit log): fed on this thread from the engine's per-interval batches. */
  readonly sink?: OutcomeSink;
  /**
   * Asked as each run starts: does the sink take this run's outcomes? When not, the engine
   * collects no audit rows at all (default: whenever a sink is given).
   */
  readonly wantsOutcomes?: () => boolean;
  /** How often progress is reported (default 250 ms). */
  readonly progressIntervalMs?: number;
  /** How long stop() waits for messages already sent before counting them unaccounted (default 10 s). */
  readonly drainTimeoutMs?: number;
  /** Messages through a throwaway pipeline before the run, not counted (default 2000; 0: none). */
  readonly warmUpMessages?: number;
}

/** What starts one run: the request every host hands the session, and the target the session decided. */
export interface RunControllerStartOptions extends RunStartOptions {
  /** A black-box run: the bot the engine's thread starts or waits for, as data. */
  readonly blackBox?: BlackBoxRequest;
  /** This run's system under test built on this thread (a function cannot cross threads: the engine then runs in-thread). */
  readonly createPipeline?: PipelineFactory;
  /** A fan-out scaling run: the fan-out server the engine's thread starts, as data. */
  readonly fanout?: FanoutRequest;
  /** An instance of a multi-instance run: its share's settings, as data. */
  readonly instance?: InstanceRequest;
  /**
   * Instances of one run start together: asked once the engine is prepared, answers when to send
   * the first message (monotonic ns). A rejection stops the run before it starts.
   */
  readonly startGate?: () => Promise<number>;
  /**
   * The run exists (its id, plan and seed; state `starting`) before the engine waits for its bot,
   * subscribers or start: a host keeps it from here, so a stop in that time ends it at once.
   */
  readonly onStarting?: (info: RunInfo) => void;
}

/** What a run kind's parts on the engine's thread report: where the fan-out server listens, its counts, an instance's propagation. */
export interface EngineKindReport {
  readonly runId: string;
  /** Fan-out: the server listens here; the engine waits for the subscribers before its first message. */
  readonly fanoutUrl?: string;
  /** Fan-out: the server's counts so far (final with the final snapshot). */
  readonly fanout?: FanoutCounters;
  /** An instance: its propagation so far; once the engine closed, with the whole histogram. */
  readonly instance?: InstanceSnapshot & { readonly propagationHistogram?: string };
}

/** What a host's session sets on its engine: where outcomes go, warm-up, timing. The system under test is built on the engine's thread. */
export type SessionEngineOptions = Pick<RunControllerOptions, 'sink' | 'wantsOutcomes' | 'warmUpMessages' | 'progressIntervalMs' | 'drainTimeoutMs'>;

/**
 * The one place a session's RunController is built: the engine session (every host's) and an
 * instance agent (a process of its own) both take theirs from here, so every run kind runs its
 * engine the same way, on a thread of its own.
 */
export function createRunController(options: SessionEngineOptions = {}): RunController {
  return new RunController(options);
}

/** One interval's full histograms on the host, readable only while the listener runs (benchmarks merge them). */
export interface RecordedInterval {
  readonly frame: RunFrame;
  /** The interval's histogram of a stage (ns); copy or add it, do not keep it. */
  histogram(stage: MetricStage): Histogram;
}

/** What a run is started with besides its request: live objects, which no schema carries. */
export interface RunStartExtras {
  /** A connected probe: the run's probe viewers move the test variable and each CV edge is matched (chat → CV). */
  readonly probe?: CvProbe;
}

/** A capacity-search step while it runs: its own window, judged once its messages are back. */
interface StepState {
  readonly rate: number;
  readonly window: MetricsWindow;
  judged: boolean;
  /** Black box: the bot's CPU while this step's rate was held. */
  readonly botCpu: CpuAggregate;
}

/** The engine's latest cumulative figures, from its last snapshot. */
interface EngineState {
  sent: number;
  completed: number;
  late: number;
  inFlight: number;
  counters: PipelineCounters;
  eventLoopTotal: LoopDelay;
  heapMaxBytes: number;
  redisRoundTripNs: number | undefined;
  lastSnapshotNs: number;
  drained: boolean;
}

/** Everything one run holds on the host; dropped when it ends. */
interface ActiveRun {
  info: RunInfo;
  readonly scenario: Scenario;
  readonly plan: ArrivalPlan;
  readonly engine: EngineLink;
  readonly tap: RingOscTap | undefined;
  /** Takes each audit batch of the run: to a sink that decodes it itself, or decoded here and recorded. */
  readonly audit: ((batch: AuditBatch) => void) | undefined;
  readonly metrics: RunMetrics;
  readonly sampler: ResourceSampler;
  readonly thresholds: CompiledThreshold[];
  readonly leak: LeakDetector | undefined;
  readonly steps: StepState[] | undefined;
  readonly capacitySteps: CapacityStep[];
  readonly timers: NodeJS.Timeout[];
  readonly state: EngineState;
  readonly startNs: number;
  sequence: number;
  lastThroughput: number;
  finishing: Promise<RunSummary> | undefined;
  /** Histograms are freed: figures arriving after the end are dropped. */
  closed: boolean;
  abortReason: string | undefined;
  knee: number | undefined;
  brokeAt: number | undefined;
  kneeVerdicts: ThresholdVerdict[] | undefined;
  brokeVerdicts: ThresholdVerdict[] | undefined;
  /** Settled by the engine's final snapshot and by its `closed`. */
  finalSnapshot: Promise<void>;
  closedEngine: Promise<string | undefined>;
  /** A black-box run's figures, as the engine reported them once its pipeline closed. */
  blackBox: BlackBoxSummary | undefined;
  failure: string | undefined;
  /** The engine's final snapshot, once it came. */
  lastSnapshot: EngineSnapshot | undefined;
  /** Chat → CV: the probe watching this run. */
  /** The probe's watch, and the edges matched so far (the live decomposition is drawn from them). */
  readonly cv: { readonly watch: CvWatch; readonly subscription: { dispose(): void }; readonly matches: CvEdgeMatch[] } | undefined;
  /** Black box: the bot's process tree, watched from here (set once its process is found). */
  bot: BotResourceMonitor | undefined;
  botStarting: Promise<void> | undefined;
}

const NO_LOOP: LoopDelay = { p50: 0, p99: 0, max: 0, count: 0 };
/** How long the host waits for the engine's final snapshot beyond the drain timeout before giving up on it. */
const ENGINE_ANSWER_GRACE_MS = 10_000;

/**
 * Runs one load scenario at a time. The measured engine (scheduler, traffic generator,
 * pipeline, HDR recording) runs in a thread of its own and hands over one snapshot per
 * interval; this façade, on the host's thread, turns snapshots into frames, progress,
 * threshold verdicts, capacity steps, leak verdicts, audit rows and the summary. The Lab,
 * `cvlab run`, `cvlab serve` and agents all drive this.
 */
export class RunController {
  private active: ActiveRun | undefined;
  private starting = false;
  /** The run being started: stop() aborts its waits; settled once start() has. */
  private launching: { readonly stopper: AbortController; readonly settled: Promise<void> } | undefined;
  private readonly progressEmitter = new Emitter<RunProgress>();
  private readonly frameEmitter = new Emitter<RunFrame>();
  private readonly finishEmitter = new Emitter<RunSummary>();
  private readonly intervalEmitter = new Emitter<RecordedInterval>();
  private readonly botAwaitEmitter = new Emitter<BotAwaited>();
  private readonly kindReportEmitter = new Emitter<EngineKindReport>();
  /** Black box: the bot's connection as the engine last reported it. */
  private botStatus: BotConnectionStatus | undefined;

  /** How far the run is, a few times a second. */
  readonly onDidRunProgress: Event<RunProgress> = this.progressEmitter.event;
  /** One frame per interval (default 100 ms). */
  readonly onDidRunFrame: Event<RunFrame> = this.frameEmitter.event;
  /** The run ended (completed, stopped, aborted or failed), with its summary. */
  readonly onDidFinishRun: Event<RunSummary> = this.finishEmitter.event;
  /** With each frame, the interval's full histograms (merge them across intervals; never average percentiles). */
  readonly onDidRecordInterval: Event<RecordedInterval> = this.intervalEmitter.event;
  /** Black box: the chat endpoint and the OSC catcher listen, and the bot is started or awaited. */
  readonly onDidAwaitBot: Event<BotAwaited> = this.botAwaitEmitter.event;
  /** Fan-out and instance runs: what their parts on the engine's thread report (before the start, with each snapshot, at the close). */
  readonly onDidReportKind: Event<EngineKindReport> = this.kindReportEmitter.event;

  constructor(private readonly options: RunControllerOptions = {}) {}

  /** Starts a run; fails with a plain message when one is already going on or the input is invalid. */
  async start(options: RunControllerStartOptions, extras: RunStartExtras = {}): Promise<RunInfo> {
    if (this.active) {
      throw new Error(`a run is already going on (${this.active.info.id}, scenario "${this.active.info.scenario}"): stop it before starting another`);
    }
    if (this.starting) throw new Error('a run is already starting: wait for it, or stop it, before starting another');
    this.starting = true;
    const stopper = new AbortController();
    const launched = this.launch(options, extras, stopper.signal);
    this.launching = { stopper, settled: launched.then(() => undefined, () => undefined) };
    try {
      return await launched;
    } finally {
      this.starting = false;
      this.launching = undefined;
    }
  }

  private async launch(options: RunControllerStartOptions, extras: RunStartExtras, stopped: AbortSignal): Promise<RunInfo> {
    const parsedScenario = parseOrThrow(ScenarioSchema, options.scenario, 'scenario');
    const rig = parseOrThrow(RigSchema, options.rig, 'rig');
    const overrides = options.overrides ? parseOrThrow(RunOverridesSchema, options.overrides, 'run overrides') : undefined;
    const scenario = applyOverrides(parsedScenario, overrides);
    const seed = scenario.seed ?? randomBytes(4).readUInt32LE(0);
    const thresholds = compileThresholds(scenario.thresholds);
    await initHistograms();

    const id = `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    const namespace = `run-${id}`;
    const executor = scenario.executor;
    // A replay's plan comes from its log's times (read here too, until the engine reports its plan).
    const recorded = executor.type === 'replay' ? await readChatLogTimes(executor.file, executor.format) : undefined;
    const plan = createArrivalPlan(executor, seed, scenario.capacitySearch, recorded);
    const steps = plan.steps ? plan.steps.rates.map((rate) => ({ rate, window: new MetricsWindow(), judged: false, botCpu: new CpuAggregate() })) : undefined;
    const metrics = new RunMetrics();
    const probeLoad = extras.probe ? (scenario.probe ?? ProbeLoadSchema.parse({})) : undefined;
    const request: Omit<EngineStartRequest, 'tapRing'> = {
      rig,
      scenario,
      seed,
      runId: id,
      namespace,
      ...(this.options.pipelineModule ? { pipelineModule: this.options.pipelineModule } : {}),
      audit: this.options.sink !== undefined && (this.options.wantsOutcomes?.() ?? true),
      warmUpMessages: this.options.warmUpMessages ?? DEFAULT_WARM_UP_MESSAGES,
      drainTimeoutMs: this.options.drainTimeoutMs ?? 10_000,
      ...(options.blackBox ? { blackBox: options.blackBox } : {}),
      ...(options.fanout ? { fanout: options.fanout } : {}),
      ...(options.instance ? { instance: options.instance } : {}),
      ...(options.startGate ? { awaitStart: true } : {}),
      ...(extras.probe && probeLoad ? { probe: { variable: extras.probe.variable, rateHz: probeLoad.rateHz, viewers: probeLoad.viewers } } : {}),
    };
    this.botStatus = undefined;
    const blackBox = options.blackBox;
    // Before the engine has started its run (a bot not joined yet), what it says of the bot comes here.
    const startGate = options.startGate;
    const early = (event: EngineEvent, command?: (command: HostCommand) => void): void => {
      if (event.type === 'ready' && startGate && command) {
        startGate().then(
          (atNs) => command({ type: 'start-at', atNs }),
          () => command({ type: 'stop' }),
        );
      } else this.botEvent(id, blackBox, event);
    };

    const storeKind: RunInfo['store'] = rig.redisUrl ? 'redis' : 'memory';
    // A replay's log and the part played: in the run's info from the start (the saved run keeps the info it started with).
    const replayed: Pick<RunInfo, 'replay'> =
      recorded && executor.type === 'replay' && plan instanceof ReplayArrivals
        ? {
            replay: {
              log: chatLogIdentity(recorded.reading),
              speed: executor.speed,
              fromMs: plan.fromMs,
              toMs: plan.toMs,
              loop: executor.loop,
              users: executor.users,
              windowMessages: plan.windowMessages,
              ...replayTimeline(plan.plannedMessages, plan.plannedDurationMs, scenario.interval, () => new ReplayArrivals(recorded, executor)),
            },
          }
        : {};
    const plannedMessages = plan.plannedMessages + (probeLoad ? probeMessageCount(plan.plannedDurationMs, probeLoad.rateHz) : 0);
    // What the run is, the same while it waits for its engine and once it runs.
    const described = {
      id,
      scenario: scenario.name,
      rig: rig.name,
      plannedDurationMs: plan.plannedDurationMs,
      plannedMessages,
      seed,
      intervalMs: scenario.interval,
      namespace,
      store: storeKind,
      ...replayed,
    };
    options.onStarting?.({ ...described, state: 'starting', startedAt: new Date().toISOString() });

    // Filled once the engine has started; the tap may hear a datagram before.
    const started: { run?: ActiveRun } = {};
    const createPipeline = options.createPipeline ?? this.options.createPipeline;
    const inThread = createPipeline !== undefined || this.options.stageHook !== undefined;
    let tap: RingOscTap | undefined;
    let engine: EngineLink;
    let cvWatch: CvWatch | undefined;
    try {
      // The probe is armed and its clock fitted before the first probe message is due.
      if (extras.probe && probeLoad) cvWatch = await extras.probe.watch(probeLoad);
      if (stopped.aborted) throw new StoppedWhileWaitingError('stopped while the probe was armed, before the engine started');
      if (inThread) {
        engine = await startInThreadEngine(request, createPipeline, this.options.stageHook, early, stopped);
      } else {
        // The tap listens here, off the engine's thread; the engine announces datagrams in a shared ring.
        // A bot run has no datagrams of cvlab's own to tap: its port is left alone (it may be the bot's).
        const tapPort = this.options.pipelineModule || blackBox ? undefined : rig.osc.tapPort;
        const tapRing = tapPort !== undefined ? createTapRingBuffer() : undefined;
        if (tapPort !== undefined && tapRing) {
          tap = await RingOscTap.listen(tapPort, tapRing, (ns, dueNs) => {
            const run = started.run;
            if (run && !run.closed) this.recordTap(run, ns, dueNs - run.startNs);
          });
        }
        engine = await startEngineThread({ ...request, ...(tapRing ? { tapRing } : {}) }, early, stopped);
      }
    } catch (error) {
      await tap?.close();
      await cvWatch?.finish().catch(() => undefined);
      metrics.destroy();
      for (const step of steps ?? []) step.window.destroy();
      throw error;
    }

    const info: RunInfo = {
      ...described,
      state: 'running',
      startedAt: new Date().toISOString(),
      engineThreadId: engine.threadId,
      ...(this.botStatus ? { bot: this.botStatus } : {}),
    };
    const leakConfig = scenario.leakDetection;
    let settleFinal: () => void = () => undefined;
    let settleClosed: (error: string | undefined) => void = () => undefined;
    const active: ActiveRun = {
      info,
      scenario,
      plan,
      engine,
      tap,
      audit: request.audit ? this.auditFeed(rig) : undefined,
      metrics,
      sampler: new ResourceSampler(),
      thresholds,
      // Never a forced GC on the engine's thread: the lowest heap of each window is the point.
      leak: leakConfig ? new LeakDetector({ windowMs: leakConfig.window, toleranceBytesPerHour: leakConfig.toleranceMiBPerHour * 1024 * 1024, method: 'window-minimum' }) : undefined,
      steps,
      capacitySteps: [],
      timers: [],
      state: {
        sent: 0,
        completed: 0,
        late: 0,
        inFlight: 0,
        counters: { limiterFallbacks: 0, redisErrors: 0, tapMatched: 0, tapUnmatched: 0, failures: 0 },
        eventLoopTotal: NO_LOOP,
        heapMaxBytes: 0,
        redisRoundTripNs: undefined,
        lastSnapshotNs: engine.startNs,
        drained: true,
      },
      startNs: engine.startNs,
      sequence: 0,
      lastThroughput: 0,
      finishing: undefined,
      closed: false,
      abortReason: undefined,
      knee: undefined,
      brokeAt: undefined,
      kneeVerdicts: undefined,
      brokeVerdicts: undefined,
      finalSnapshot: new Promise<void>((resolve) => (settleFinal = resolve)),
      closedEngine: new Promise<string | undefined>((resolve) => (settleClosed = resolve)),
      blackBox: undefined,
      failure: undefined,
      lastSnapshot: undefined,
      cv: cvWatch
        ? {
            watch: cvWatch,
            matches: [],
            subscription: cvWatch.onDidMatch((match) => {
              if (active.closed) return;
              recordCvMatch(active.metrics, match);
              active.cv?.matches.push(match);
            }),
          }
        : undefined,
      bot: undefined,
      botStarting: undefined,
    };
    // Watching the bot is an extra: whatever goes wrong there, the run and its figures go on.
    if (engine.bot) active.botStarting = this.watchBot(active, engine.bot).catch((error: unknown) => console.error(`cvlab: the bot's CPU and memory could not be watched: ${String(error)}`));
    started.run = active;
    this.active = active;
    active.timers.push(setInterval(() => this.progress(active), this.options.progressIntervalMs ?? 250));
    engine.listen((event) => (isEarlyEvent(event) ? early(event) : this.receive(active, event, settleFinal, settleClosed)));
    return info;
  }

  /**
   * Black box: finds the bot's processes and reads them every interval, on this thread (the
   * engine's is left alone). A bot that cannot be watched leaves the run going, without figures.
   */
  private async watchBot(run: ActiveRun, ref: BotProcessRef): Promise<void> {
    const leak = run.scenario.leakDetection;
    const stepMs = (run.plan.steps?.durationNs ?? 0) / 1e6;
    const monitor = await BotResourceMonitor.start(ref, {
      intervalMs: run.scenario.interval,
      nowMs: () => this.elapsedMs(run),
      leak: { windowMs: leak?.window ?? DEFAULT_BOT_LEAK_WINDOW_MS, toleranceBytesPerHour: (leak?.toleranceMiBPerHour ?? DEFAULT_BOT_LEAK_TOLERANCE_MIB_PER_HOUR) * 1024 * 1024 },
      onReading: ({ atMs, cpuMs, elapsedMs }) => {
        const steps = run.steps;
        if (!steps || stepMs <= 0) return;
        const step = steps[Math.min(steps.length - 1, Math.floor(Math.max(0, atMs - elapsedMs / 2) / stepMs))];
        if (step && !step.judged) step.botCpu.add(cpuMs, elapsedMs);
      },
    });
    if (run.closed || run.finishing) await monitor.stop();
    run.bot = monitor;
  }

  /**
   * Stops the run now going on and resolves with its summary; undefined when nothing runs. A run
   * still starting (its engine waiting for a bot, subscribers or its start) is stopped at once:
   * its start() rejects with a StoppedWhileWaitingError, and this resolves undefined.
   */
  async stop(): Promise<RunSummary | undefined> {
    const launching = this.launching;
    if (!this.active && launching) {
      launching.stopper.abort();
      await launching.settled;
    }
    const run = this.active;
    if (!run) return undefined;
    return this.finish(run, 'stopped');
  }

  /** An instance whose datagrams go to its relay: forward them to the converter from now on (the sending instance was lost). */
  takeOverOsc(): void {
    this.active?.engine.command({ type: 'take-over-osc' });
  }

  /** The run going on now. */
  current(): RunInfo | undefined {
    return this.active?.info;
  }

  /** Resolves with the summary when the run going on ends by itself or is stopped. */
  finished(): Promise<RunSummary> | undefined {
    const run = this.active;
    if (!run) return undefined;
    return new Promise((resolve) => {
      const subscription = this.onDidFinishRun((summary) => {
        if (summary.run.id === run.info.id) {
          subscription.dispose();
          resolve(summary);
        }
      });
    });
  }

  private botEvent(runId: string, blackBox: BlackBoxRequest | undefined, event: EngineEvent): void {
    if (event.type === 'fanout-listening') this.kindReportEmitter.fire({ runId, fanoutUrl: event.url });
    else if (event.type === 'bot-status') this.botStatus = event.status;
    else if (event.type === 'bot-listening') {
      const forward = blackBox?.forward;
      this.botAwaitEmitter.fire({
        runId,
        environment: event.environment,
        ...(blackBox?.command !== undefined ? { command: blackBox.command } : {}),
        ...(forward ? { forward: `${forward.host}:${forward.port}` } : {}),
      });
    }
  }

  private receive(run: ActiveRun, event: EngineEvent, settleFinal: () => void, settleClosed: (error: string | undefined) => void): void {
    switch (event.type) {
      case 'snapshot':
        if (event.fanout || event.instance) this.kindReportEmitter.fire({ runId: run.info.id, ...(event.fanout ? { fanout: event.fanout } : {}), ...(event.instance ? { instance: event.instance } : {}) });
        if (run.closed) return;
        this.absorb(run, event);
        if (event.final) {
          run.state.drained = event.drained ?? true;
          run.lastSnapshot = event;
          settleFinal();
        } else this.frame(run, event);
        return;
      case 'completed':
        void this.finish(run, run.abortReason ? 'aborted' : 'completed');
        return;
      case 'failed':
        run.failure ??= event.error;
        void this.finish(run, 'failed', event.error);
        // A failed engine may never send its final snapshot or close; one that drains says so.
        if (!event.draining) settleFinal();
        return;
      case 'closed':
        if (event.blackBox) run.blackBox = event.blackBox;
        if (event.instance) this.kindReportEmitter.fire({ runId: run.info.id, instance: event.instance });
        settleFinal();
        settleClosed(event.closeError);
        return;
      case 'started':
      case 'bot-listening':
      case 'bot-status':
      case 'fanout-listening':
      case 'ready':
        return;
    }
  }

  /** Adds one snapshot's figures to the interval, the whole run and each capacity step. */
  private absorb(run: ActiveRun, snapshot: EngineSnapshot): void {
    const state = run.state;
    state.sent = snapshot.sent;
    state.completed = snapshot.completed;
    state.late = snapshot.late;
    state.inFlight = snapshot.inFlight;
    state.counters = snapshot.counters;
    state.eventLoopTotal = snapshot.eventLoopTotal;
    state.heapMaxBytes = Math.max(state.heapMaxBytes, snapshot.heapUsedBytes);
    if (snapshot.redisRoundTripNs !== undefined) state.redisRoundTripNs = snapshot.redisRoundTripNs;
    for (const window of snapshot.windows) {
      const step = run.steps?.[window.step];
      const targets = [run.metrics.total, run.metrics.interval, ...(step && !step.judged ? [step.window] : [])];
      absorbWindow(targets, window);
    }
    if (snapshot.probeSends) run.cv?.watch.addSends(snapshot.probeSends);
    if (snapshot.audit && run.audit) run.audit(snapshot.audit);
  }

  /** Where a run's audit batches go: whole to a sink that decodes them itself, else decoded here into the sink's records. */
  private auditFeed(rig: RigConfig): ((batch: AuditBatch) => void) | undefined {
    const sink = this.options.sink;
    if (!sink) return undefined;
    const wallClockOffsetMs = Date.now() - monotonicNs() / 1e6;
    const whole = sink.batches?.(rig, wallClockOffsetMs);
    if (whole) return whole;
    const reader = new AuditBatchReader(rig, wallClockOffsetMs);
    return (batch) =>
      reader.read(batch, (record) => {
        try {
          sink.record(record);
        } catch (error) {
          console.error(`cvlab: the outcome sink failed: ${String(error)}`);
        }
      });
  }

  private recordTap(run: ActiveRun, ns: number, dueOffsetNs: number): void {
    run.metrics.recordTap(ns);
    const steps = run.steps;
    const stepNs = run.plan.steps?.durationNs ?? 0;
    if (!steps || stepNs <= 0) return;
    const step = steps[Math.max(0, Math.min(steps.length - 1, Math.floor(dueOffsetNs / stepNs)))];
    if (step && !step.judged) step.window.recordTap(ns);
  }

  private elapsedMs(run: ActiveRun): number {
    return (monotonicNs() - run.startNs) / 1e6;
  }

  private frame(run: ActiveRun, snapshot: EngineSnapshot): void {
    const intervalMs = (snapshot.atNs - run.state.lastSnapshotNs) / 1e6;
    run.state.lastSnapshotNs = snapshot.atNs;
    const window = run.metrics.interval;
    const resources = run.sampler.sample();
    const stages: Partial<Record<MetricStage, FrameStageStatistics>> = {};
    for (const stage of METRIC_STAGES) {
      const statistics = window.stages.frameStatistics(stage);
      if (statistics) stages[stage] = statistics;
    }
    const completed = window.outcomes.completed;
    run.lastThroughput = intervalMs > 0 ? completed / (intervalMs / 1000) : 0;
    const loop = snapshot.eventLoop;
    const frame: RunFrame = {
      runId: run.info.id,
      sequence: run.sequence++,
      atMs: (snapshot.atNs - run.startNs) / 1e6,
      intervalMs,
      sent: window.sent,
      completed,
      throughput: run.lastThroughput,
      inFlight: snapshot.inFlight,
      late: window.late,
      outcomes: window.outcomes.counts(),
      stages,
      eventLoopDelay: { p50: loop.p50, p99: loop.p99, max: loop.max },
      hostEventLoopDelay: resources.eventLoopDelay,
      cpuPercent: resources.cpuPercent,
      heapUsedBytes: snapshot.heapUsedBytes,
      rssBytes: resources.rssBytes,
      ...(snapshot.redisRoundTripNs !== undefined ? { redisRoundTrip: snapshot.redisRoundTripNs } : {}),
      limiterFallbacks: snapshot.counters.limiterFallbacks,
      ...(snapshot.counters.degraded !== undefined ? { degraded: snapshot.counters.degraded } : {}),
      ...(snapshot.counters.degradedReason ? { degradedReason: snapshot.counters.degradedReason } : {}),
      ...botFrame(run.bot),
    };
    if (this.intervalEmitter.hasListeners) this.intervalEmitter.fire({ frame, histogram: (stage) => window.stages.get(stage) });
    window.reset();
    this.frameEmitter.fire(frame);
    run.leak?.sample(frame.atMs, snapshot.heapUsedBytes);
    if (run.steps) this.judgeSteps(run, false);
    else if (run.scenario.abortOnFail && frame.atMs >= run.scenario.abortGrace) this.judgeRunning(run);
  }

  /** abortOnFail: judge the run so far; stop it at the first broken threshold. */
  private judgeRunning(run: ActiveRun): void {
    if (run.abortReason || run.finishing) return;
    const verdicts = evaluateThresholds(run.thresholds, withBot(run.metrics.total.view(this.elapsedMs(run), run.state.eventLoopTotal), run.bot), true);
    const broken = verdicts.find((verdict) => !verdict.passed);
    if (!broken) return;
    run.abortReason = `threshold ${broken.key} ${broken.expression} broke during the run (abortOnFail)`;
    void this.finish(run, 'aborted', run.abortReason);
  }

  /** Capacity search: judge each step once its messages are back; the first broken step ends the search. */
  private judgeSteps(run: ActiveRun, final: boolean): void {
    const steps = run.steps;
    const stepMs = (run.plan.steps?.durationNs ?? 0) / 1e6;
    if (!steps) return;
    const elapsed = this.elapsedMs(run);
    for (let index = 0; index < steps.length; index++) {
      const step = steps[index] as StepState;
      if (step.judged) continue;
      const over = elapsed >= (index + 1) * stepMs;
      const drained = step.window.outcomes.completed >= step.window.sent;
      // A step whose messages never come back is judged a moment later, on what did.
      if (!final && !(over && (drained || elapsed >= (index + 1) * stepMs + 2000))) return;
      if (final && step.window.sent === 0) return;
      step.judged = true;
      const botCpu = run.bot ? step.botCpu.figures() : undefined;
      const verdicts = evaluateThresholds(run.thresholds, { ...step.window.view(stepMs), ...(botCpu ? { bot: botCpu } : {}) });
      const e2e = step.window.stages.get('e2e');
      const slip = step.window.stages.get('slip');
      const passed = verdicts.every((verdict) => verdict.passed);
      run.capacitySteps.push({
        rate: step.rate,
        sent: step.window.sent,
        completed: step.window.outcomes.completed,
        e2eP99: e2e.totalCount > 0 ? e2e.getValueAtPercentile(99) : 0,
        slipP99: slip.totalCount > 0 ? slip.getValueAtPercentile(99) : 0,
        achievedPerSecond: step.window.outcomes.completed / (stepMs / 1000),
        passed,
        thresholds: verdicts,
        ...(botCpu?.cpuMean !== undefined ? { botCpuPercentMean: botCpu.cpuMean * 100 } : {}),
        ...(botCpu?.cpuMax !== undefined ? { botCpuPercentMax: botCpu.cpuMax * 100 } : {}),
      });
      step.window.destroy();
      if (passed) {
        run.knee = step.rate;
        run.kneeVerdicts = verdicts;
      } else {
        run.brokeAt = step.rate;
        run.brokeVerdicts = verdicts;
        for (const rest of steps) {
          if (rest.judged) continue;
          rest.judged = true;
          rest.window.destroy();
        }
        if (!final && !run.finishing) void this.finish(run, 'completed', `the capacity search broke at ${step.rate} msg/s`);
        return;
      }
    }
  }

  /**
   * Chat → CV at the end: the watch maps every edge again with a fit local to it; the run's CV
   * stages are recorded again from those, so the summary carries the final figures.
   */
  private async finishCv(run: ActiveRun): Promise<ChatToCvSummary | undefined> {
    const cv = run.cv;
    if (!cv) return undefined;
    cv.subscription.dispose();
    try {
      const { matches, summary } = await cv.watch.finish();
      for (const stage of CV_STAGES) run.metrics.total.stages.get(stage).reset();
      for (const match of matches) recordCvMatch(run.metrics, match, true);
      return { ...summary, decomposition: decomposeCv(matches) };
    } catch (error) {
      console.error(`cvlab: the chat → CV measurement failed at its end: ${String(error)}`);
      return undefined;
    }
  }

  private progress(run: ActiveRun): void {
    const elapsedMs = this.elapsedMs(run);
    const e2e = run.metrics.total.stages.get('e2e');
    const stepMs = (run.plan.steps?.durationNs ?? 0) / 1e6;
    const stepRate = run.plan.steps ? run.plan.steps.rates[Math.min(run.plan.steps.rates.length - 1, Math.floor(elapsedMs / stepMs))] : undefined;
    this.progressEmitter.fire({
      runId: run.info.id,
      elapsedMs,
      plannedDurationMs: run.info.plannedDurationMs,
      fraction: run.info.plannedDurationMs > 0 ? Math.min(1, elapsedMs / run.info.plannedDurationMs) : 1,
      sent: run.state.sent,
      completed: run.state.completed,
      inFlight: run.state.inFlight,
      ratePerSecond: run.lastThroughput,
      e2eP99: e2e.totalCount > 0 ? e2e.getValueAtPercentile(99) : 0,
      late: run.state.late,
      ...(stepRate !== undefined ? { stepRate } : {}),
      ...(this.botStatus ? { bot: this.botStatus } : {}),
      // A few hundred edges at most (2 a second): sorting them a few times a second costs nothing.
      ...(run.cv ? { chatToCv: { ...run.cv.watch.status(), decomposition: decomposeCv(run.cv.matches) } } : {}),
    });
  }

  private finish(run: ActiveRun, reason: RunStopReason, detail?: string): Promise<RunSummary> {
    run.finishing ??= this.summarize(run, reason, detail);
    return run.finishing;
  }

  private async summarize(run: ActiveRun, reason: RunStopReason, detail?: string): Promise<RunSummary> {
    run.info = { ...run.info, state: 'stopping' };
    run.engine.stop();
    // The engine drains within its own timeout; an engine that no longer answers is given up on.
    let answered = true;
    await Promise.race([
      run.finalSnapshot,
      new Promise<void>((resolve) => setTimeout(() => ((answered = false), resolve()), (this.options.drainTimeoutMs ?? 10_000) + ENGINE_ANSWER_GRACE_MS).unref()),
    ]);
    for (const timer of run.timers) clearInterval(timer);
    // The bot's last reading is taken now, before its pipeline closes and it is stopped.
    await run.botStarting;
    await run.bot?.stop();
    const elapsedMs = this.elapsedMs(run);
    const chatToCv = run.cv ? await this.finishCv(run) : undefined;
    if (run.steps) this.judgeSteps(run, true);
    // The last partial interval makes the last frame.
    if (run.lastSnapshot) this.frame(run, run.lastSnapshot);

    const total = run.metrics.total;
    const stages: Partial<Record<MetricStage, StageStatistics>> = {};
    for (const stage of METRIC_STAGES) {
      const statistics = total.stages.statistics(stage);
      if (statistics) stages[stage] = statistics;
    }
    const counters = run.state.counters;
    const leak: LeakVerdict | undefined = run.leak?.verdict();
    let thresholds: ThresholdVerdict[];
    let capacity: CapacityResult | undefined;
    let passed: boolean;
    if (run.steps) {
      const minKnee = run.scenario.capacitySearch?.minKnee;
      capacity = { ...(run.knee !== undefined ? { knee: run.knee } : {}), ...(run.brokeAt !== undefined ? { brokeAt: run.brokeAt } : {}), steps: run.capacitySteps };
      thresholds = run.kneeVerdicts ?? run.brokeVerdicts ?? [];
      passed = run.knee !== undefined && (minKnee === undefined || run.knee >= minKnee);
    } else {
      thresholds = evaluateThresholds(run.thresholds, withBot(total.view(elapsedMs, run.state.eventLoopTotal), run.bot));
      passed = thresholds.every((verdict) => verdict.passed);
    }
    if (leak?.leaking) passed = false;
    const botResources = run.bot?.summary(run.scenario.leakDetection !== undefined);
    if (botResources?.leak?.leaking) passed = false;
    const sent = run.state.sent;
    const completed = run.state.completed;
    const unaccounted = sent - total.outcomes.completed;
    if (unaccounted !== 0 || reason === 'failed' || reason === 'aborted') passed = false;
    const failed = reason === 'failed' || run.failure !== undefined;
    const why =
      detail ??
      (run.failure !== undefined ? run.failure : !answered ? 'the engine thread did not answer: figures up to its last snapshot' : run.state.drained ? undefined : `${sent - completed} messages had no outcome after the drain timeout`);
    const hostResources = run.sampler.summary();
    const tapMatched = run.tap ? run.tap.matched : counters.tapMatched;
    const tapUnmatched = run.tap ? run.tap.unmatched : counters.tapUnmatched;
    let summary: RunSummary = {
      run: { ...run.info, state: failed ? 'failed' : 'finished' },
      endedAt: new Date().toISOString(),
      elapsedMs,
      stopReason: failed ? 'failed' : reason,
      ...(why !== undefined ? { reason: why } : {}),
      sent,
      completed,
      unaccounted,
      outcomes: total.outcomes.counts(),
      throughput: elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0,
      slip: { toleranceNs: run.scenario.slipTolerance * 1e6, late: total.late, lateRate: sent > 0 ? total.late / sent : 0 },
      stages,
      histograms: total.stages.encode(),
      thresholds,
      passed: passed && !failed,
      resources: {
        ...hostResources,
        heapMaxBytes: run.state.heapMaxBytes,
        eventLoopDelayP99: run.state.eventLoopTotal.p99,
        eventLoopDelayMax: run.state.eventLoopTotal.max,
        hostEventLoopDelayP99: hostResources.eventLoopDelayP99,
        hostEventLoopDelayMax: hostResources.eventLoopDelayMax,
      },
      pipeline: { limiterFallbacks: counters.limiterFallbacks, tapMatched, tapUnmatched },
      ...(capacity ? { capacity } : {}),
      ...(leak ? { leak } : {}),
      // Every frame went out as it was made; the session's history and the store keep them.
      framesKept: run.sequence,
      ...(chatToCv ? { chatToCv } : {}),
    };
    run.closed = true;
    run.sampler.close();
    run.metrics.destroy();
    for (const step of run.steps ?? []) if (!step.judged) step.window.destroy();
    // The pipeline closes in the engine's thread (the run's Redis keys go with it).
    const closeError = answered
      ? await Promise.race([run.closedEngine, new Promise<string>((resolve) => setTimeout(() => resolve('the engine thread did not close in time'), ENGINE_ANSWER_GRACE_MS).unref())])
      : 'the engine thread did not answer';
    if (closeError !== undefined) console.error(`cvlab: closing the pipeline of run ${run.info.id} failed: ${closeError}`);
    if (run.blackBox) summary = { ...summary, blackBox: { ...run.blackBox, ...(botResources ? { resources: botResources } : {}) } };
    await Promise.all([run.engine.terminate(), run.tap?.close()]);
    if (this.active === run) this.active = undefined;
    this.finishEmitter.fire(summary);
    return summary;
  }
}

/** The bot's RSS leak slope without a scenario's leakDetection (for a `bot.rss.slope` threshold): the schema's defaults. */
const DEFAULT_BOT_LEAK_WINDOW_MS = 10_000;
const DEFAULT_BOT_LEAK_TOLERANCE_MIB_PER_HOUR = 16;

/** The bot's latest reading for a frame (nothing when it is not watched). */
function botFrame(monitor: BotResourceMonitor | undefined): { bot?: BotResourceFrame } {
  const bot = monitor?.latest();
  return bot ? { bot } : {};
}

/** A view with the bot's figures beside cvlab's own, for thresholds on `bot.*`. */
function withBot(view: MetricsView, monitor: BotResourceMonitor | undefined): MetricsView {
  return monitor ? { ...view, bot: monitor.figures() } : view;
}

/** Most points of a replay's planned shape (a scope's worth of frames); a longer run gets coarser buckets. */
const TIMELINE_POINTS = 6000;
/** Past this many messages the planned shape is not drawn (walking the plan would hold up the start). */
const TIMELINE_MESSAGES = 5_000_000;

/** A replay's planned messages per frame interval, for the console to draw beside the measured throughput. */
function replayTimeline(messages: number, durationMs: number, intervalMs: number, plan: () => ArrivalPlan): { timeline?: { bucketMs: number; counts: number[] } } {
  if (messages > TIMELINE_MESSAGES) return {};
  const bucketMs = intervalMs * Math.max(1, Math.ceil(durationMs / intervalMs / TIMELINE_POINTS));
  return { timeline: { bucketMs, counts: dueCounts(plan(), bucketMs) } };
}

const CV_STAGES = ['cv', 'chatToCv', 'oscToCv'] as const satisfies readonly MetricStage[];

/** A matched CV edge as stages: due → edge, chat line written → edge, datagram → edge. */
function recordCvMatch(metrics: RunMetrics, match: CvEdgeMatch, totalOnly = false): void {
  const record = (stage: MetricStage, ns: number): void => {
    if (totalOnly) metrics.total.recordStage(stage, ns);
    else metrics.recordStage(stage, ns);
  };
  record('cv', match.edgeNs - match.dueNs);
  if (match.writtenNs !== undefined) record('chatToCv', match.edgeNs - match.writtenNs);
  if (match.oscNs !== undefined) record('oscToCv', match.edgeNs - match.oscNs);
}

/** Adds one engine window (counts and encoded histograms) into each of the host's windows. */
function absorbWindow(targets: readonly MetricsWindow[], window: WindowSnapshot): void {
  window.histograms.forEach((encoded, index) => {
    if (encoded === undefined) return;
    const decoded: Histogram = decodeTransferred(encoded);
    const stage = METRIC_STAGES[index] as MetricStage;
    for (const target of targets) target.stages.get(stage).add(decoded);
    decoded.destroy();
  });
  for (const target of targets) target.absorbCounts(window);
}

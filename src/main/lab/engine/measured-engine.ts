import { getHeapStatistics } from 'node:v8';
import type { TransferListItem } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import type { ChatMessage, Outcome } from '../../../shared/message';
import { METRIC_STAGES, type MetricStage } from '../../../shared/scenario';
import { createArrivalPlan, type Arrival, type ArrivalPlan } from '../common/arrival-plan';
import { OpenModelScheduler } from './load/open-model-scheduler';
import { ProbeArrivals, ProbeViewers } from './load/probe-viewers';
import { RecordedChat } from './load/recorded-chat';
import { TrafficGenerator, type GeneratedMessage } from './load/traffic-generator';
import { warmUp } from './load/warm-up';
import { createHistogram, initHistograms } from '../common/create-histogram';
import { EventLoopDelayMonitor } from '../common/event-loop-delay-monitor';
import { createPipeline, type PipelineOptions } from './pipeline/chat-pipeline';
import type { ChatPipeline, Disposable } from './pipeline/pipeline-types';
import { createBlackBoxPipeline } from './blackbox/black-box-pipeline';
import { FanoutStage } from './fanout/fanout-stage';
import { InstanceStage } from './instance-stage';
import { AuditBatchWriter } from '../common/audit-batch';
import { DEFAULT_WARM_UP_MESSAGES, FAILED_CODE_INDEX, OUTCOME_CODES, type EngineEvent, type EngineSnapshot, type EngineStartRequest, type HostCommand, type ProbeSendRecord, type WindowSnapshot } from '../common/engine-protocol';
import { encodeForTransfer, transferableOf } from '../common/histogram-transfer';
import { monotonicNs } from '../common/monotonic-clock';
import { TapRingWriter } from '../common/tap-ring';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';

/** Builds the system under test inside the engine's thread. */
export type EnginePipelineFactory = (rig: EngineStartRequest['rig'], options: PipelineOptions) => Promise<ChatPipeline>;

/** What a run kind adds on this thread around the pipeline: the fan-out server, an instance's share. */
interface RunKindParts {
  readonly fanout?: FanoutStage;
  readonly instance?: InstanceStage;
}

/** Where the engine's events go: the host's port (worker) or a direct call (in-thread mode). */
export type EnginePost = (event: EngineEvent, transfer: TransferListItem[]) => void;

const stageIndex = (stage: MetricStage): number => METRIC_STAGES.indexOf(stage);
const SLIP = stageIndex('slip');
const TAP = stageIndex('tap');
const TIMED = (['validate', 'limit', 'store', 'encode', 'send', 'e2e', 'chatToOsc'] as const).map((stage) => [stage, stageIndex(stage)] as const);
const codeIndex = new Map<string, number>(OUTCOME_CODES.map((code, index) => [code, index]));

/** Counts and histograms of one capacity step's messages (step 0 in a plain run) since the last snapshot. */
class EngineWindow {
  sent = 0;
  late = 0;
  accepted = 0;
  rejected = 0;
  readonly codes = new Uint32Array(OUTCOME_CODES.length);
  readonly histograms: Histogram[] = METRIC_STAGES.map(() => createHistogram());
  touched = false;

  recordStart(slipNs: number, late: boolean): void {
    this.touched = true;
    this.sent++;
    if (late) this.late++;
    this.histograms[SLIP]!.recordValue(slipNs > 0 ? Math.round(slipNs) : 0);
  }

  recordOutcome(outcome: Outcome): void {
    this.touched = true;
    if (outcome.status === 'accepted') this.accepted++;
    else if (outcome.status === 'rejected') {
      this.rejected++;
      const index = codeIndex.get(outcome.rejection.code);
      if (index !== undefined) this.codes[index]!++;
    } else this.codes[FAILED_CODE_INDEX]!++;
    const timings = outcome.timings;
    for (const [stage, index] of TIMED) {
      const value = timings[stage];
      if (value !== undefined) this.histograms[index]!.recordValue(value > 0 ? Math.round(value) : 0);
    }
  }

  recordTap(ns: number): void {
    this.touched = true;
    this.histograms[TAP]!.recordValue(ns > 0 ? Math.round(ns) : 0);
  }

  /** A timing the pipeline reported apart from an outcome (black box: the bot's reply). */
  recordStage(stage: MetricStage, ns: number): void {
    this.touched = true;
    this.histograms[stageIndex(stage)]!.recordValue(ns > 0 ? Math.round(ns) : 0);
  }

  /** The window's figures for the host (buffers added to `transfer`); the window starts afresh. */
  take(step: number, transfer: TransferListItem[]): WindowSnapshot {
    const histograms = this.histograms.map((histogram) => {
      if (histogram.totalCount === 0) return undefined;
      const encoded = encodeForTransfer(histogram);
      const buffer = transferableOf(encoded);
      if (buffer) transfer.push(buffer);
      histogram.reset();
      return encoded;
    });
    const codes = this.codes.slice();
    transfer.push(codes.buffer);
    const snapshot: WindowSnapshot = { step, sent: this.sent, late: this.late, accepted: this.accepted, rejected: this.rejected, codes, histograms };
    this.sent = 0;
    this.late = 0;
    this.accepted = 0;
    this.rejected = 0;
    this.codes.fill(0);
    this.touched = false;
    return snapshot;
  }

  destroy(): void {
    for (const histogram of this.histograms) histogram.destroy();
  }
}

/**
 * The measured engine: open-model scheduler, traffic generator, pipeline and HDR recording,
 * nothing else. It runs in a thread of its own (engine-worker) and hands the host one snapshot
 * per interval; the host does everything else (percentiles, frames, thresholds, saving).
 * Per message it records into reused histograms and counters only.
 */
export class MeasuredEngine {
  private readonly windows: EngineWindow[] = [];
  private readonly scheduler: OpenModelScheduler;
  private readonly loop = new EventLoopDelayMonitor();
  private readonly audit: AuditBatchWriter | undefined;
  private readonly tapSubscription: Disposable;
  private readonly pipelineSubscriptions: Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private redisRoundTripNs: number | undefined;
  private pinging = false;
  /** Probe messages whose outcome came since the last snapshot (a few per second). */
  private probeSends: ProbeSendRecord[] = [];
  private stopping: Promise<void> | undefined;
  private readonly stepNs: number;

  private constructor(
    private readonly request: EngineStartRequest,
    private readonly pipeline: ChatPipeline,
    private readonly plan: ArrivalPlan,
    private readonly post: EnginePost,
    recorded: RecordedChat | undefined,
    private readonly parts: RunKindParts,
  ) {
    // With a probe watching, the test variable is the probe viewers' alone: the load never sends it.
    const probe = request.probe;
    const loadRig = probe ? { ...request.rig, variables: request.rig.variables.filter((variable) => variable.name !== probe.variable) } : request.rig;
    const generator = new TrafficGenerator(loadRig, request.scenario.traffic, request.seed);
    const probeViewers = probe ? new ProbeViewers(request.rig, probe) : undefined;
    // A replay's arrival names the recorded message by its place in the log.
    const composeLoad = recorded ? (arrival: Arrival): GeneratedMessage => recorded.message(arrival.user ?? 0) : (arrival: Arrival): GeneratedMessage => generator.next(arrival.user);
    const compose = probeViewers
      ? (arrival: Arrival): GeneratedMessage => (arrival.probe !== undefined ? probeViewers.message(arrival.probe) : composeLoad(arrival))
      : composeLoad;
    const slipToleranceNs = request.scenario.slipTolerance * 1e6;
    this.stepNs = plan.steps?.durationNs ?? 0;
    this.audit = request.audit ? new AuditBatchWriter(request.rig) : undefined;
    const audit = this.audit;
    const processWith = pipeline.processWith;
    this.scheduler = new OpenModelScheduler({
      plan,
      compose,
      send: (message) => pipeline.process(message),
      // The pipeline's callback form where it has one: no Promise per message on the memory path.
      ...(processWith ? { sendWith: (message: ChatMessage, done: (outcome: Outcome) => void) => processWith.call(pipeline, message, done) } : {}),
      slipToleranceNs,
      onStart: (slipNs, dueOffsetNs) => this.windowOf(dueOffsetNs).recordStart(slipNs, slipNs > slipToleranceNs),
      onOutcome: (outcome: Outcome, dueOffsetNs: number, message: GeneratedMessage) => {
        this.windowOf(dueOffsetNs).recordOutcome(outcome);
        audit?.add(message.user, message.text, outcome, monotonicNs());
        if (message.probeIndex !== undefined) this.recordProbeSend(message.probeIndex, this.scheduler.startedAtNs + dueOffsetNs, outcome);
      },
    });
    // A pipeline that listens on the tap itself (not through the ring) reports here.
    this.tapSubscription = pipeline.onDidTap((ns) => this.windowOf(0).recordTap(ns));
    const measured = pipeline.onDidMeasure?.(({ stage, ns }) => this.windowOf(0).recordStage(stage, ns));
    // A system under test that can no longer run (a black-box bot that left) ends the run, its figures kept.
    const failed = pipeline.onDidFail?.((reason) => {
      if (this.stopping) return;
      this.post({ type: 'failed', error: reason, draining: true }, []);
      void this.stop();
    });
    for (const subscription of [measured, failed]) if (subscription) this.pipelineSubscriptions.push(subscription);
  }

  /** A probe message's outcome, for the host to match with the CV edge it caused. */
  private recordProbeSend(index: number, dueNs: number, outcome: Outcome): void {
    const timings = outcome.timings;
    const passedOn = outcome.status === 'accepted';
    this.probeSends.push({
      index,
      direction: ProbeViewers.direction(index),
      dueNs,
      passedOn,
      // The datagram left between the send's start and its return; the start, because a thread
      // preempted just after the send would otherwise put the datagram after the CV edge it caused.
      ...(passedOn && timings.e2e !== undefined ? { oscNs: dueNs + timings.e2e - (timings.send ?? 0) } : {}),
      ...(timings.chatWritten !== undefined ? { writtenNs: dueNs + timings.chatWritten } : {}),
    });
  }

  /**
   * Warms up, builds the pipeline and the plan: everything before the first message. The
   * default pipeline announces its datagrams in the request's tap ring, if any. `stopped`
   * (the run stopped before it started) ends every wait at once with a StoppedWhileWaitingError
   * saying what was awaited; what was opened is closed, a bot started is stopped.
   */
  static async prepare(request: EngineStartRequest, post: EnginePost, factory?: EnginePipelineFactory, startAt?: Promise<number>, stopped?: AbortSignal): Promise<MeasuredEngine> {
    const stopWhilePreparing = (): void => {
      if (stopped?.aborted) throw new StoppedWhileWaitingError('stopped while the engine prepared its run (warm-up), before the first message');
    };
    await initHistograms();
    const { rig, scenario, seed } = request;
    const executor = scenario.executor;
    // A replay reads its whole log here, before anything is measured: nothing is read while it plays.
    const recorded = executor.type === 'replay' ? await RecordedChat.load(executor.file, executor.format, executor.users) : undefined;
    const loadPlan = createArrivalPlan(executor, seed, scenario.capacitySearch, recorded);
    const plan = request.probe ? new ProbeArrivals(loadPlan, request.probe.rateHz) : loadPlan;
    // Always the real pipeline: an injected factory may share sockets with the measured run.
    // The engine's own recording (and audit rows, when asked) warm up with the pipeline.
    const warmWindow = new EngineWindow();
    const warmAudit = request.audit ? new AuditBatchWriter(rig) : undefined;
    await warmUp(rig, scenario, seed, request.warmUpMessages ?? DEFAULT_WARM_UP_MESSAGES, (outcome, user, text) => {
      warmWindow.recordStart(0, false);
      warmWindow.recordOutcome(outcome);
      warmAudit?.add(user, text, outcome, monotonicNs());
    }, recorded ? (index) => recorded.message(index % recorded.count) : undefined);
    warmWindow.take(0, []);
    warmAudit?.take();
    warmWindow.destroy();
    stopWhilePreparing();
    const tap = request.tapRing ? new TapRingWriter(request.tapRing) : undefined;
    const build = factory ?? (await pipelineFactoryOf(request, post, stopped));
    // An instance joins the run's namespace on the shared Redis, and keeps its keys for the others.
    const instance = request.instance;
    const opened = instance ? await InstanceStage.open(instance, rig) : undefined;
    const pipeline = await build(opened?.rig ?? rig, {
      namespace: instance?.namespace ?? request.namespace,
      instanceId: instance?.agentId ?? request.runId,
      ...(instance ? { redisUrl: instance.redisUrl, keepState: true } : {}),
      ...(tap ? { tap } : {}),
    });
    opened?.share.attach(pipeline);
    let fanout: FanoutStage | undefined;
    try {
      stopWhilePreparing();
      if (request.fanout) {
        fanout = await FanoutStage.listen(request.fanout);
        fanout.attach(pipeline);
        post({ type: 'fanout-listening', url: fanout.url }, []);
        await fanout.waitForSubscribers(stopped);
      }
    } catch (error) {
      await fanout?.close();
      await pipeline.close().catch(() => undefined);
      opened?.share.finish();
      throw error;
    }
    if (request.awaitStart) {
      // Instances of one run start together, each prepared (subscribed to the others' changes) before any sends.
      post({ type: 'ready' }, []);
      let atNs: number;
      try {
        if (!startAt) throw new Error('the engine was asked to wait for its start, and nothing can start it');
        atNs = await startAt;
      } catch (error) {
        await fanout?.close();
        await pipeline.close().catch(() => undefined);
        opened?.share.finish();
        throw error;
      }
      const waitMs = (atNs - monotonicNs()) / 1e6;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    return new MeasuredEngine(request, pipeline, plan, post, recorded, { ...(fanout ? { fanout } : {}), ...(opened ? { instance: opened.share } : {}) });
  }

  /** A command from the host: stop, or (an instance) take over the converter. */
  command(command: HostCommand): void {
    if (command.type === 'stop') void this.stop();
    else if (command.type === 'take-over-osc') this.parts.instance?.takeOverOsc();
    // start-at is answered before the engine exists (prepare's startAt).
  }

  get plannedMessages(): number {
    return this.plan.plannedMessages;
  }

  /** Starts sending now; posts `started`, a snapshot per interval, and `completed` when the plan is done. */
  start(threadId: number): void {
    this.loop.start();
    const startNs = monotonicNs();
    const bot = this.pipeline.botProcess?.();
    this.post({ type: 'started', startNs, threadId, plannedMessages: this.plan.plannedMessages, plannedDurationMs: this.plan.plannedDurationMs, ...(bot ? { bot } : {}) }, []);
    this.scheduleSnapshot(startNs, 1);
    this.scheduler.run(startNs).then(
      () => {
        if (!this.stopping) this.post({ type: 'completed' }, []);
      },
      (error: unknown) => this.post({ type: 'failed', error: String(error) }, []),
    );
  }

  /**
   * Sends nothing more, waits (bounded) for messages in flight, posts the final snapshot, then
   * closes the pipeline (removing the run's Redis keys) and posts `closed`.
   */
  stop(): Promise<void> {
    this.stopping ??= this.finish();
    return this.stopping;
  }

  private async finish(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.scheduler.stop().then(() => true),
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), this.request.drainTimeoutMs))),
    ]);
    clearTimeout(timeout);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Nothing more is pushed: the subscribers get what was sent, and the final counts go with the final snapshot.
    await this.parts.fanout?.close();
    this.snapshot(true, drained);
    this.loop.stop();
    this.tapSubscription.dispose();
    for (const subscription of this.pipelineSubscriptions) subscription.dispose();
    for (const window of this.windows) window?.destroy();
    let closeError: string | undefined;
    try {
      await this.parts.instance?.linger();
      await this.pipeline.close();
    } catch (error) {
      closeError = String(error);
    }
    // After close: a black-box target has stopped its bot by now, so its exit is in the figures.
    const blackBox = this.pipeline.blackBox?.();
    const instance = this.parts.instance?.finish();
    this.post({ type: 'closed', ...(closeError !== undefined ? { closeError } : {}), ...(blackBox ? { blackBox } : {}), ...(instance ? { instance } : {}) }, []);
  }

  /**
   * Snapshots on the run's own time grid (start + k·interval), not every interval after the
   * last one fired: a late timer does not push every later snapshot back. A snapshot later than
   * a whole interval covers the intervals it missed.
   */
  private scheduleSnapshot(startNs: number, index: number): void {
    const intervalNs = this.request.scenario.interval * 1e6;
    const nowNs = monotonicNs();
    let next = index;
    while (startNs + next * intervalNs <= nowNs - intervalNs) next++;
    const waitMs = Math.max(0, (startNs + next * intervalNs - nowNs) / 1e6);
    this.timer = setTimeout(() => {
      if (this.stopping) return;
      this.snapshot(false);
      this.scheduleSnapshot(startNs, next + 1);
    }, waitMs);
  }

  /** Messages count toward the capacity step they were due in. */
  private windowOf(dueOffsetNs: number): EngineWindow {
    const step = this.stepNs > 0 ? Math.min((this.plan.steps?.rates.length ?? 1) - 1, Math.floor(dueOffsetNs / this.stepNs)) : 0;
    let window = this.windows[step];
    if (!window) {
      window = new EngineWindow();
      this.windows[step] = window;
    }
    return window;
  }

  private snapshot(final: boolean, drained?: boolean): void {
    const transfer: TransferListItem[] = [];
    const windows: WindowSnapshot[] = [];
    this.windows.forEach((window, step) => {
      if (window.touched) windows.push(window.take(step, transfer));
    });
    const eventLoop = this.loop.takeInterval();
    const heap = getHeapStatistics();
    const audit = this.audit && this.audit.size > 0 ? this.audit.take() : undefined;
    if (audit) transfer.push(audit.records.buffer, audit.changes.buffer, audit.text.buffer);
    const snapshot: EngineSnapshot = {
      type: 'snapshot',
      atNs: monotonicNs(),
      sent: this.scheduler.sent,
      completed: this.scheduler.completed,
      late: this.scheduler.late,
      inFlight: this.scheduler.inFlight,
      windows,
      counters: this.pipeline.counters(),
      eventLoop,
      eventLoopTotal: this.loop.overall(),
      heapUsedBytes: heap.used_heap_size,
      heapTotalBytes: heap.total_heap_size,
      ...(this.redisRoundTripNs !== undefined ? { redisRoundTripNs: this.redisRoundTripNs } : {}),
      ...(audit ? { audit } : {}),
      ...(this.probeSends.length > 0 ? { probeSends: this.takeProbeSends() } : {}),
      ...(this.parts.fanout ? { fanout: this.parts.fanout.counters() } : {}),
      ...(this.parts.instance ? { instance: this.parts.instance.snapshot() } : {}),
      final,
      ...(drained !== undefined ? { drained } : {}),
    };
    this.post(snapshot, transfer);
    if (!final) this.pingRedis();
  }

  private takeProbeSends(): ProbeSendRecord[] {
    const sends = this.probeSends;
    this.probeSends = [];
    return sends;
  }

  /** A PING per interval, never more than one outstanding (memory store: nothing). */
  private pingRedis(): void {
    if (!this.request.rig.redisUrl || this.pinging) return;
    this.pinging = true;
    this.pipeline.roundTripMs().then(
      (ms) => {
        this.pinging = false;
        if (ms !== undefined) this.redisRoundTripNs = ms * 1e6;
      },
      () => (this.pinging = false),
    );
  }
}

/** The request's pipeline: the technician's bot, a module's `createPipeline`, or the built-in chat pipeline. */
async function pipelineFactoryOf(request: EngineStartRequest, post: EnginePost, stopped: AbortSignal | undefined): Promise<EnginePipelineFactory> {
  const blackBox = request.blackBox;
  if (blackBox) {
    // The chat endpoint, the OSC catcher and the bot's process live on this thread: frames, saving
    // and the console on the host's never delay a chat line or a catch stamp.
    return async (rig, options) => {
      const target = await createBlackBoxPipeline(rig, { ...options, blackBox: { ...blackBox, ...(stopped ? { stopped } : {}), onListening: (environment) => post({ type: 'bot-listening', environment }, []) } });
      target.onDidChangeBotStatus((status) => post({ type: 'bot-status', status }, []));
      post({ type: 'bot-status', status: target.botStatus() }, []);
      return target;
    };
  }
  if (!request.pipelineModule) return createPipeline;
  const loaded = (await import(request.pipelineModule)) as { createPipeline?: EnginePipelineFactory };
  if (typeof loaded.createPipeline !== 'function') throw new Error(`${request.pipelineModule} exports no createPipeline(rig, options)`);
  return loaded.createPipeline;
}

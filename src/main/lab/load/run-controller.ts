import { randomBytes } from 'node:crypto';
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
  type StageStatistics,
  type ThresholdVerdict,
} from '../../../shared/run';
import { compileThresholds, METRIC_STAGES, ScenarioSchema, type CompiledThreshold, type MetricStage, type Scenario } from '../../../shared/scenario';
import { initHistograms } from '../metrics/create-histogram';
import { FrameRing } from '../metrics/frame-ring';
import { LeakDetector } from '../metrics/leak-detector';
import { ResourceSampler } from '../metrics/resource-sampler';
import { MetricsWindow, RunMetrics } from '../metrics/run-metrics';
import { evaluateThresholds } from '../metrics/thresholds';
import { createPipeline, type PipelineOptions } from '../pipeline/chat-pipeline';
import type { ChatPipeline, OutcomeSink } from '../pipeline/pipeline-types';
import { applyOverrides } from './apply-overrides';
import { createArrivalPlan, type ArrivalPlan } from './arrival-plan';
import { OpenModelScheduler } from './open-model-scheduler';
import { TrafficGenerator } from './traffic-generator';
import { DEFAULT_WARM_UP_MESSAGES, warmUp } from './warm-up';

/** Builds the system under test; the real pipeline by default (a no-op one in the generator benchmark). */
export type PipelineFactory = (rig: RigConfig, options: PipelineOptions) => Promise<ChatPipeline>;

export interface RunControllerOptions {
  readonly createPipeline?: PipelineFactory;
  /** Test seam handed to the pipeline: awaited before each stage (inject a stall here). */
  readonly stageHook?: PipelineOptions['stageHook'];
  /** Where outcomes go after the hot path (the audit log). */
  readonly sink?: OutcomeSink;
  /** Frames kept in memory for late subscribers (default 600: one minute at 100 ms). */
  readonly framesKept?: number;
  /** How often progress is reported (default 250 ms). */
  readonly progressIntervalMs?: number;
  /** How long stop() waits for messages already sent before counting them unaccounted (default 10 s). */
  readonly drainTimeoutMs?: number;
  /** Messages through a throwaway pipeline before the run, not counted (default 2000; 0: none). */
  readonly warmUpMessages?: number;
}

/** A capacity-search step while it runs: its own window, judged once its messages are back. */
interface StepState {
  readonly rate: number;
  readonly window: MetricsWindow;
  judged: boolean;
}

/** Everything one run holds; dropped when it ends. */
interface ActiveRun {
  info: RunInfo;
  readonly scenario: Scenario;
  readonly pipeline: ChatPipeline;
  readonly plan: ArrivalPlan;
  readonly scheduler: OpenModelScheduler;
  readonly metrics: RunMetrics;
  readonly sampler: ResourceSampler;
  readonly thresholds: CompiledThreshold[];
  readonly frames: FrameRing<RunFrame>;
  readonly leak: LeakDetector | undefined;
  readonly steps: StepState[] | undefined;
  readonly capacitySteps: CapacityStep[];
  readonly timers: NodeJS.Timeout[];
  readonly disposables: { dispose(): void }[];
  startNs: number;
  lastFrameNs: number;
  sequence: number;
  lastThroughput: number;
  redisRoundTripNs: number | undefined;
  pinging: boolean;
  finishing: Promise<RunSummary> | undefined;
  /** Histograms are freed: outcomes arriving after a drain timeout are dropped. */
  closed: boolean;
  abortReason: string | undefined;
  knee: number | undefined;
  brokeAt: number | undefined;
  kneeVerdicts: ThresholdVerdict[] | undefined;
  brokeVerdicts: ThresholdVerdict[] | undefined;
}

/**
 * Runs one load scenario at a time against the pipeline: plans arrivals, sends them open-model,
 * measures every stage into HDR histograms, emits interval frames and progress, judges
 * thresholds, and hands back a summary. The Lab, `cvlab run` and the console all drive this.
 */
export class RunController {
  private active: ActiveRun | undefined;
  private readonly progressEmitter = new Emitter<RunProgress>();
  private readonly frameEmitter = new Emitter<RunFrame>();
  private readonly finishEmitter = new Emitter<RunSummary>();

  /** How far the run is, a few times a second. */
  readonly onDidRunProgress: Event<RunProgress> = this.progressEmitter.event;
  /** One frame per interval (default 100 ms). */
  readonly onDidRunFrame: Event<RunFrame> = this.frameEmitter.event;
  /** The run ended (completed, stopped, aborted or failed), with its summary. */
  readonly onDidFinishRun: Event<RunSummary> = this.finishEmitter.event;

  constructor(private readonly options: RunControllerOptions = {}) {}

  /** Starts a run; fails with a plain message when one is already going on or the input is invalid. */
  async start(options: RunStartOptions): Promise<RunInfo> {
    if (this.active) {
      throw new Error(`a run is already going on (${this.active.info.id}, scenario "${this.active.info.scenario}"): stop it before starting another`);
    }
    const parsedScenario = parseOrThrow(ScenarioSchema, options.scenario, 'scenario');
    const rig = parseOrThrow(RigSchema, options.rig, 'rig');
    const overrides = options.overrides ? parseOrThrow(RunOverridesSchema, options.overrides, 'run overrides') : undefined;
    const scenario = applyOverrides(parsedScenario, overrides);
    const seed = scenario.seed ?? randomBytes(4).readUInt32LE(0);
    const thresholds = compileThresholds(scenario.thresholds);
    await initHistograms();

    const id = `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    const namespace = `run-${id}`;
    const factory = this.options.createPipeline ?? createPipeline;
    // Always the real pipeline: an injected factory may share sockets with the measured run.
    await warmUp(rig, scenario, seed, this.options.warmUpMessages ?? DEFAULT_WARM_UP_MESSAGES);
    const pipeline = await factory(rig, {
      namespace,
      instanceId: id,
      ...(this.options.sink ? { sink: this.options.sink } : {}),
      ...(this.options.stageHook ? { stageHook: this.options.stageHook } : {}),
    });

    const plan = createArrivalPlan(scenario.executor, seed, scenario.capacitySearch);
    const generator = new TrafficGenerator(rig, scenario.traffic, seed);
    const metrics = new RunMetrics();
    const slipToleranceNs = scenario.slipTolerance * 1e6;
    const steps = plan.steps ? plan.steps.rates.map((rate) => ({ rate, window: new MetricsWindow(), judged: false })) : undefined;
    const stepNs = plan.steps?.durationNs ?? 0;
    // Messages count toward the step they were due in; a judged step's window is already freed.
    const stepOf = (dueOffsetNs: number): StepState | undefined => {
      const step = steps?.[Math.min(steps.length - 1, Math.floor(dueOffsetNs / stepNs))];
      return step && !step.judged ? step : undefined;
    };

    const scheduler = new OpenModelScheduler({
      plan,
      compose: (arrival) => generator.next(arrival.user),
      send: (message) => pipeline.process(message),
      slipToleranceNs,
      onStart: (slipNs, dueOffsetNs) => {
        if (run.closed) return;
        const late = slipNs > slipToleranceNs;
        metrics.recordStart(slipNs, late);
        stepOf(dueOffsetNs)?.window.recordStart(slipNs, late);
      },
      onOutcome: (outcome, dueOffsetNs) => {
        if (run.closed) return;
        metrics.recordOutcome(outcome);
        stepOf(dueOffsetNs)?.window.recordOutcome(outcome);
      },
    });

    const leakConfig = scenario.leakDetection;
    const forcedGc = typeof globalThis.gc === 'function';
    const info: RunInfo = {
      id,
      scenario: scenario.name,
      rig: rig.name,
      state: 'running',
      startedAt: new Date().toISOString(),
      plannedDurationMs: plan.plannedDurationMs,
      plannedMessages: plan.plannedMessages,
      seed,
      intervalMs: scenario.interval,
      namespace,
      store: rig.redisUrl ? 'redis' : 'memory',
    };
    const run: ActiveRun = {
      info,
      scenario,
      pipeline,
      plan,
      scheduler,
      metrics,
      sampler: new ResourceSampler(),
      thresholds,
      frames: new FrameRing<RunFrame>(this.options.framesKept ?? 600),
      leak: leakConfig
        ? new LeakDetector({ windowMs: leakConfig.window, toleranceBytesPerHour: leakConfig.toleranceMiBPerHour * 1024 * 1024, method: forcedGc ? 'forced-gc' : 'window-minimum' })
        : undefined,
      steps,
      capacitySteps: [],
      timers: [],
      disposables: [],
      startNs: 0,
      lastFrameNs: 0,
      sequence: 0,
      lastThroughput: 0,
      redisRoundTripNs: undefined,
      pinging: false,
      finishing: undefined,
      closed: false,
      abortReason: undefined,
      knee: undefined,
      brokeAt: undefined,
      kneeVerdicts: undefined,
      brokeVerdicts: undefined,
    };
    this.active = run;
    run.disposables.push(
      pipeline.onDidTap((ns) => {
        if (!run.closed) metrics.recordTap(ns);
      }),
    );
    const measured = pipeline.onDidMeasure?.(({ stage, ns }) => {
      if (!run.closed) metrics.recordStage(stage, ns);
    });
    if (measured) run.disposables.push(measured);

    run.startNs = Number(process.hrtime.bigint());
    run.lastFrameNs = run.startNs;
    run.timers.push(setInterval(() => this.frame(run), scenario.interval));
    run.timers.push(setInterval(() => this.progress(run), this.options.progressIntervalMs ?? 250));
    if (run.leak && forcedGc) {
      run.timers.push(
        setInterval(() => {
          globalThis.gc?.();
          run.leak?.addPoint(this.elapsedMs(run), process.memoryUsage().heapUsed);
        }, leakConfig?.window ?? 10_000),
      );
    }
    scheduler.run(run.startNs).then(
      () => void this.finish(run, run.abortReason ? 'aborted' : 'completed'),
      (error: unknown) => void this.finish(run, 'failed', String(error)),
    );
    return info;
  }

  /** Stops the run now going on and resolves with its summary; undefined when nothing runs. */
  async stop(): Promise<RunSummary | undefined> {
    const run = this.active;
    if (!run) return undefined;
    return this.finish(run, 'stopped');
  }

  /** The run going on now. */
  current(): RunInfo | undefined {
    return this.active?.info;
  }

  /** The frames kept in memory for the run going on (oldest first). */
  frames(): RunFrame[] {
    return this.active?.frames.toArray() ?? [];
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

  private elapsedMs(run: ActiveRun): number {
    return (Number(process.hrtime.bigint()) - run.startNs) / 1e6;
  }

  private frame(run: ActiveRun): void {
    const nowNs = Number(process.hrtime.bigint());
    const intervalMs = (nowNs - run.lastFrameNs) / 1e6;
    run.lastFrameNs = nowNs;
    const window = run.metrics.interval;
    const resources = run.sampler.sample();
    const stages: Partial<Record<MetricStage, FrameStageStatistics>> = {};
    for (const stage of METRIC_STAGES) {
      const statistics = window.stages.frameStatistics(stage);
      if (statistics) stages[stage] = statistics;
    }
    const completed = window.outcomes.completed;
    run.lastThroughput = intervalMs > 0 ? completed / (intervalMs / 1000) : 0;
    const frame: RunFrame = {
      runId: run.info.id,
      sequence: run.sequence++,
      atMs: (nowNs - run.startNs) / 1e6,
      intervalMs,
      sent: window.sent,
      completed,
      throughput: run.lastThroughput,
      inFlight: run.scheduler.inFlight,
      late: window.late,
      outcomes: window.outcomes.counts(),
      stages,
      eventLoopDelay: resources.eventLoopDelay,
      cpuPercent: resources.cpuPercent,
      heapUsedBytes: resources.heapUsedBytes,
      rssBytes: resources.rssBytes,
      ...(run.redisRoundTripNs !== undefined ? { redisRoundTrip: run.redisRoundTripNs } : {}),
      limiterFallbacks: run.pipeline.counters().limiterFallbacks,
    };
    window.reset();
    run.frames.push(frame);
    this.frameEmitter.fire(frame);
    if (run.leak && typeof globalThis.gc !== 'function') run.leak.sample(frame.atMs, resources.heapUsedBytes);
    this.pingRedis(run);
    if (run.steps) this.judgeSteps(run, false);
    else if (run.scenario.abortOnFail && frame.atMs >= run.scenario.abortGrace) this.judgeRunning(run);
  }

  /** A PING per frame, never more than one outstanding, off the hot path. */
  private pingRedis(run: ActiveRun): void {
    if (run.info.store !== 'redis' || run.pinging) return;
    run.pinging = true;
    run.pipeline.roundTripMs().then(
      (ms) => {
        run.pinging = false;
        if (ms !== undefined) run.redisRoundTripNs = ms * 1e6;
      },
      () => (run.pinging = false),
    );
  }

  /** abortOnFail: judge the run so far; stop it at the first broken threshold. */
  private judgeRunning(run: ActiveRun): void {
    if (run.abortReason || run.finishing) return;
    const verdicts = evaluateThresholds(run.thresholds, run.metrics.total.view(this.elapsedMs(run), run.sampler.eventLoop()), true);
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
      const verdicts = evaluateThresholds(run.thresholds, step.window.view(stepMs));
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
      sent: run.scheduler.sent,
      completed: run.scheduler.completed,
      inFlight: run.scheduler.inFlight,
      ratePerSecond: run.lastThroughput,
      e2eP99: e2e.totalCount > 0 ? e2e.getValueAtPercentile(99) : 0,
      late: run.scheduler.late,
      ...(stepRate !== undefined ? { stepRate } : {}),
    });
  }

  private finish(run: ActiveRun, reason: RunStopReason, detail?: string): Promise<RunSummary> {
    run.finishing ??= this.summarize(run, reason, detail);
    return run.finishing;
  }

  private async summarize(run: ActiveRun, reason: RunStopReason, detail?: string): Promise<RunSummary> {
    run.info = { ...run.info, state: 'stopping' };
    const drained = await Promise.race([
      run.scheduler.stop().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), this.options.drainTimeoutMs ?? 10_000).unref()),
    ]);
    for (const timer of run.timers) clearInterval(timer);
    this.frame(run);
    const elapsedMs = this.elapsedMs(run);
    if (run.steps) this.judgeSteps(run, true);
    for (const disposable of run.disposables) disposable.dispose();

    const total = run.metrics.total;
    const stages: Partial<Record<MetricStage, StageStatistics>> = {};
    for (const stage of METRIC_STAGES) {
      const statistics = total.stages.statistics(stage);
      if (statistics) stages[stage] = statistics;
    }
    const counters = run.pipeline.counters();
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
      thresholds = evaluateThresholds(run.thresholds, total.view(elapsedMs, run.sampler.eventLoop()));
      passed = thresholds.every((verdict) => verdict.passed);
    }
    if (leak?.leaking) passed = false;
    const sent = run.scheduler.sent;
    const completed = run.scheduler.completed;
    const unaccounted = sent - total.outcomes.completed;
    if (unaccounted !== 0 || reason === 'failed' || reason === 'aborted') passed = false;
    const summary: RunSummary = {
      run: { ...run.info, state: reason === 'failed' ? 'failed' : 'finished' },
      endedAt: new Date().toISOString(),
      elapsedMs,
      stopReason: reason,
      ...(detail !== undefined ? { reason: detail } : drained ? {} : { reason: `${sent - completed} messages had no outcome after the drain timeout` }),
      sent,
      completed,
      unaccounted,
      outcomes: total.outcomes.counts(),
      throughput: elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0,
      slip: { toleranceNs: run.scenario.slipTolerance * 1e6, late: total.late, lateRate: sent > 0 ? total.late / sent : 0 },
      stages,
      histograms: total.stages.encode(),
      thresholds,
      passed,
      resources: run.sampler.summary(),
      pipeline: { limiterFallbacks: counters.limiterFallbacks, tapMatched: counters.tapMatched, tapUnmatched: counters.tapUnmatched },
      ...(capacity ? { capacity } : {}),
      ...(leak ? { leak } : {}),
      framesKept: run.frames.length,
      ...(run.pipeline.blackBox ? { blackBox: run.pipeline.blackBox() } : {}),
    };
    run.closed = true;
    run.sampler.close();
    run.metrics.destroy();
    for (const step of run.steps ?? []) if (!step.judged) step.window.destroy();
    try {
      await run.pipeline.close();
    } catch (error) {
      console.error(`cvlab: closing the pipeline of run ${run.info.id} failed: ${String(error)}`);
    }
    if (this.active === run) this.active = undefined;
    this.finishEmitter.fire(summary);
    return summary;
  }
}

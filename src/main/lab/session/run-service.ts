import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeJsonFile } from '../files/json-file';
import type { RunHost } from '../../../shared/report';
import { AlertRulesSchema, DEFAULT_ALERT_RULES, type AlertEvent, type AlertNotification } from '../../../shared/alerts';
import { Emitter, type Event } from '../../../shared/emitter';
import { BadInputError, ServiceUnreachableError } from '../../../shared/exit-codes';
import { parseOrThrow } from '../../../shared/format-issues';
import { RigSchema, type RigConfig } from '../../../shared/rig';
import {
  RunOverridesSchema,
  type BotAwaited,
  type RunFrame,
  type RunInfo,
  type RunProgress,
  type RunStartOptions,
  type RunSummary,
  type FrameStageStatistics,
  type InstanceProgress,
} from '../../../shared/run';
import { compileThreshold, ScenarioSchema, type Scenario } from '../../../shared/scenario';
import { alertFrameOf } from '../alerts/alert-frame-of';
import { AlertMonitor } from '../alerts/alert-monitor';
import { createConsoleAlertHandler } from '../alerts/console-alert-handler';
import { createStoreAlertHandler } from '../alerts/store-alert-handler';
import type { RunAuditLog } from '../audit/audit-thread';
import { createAuditLog } from '../audit/create-audit-log';
import { runFanoutScaling } from '../fanout/fanout-scaling-run';
import { applyOverrides } from '../run/apply-overrides';
import { withResolvedChatLog } from '../files/chat-log-path';
import { createArrivalPlan } from '../common/arrival-plan';
import { createRunController, type RunController, type RunControllerStartOptions, type RunStartExtras } from '../run/run-controller';
import type { CvProbe } from '../run/cv-probe';
import { hostNice } from '../run/host-thread-priority';
import { verdictOf } from '../metrics/thresholds';
import { blackBoxRequestOf } from './bot-target';
import type { RunStores } from './run-stores';
import { MetricsExporter } from '../metrics-export/metrics-exporter';
import { InstanceFrameMerger } from '../multi/instance-frame-merger';
import { runMultiInstance, type MultiInstanceRunOptions } from '../multi/multi-instance-run';
import type { OutcomeSink } from '../common/outcome-record';
import type { BlackBoxRequest } from '../common/engine-protocol';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';
import { checkRedisAnswers } from './redis-preflight';
import { captureEnvironment } from '../report/capture-environment';
import { RunFrameHistory } from './run-frame-history';
import { DegradedIntervals, type DegradedChange } from './degraded-intervals';
import { RunRecorder } from '../store/run-recorder';
import type { Store } from '../store/store';

export { DEFAULT_WARM_UP_MESSAGES } from '../common/engine-protocol';

/** What the run service needs from a single-engine load engine (RunController has this shape). */
export interface RunEngine {
  start(options: RunControllerStartOptions, extras?: RunStartExtras): Promise<RunInfo> | RunInfo;
  stop(): Promise<RunSummary | undefined | null> | RunSummary | undefined | null;
  current(): RunInfo | undefined | null;
  readonly onDidRunProgress: Event<RunProgress>;
  readonly onDidRunFrame: Event<RunFrame>;
  readonly onDidFinishRun: Event<RunSummary>;
  /** Black box: where the bot is pointed, before the engine waits for its JOIN. */
  readonly onDidAwaitBot?: Event<BotAwaited>;
}

export interface RunServiceOptions {
  /** Where runs are saved (the rig's database, unless the host named one); null: never saved (benchmarks). */
  readonly stores: RunStores | null;
  /** Folder of the audit log's spool. Required for audited runs. */
  readonly spoolDir?: string;
  /** The single-engine load engine; by default a RunController fed to the audit log. One that is handed in runs cvlab's own pipeline only. */
  readonly engine?: RunEngine;
  /** Uncounted messages through a throwaway pipeline before each run (default: the engine's). */
  readonly warmUpMessages?: number;
  /** `/metrics`, computed from the frames at scrape time; by default one of its own. */
  readonly metrics?: MetricsExporter;
  /** Frames kept of the run going on and of the last run. */
  readonly framesKept?: number;
  /** Lines about the session itself (saving failed, an instance joined); default standard error. */
  readonly log?: (line: string) => void;
  /** How a multi-instance run starts its local instances (tests). */
  readonly instanceCommand?: MultiInstanceRunOptions['instanceCommand'];
  /** The data folder's chat/: a replay's relative chat log is looked up there after the scenario's folder. */
  readonly chatLogFolder?: string;
}

/** What starts a run through the service: the scenario, the rig, overrides, and how it is kept. */
export interface RunServiceStartOptions extends RunStartOptions {
  /** Log every outcome to the database: default on with PostgreSQL, off with the embedded database. */
  readonly audit?: boolean;
  /** Save the run (default: yes when the service has a store). */
  readonly save?: boolean;
  /** Where the command line read the rig: a bot under test gets it as CVLAB_RIG (else a copy of the rig handed in). */
  readonly rigFile?: string;
  /** A connected probe: probe viewers move the rig's test variable and each CV edge is matched (one engine runs only). */
  readonly probe?: CvProbe;
  /** Where the run was started (the Electron window, a browser console through serve, the command line): the report says so. */
  readonly host?: RunHost;
}

/** A run as it ended: its summary, and where it was saved. */
export interface RunOutcome {
  readonly summary: RunSummary;
  /** The run is in the store under summary.run.id (reports, `cvlab runs`). */
  readonly saved: boolean;
  /** Why it was not saved, in plain words, when saving was asked for and failed. */
  readonly saveError?: string;
  /** Where the summary waits for the database when it could not be written (written on the next open). */
  readonly journalPath?: string;
  readonly alerts: readonly AlertEvent[];
}

/**
 * The run was stopped before its first message, while its engine waited (a bot's JOIN, the
 * fan-out's subscribers, the instances): `start()` rejects with this once the run is kept, and
 * saved, as stopped. The message says what it waited for.
 */
export class RunStoppedBeforeStartError extends Error {
  constructor(readonly outcome: RunOutcome) {
    super(outcome.summary.reason ?? 'stopped before the run started');
    this.name = 'RunStoppedBeforeStartError';
  }
}

/** The in-process limiter started standing in for Redis during a run, or Redis answers again. */
export interface DegradedNotice extends DegradedChange {
  readonly runId: string;
}

type RunKind = 'single' | 'multi-instance' | 'fanout';

/** Everything one run holds; dropped when it ends. */
interface Session {
  info: RunInfo;
  readonly kind: RunKind;
  readonly scenario: Scenario;
  readonly rig: RigConfig;
  readonly store: Store | undefined;
  readonly recorder: RunRecorder | undefined;
  readonly audit: RunAuditLog | undefined;
  /** Made once the run has its id (alert ids carry it: the store keys alerts by id). */
  monitor: AlertMonitor | undefined;
  readonly alerts: AlertEvent[];
  readonly startedAtMs: number;
  readonly subscriptions: { dispose(): void }[];
  stop: () => Promise<void>;
  done: Promise<RunOutcome>;
  /** When Redis did not answer (the frames say), for the live line, the notices and the summary. */
  readonly degradation: DegradedIntervals;
  /** What the run kind adds to each progress event (a fan-out run's latency so far). */
  live?: Pick<RunProgress, 'fanout'>;
  finished: boolean;
}

const newRunId = (): string => `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;

/** A connection error of the database the user named, said plainly (exit code 3). */
function unreachableDatabase(databaseUrl: string, error: unknown): ServiceUnreachableError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'];
  if (!code || !network.includes(code)) return undefined;
  let where = 'the database URL given';
  try {
    const url = new URL(databaseUrl);
    where = `${url.hostname}:${url.port || 5432}`;
  } catch {
    // keep the generic words
  }
  const reason = code === 'ECONNREFUSED' ? 'nothing listens there (connection refused)' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'the host name does not resolve' : `the connection failed (${code})`;
  return new ServiceUnreachableError(`PostgreSQL at ${where}`, `${reason}; start it, name another with --database-url, or leave it out to use the embedded database`);
}

/**
 * Judges `limiter.fallbacks` on the pipeline's own counter: the engine's figures do not carry it,
 * so the run service, which sees the counter, decides that verdict.
 */
export function judgeLimiterThreshold(summary: RunSummary): RunSummary {
  const index = summary.thresholds.findIndex((verdict) => verdict.key === 'limiter.fallbacks');
  const old = summary.thresholds[index];
  if (!old) return summary;
  const compiled = compileThreshold(old.key, old.expression);
  if (typeof compiled === 'string') return summary;
  const verdict = verdictOf(compiled, summary.pipeline.limiterFallbacks, summary.sent);
  const passed = verdict.passed;
  const thresholds = summary.thresholds.map((item, position) => (position === index ? verdict : item));
  // A verdict that flipped to failing fails the run; one that flipped to passing lets the other reasons decide.
  const otherwiseSound =
    summary.unaccounted === 0 && summary.stopReason !== 'failed' && summary.stopReason !== 'aborted' && !summary.leak?.leaking && !summary.capacity;
  const runPassed = old.passed ? summary.passed && passed : otherwiseSound && thresholds.every((item) => item.passed);
  return { ...summary, thresholds, passed: runPassed };
}

/**
 * The one engine session every host drives (the Electron window through `Lab`, `cvlab serve`,
 * `cvlab run`): starts and stops runs of every kind (one engine, several instances over Redis,
 * the WebSocket fan-out), warm-up, saving (recorder), the audit log, the scenario's alert rules
 * (else the defaults), degraded-Redis notices, `/metrics`, and the frames and alerts of the run
 * going on and of the last one. Hosts only parse their input and show what it emits.
 */
export class RunService {
  private active: Session | undefined;
  private last: RunOutcome | undefined;
  private readonly history: RunFrameHistory;
  private readonly engine: RunEngine;
  /** The session's own RunController (absent when a test or benchmark handed in another engine): the one every run kind uses. */
  private readonly controller: RunController | undefined;
  private readonly engineOwned: boolean;
  private auditSink: OutcomeSink | undefined;
  /** Why the store did not open for the run going on (its outcome says so: the run is measured, not saved). */
  private storeOpenError: string | undefined;
  readonly metrics: MetricsExporter;
  private readonly log: (line: string) => void;

  private readonly progressEmitter = new Emitter<RunProgress>();
  private readonly frameEmitter = new Emitter<RunFrame>();
  private readonly finishEmitter = new Emitter<RunSummary>();
  private readonly alertEmitter = new Emitter<AlertNotification>();
  private readonly degradeEmitter = new Emitter<DegradedNotice>();
  private readonly botAwaitEmitter = new Emitter<BotAwaited>();
  private readonly startEmitter = new Emitter<RunInfo>();

  /** A run started (any kind): every console hears of it, however it was started. */
  readonly onDidStartRun: Event<RunInfo> = this.startEmitter.event;

  /** How far the run is, a few times a second (with the degraded flag). */
  readonly onDidRunProgress: Event<RunProgress> = this.progressEmitter.event;
  /** One frame per interval; for several instances, their frames merged. */
  readonly onDidRunFrame: Event<RunFrame> = this.frameEmitter.event;
  /** The run ended, with its judged summary (saving may still be going on). */
  readonly onDidFinishRun: Event<RunSummary> = this.finishEmitter.event;
  /** An alert rule fired or resolved. */
  readonly onDidAlert: Event<AlertNotification> = this.alertEmitter.event;
  /** The in-process limiter stood in for Redis for the first time in this run. */
  readonly onDidDegrade: Event<DegradedNotice> = this.degradeEmitter.event;
  /** Black box: the chat endpoint and the OSC catcher listen; the bot is started or awaited (say where to point it). */
  readonly onDidAwaitBot: Event<BotAwaited> = this.botAwaitEmitter.event;

  constructor(private readonly options: RunServiceOptions) {
    this.history = new RunFrameHistory(options.framesKept);
    this.metrics = options.metrics ?? new MetricsExporter({ processMetrics: false });
    this.log = options.log ?? ((line) => console.error(`cvlab: ${line}`));
    this.engineOwned = options.engine === undefined;
    // The audit log of the run going on takes each outcome after the hot path; none between runs.
    const sink: OutcomeSink = {
      record: (entry) => this.auditSink?.record(entry),
      // An audit log on a thread of its own takes the engine's batches whole.
      batches: (rig, wallClockOffsetMs) => this.auditSink?.batches?.(rig, wallClockOffsetMs),
    };
    this.controller = options.engine
      ? undefined
      : createRunController({
          sink,
          wantsOutcomes: () => this.auditSink !== undefined,
          ...(options.warmUpMessages !== undefined ? { warmUpMessages: options.warmUpMessages } : {}),
        });
    this.engine = options.engine ?? (this.controller as RunController);
    this.engine.onDidAwaitBot?.((awaited) => this.botAwaitEmitter.fire(awaited));
    this.metrics.bind({ auditQueueDepth: () => (this.active?.audit ? this.active.audit.counters().pending : 0) });
  }

  /** Starts a run of any kind; fails with a plain message when one is going on or a named service does not answer. */
  async start(options: RunServiceStartOptions): Promise<RunInfo> {
    if (this.active) throw new Error(`a run is already going on (${this.active.info.id}, scenario "${this.active.info.scenario}"): stop it before starting another`);
    const parsed = parseOrThrow(ScenarioSchema, options.scenario, 'scenario');
    const rig = parseOrThrow(RigSchema, options.rig, 'rig');
    const overrides = options.overrides ? parseOrThrow(RunOverridesSchema, options.overrides, 'run overrides') : undefined;
    // A replay's chat log is found once, here, and named by its absolute path from then on.
    const resolved = withResolvedChatLog(applyOverrides(parsed, overrides), { scenarioFile: options.scenarioFile, userFolder: this.options.chatLogFolder });
    const { scenario, blackBox, rigCopy } = await this.target(resolved, rig, options.rigFile);
    const kind: RunKind = scenario.multiInstance ? 'multi-instance' : scenario.fanout ? 'fanout' : 'single';
    // Several instances share one Redis: without one in the rig, the local one (REDIS_URL) is used.
    const redisUrl = kind === 'multi-instance' ? (rig.redisUrl ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379') : rig.redisUrl;
    if (redisUrl) await checkRedisAnswers(redisUrl);

    this.storeOpenError = undefined;
    const databaseUrl = this.options.stores?.databaseUrlFor(rig);
    const store = options.save === false ? undefined : await this.openStore(rig);
    let audit: RunAuditLog | undefined;
    // The embedded database runs on this thread: auditing into it is opt-in, it would load the system under test.
    const auditWanted = options.audit ?? Boolean(databaseUrl);
    // Instances of a multi-instance run are processes of their own: their outcomes never pass here.
    if (auditWanted && options.audit && kind === 'multi-instance') this.log('the audit log covers runs in this process; a multi-instance run is not audited (its instances are processes of their own)');
    if (store && kind !== 'multi-instance' && this.engineOwned && auditWanted) {
      if (!this.options.spoolDir) throw new Error('the audit log needs a spool folder (RunServiceOptions.spoolDir)');
      audit = createAuditLog({ databaseUrl, store, spoolDir: this.options.spoolDir, threadNice: hostNice() });
    }
    const recorder = store
      ? new RunRecorder(store, {
          environment: captureEnvironment(options.host),
          details: () => ({ rig, scenario }),
          ...(audit ? { auditCounters: () => audit.counters() } : {}),
        })
      : undefined;
    recorder?.onDidFail((error) => this.log(`saving the run: ${error.message} (retrying; the run goes on)`));
    const alerts: AlertEvent[] = [];
    const rules = scenario.alerts ?? parseOrThrow(AlertRulesSchema, DEFAULT_ALERT_RULES, 'default alert rules');
    const createMonitor = (runId: string): AlertMonitor =>
      new AlertMonitor({
        rules,
        handlers: [
          createConsoleAlertHandler((notification) => {
            alerts.push(notification.event);
            this.alertEmitter.fire(notification);
          }),
          // Saved with the run, so its report shows what fired and what coincided with it.
          ...(store ? [createStoreAlertHandler((event) => store.alerts.saveEvent(runId, event))] : []),
        ],
        idPrefix: runId,
        run: { id: runId, scenario: scenario.name },
        onHandlerFailure: (failure) => this.log(`alert handler ${failure.handler} failed: ${failure.error}`),
      });

    const removeRigCopy = (): void => {
      if (rigCopy !== undefined) void rm(dirname(rigCopy), { recursive: true, force: true });
    };
    const base = { kind, scenario, rig, store, recorder, audit, monitor: undefined, alerts, startedAtMs: Date.now(), subscriptions: [{ dispose: removeRigCopy }], degradation: new DegradedIntervals(), finished: false };
    // The run is kept from the moment it exists, before its engine waits for anything (a bot's
    // JOIN, subscribers, instances): a stop in that time finds it, and it is saved.
    let opened: Session | undefined;
    const open = (session: Session): void => {
      if (opened) return;
      opened = session;
      this.active = session;
      session.monitor ??= createMonitor(session.info.id);
      this.history.start(session.info.id);
      const saving = recorder?.start(session.info).catch((error: unknown) => {
        this.log(`saving run ${session.info.id} failed: ${(error as Error).message}`);
        throw error;
      });
      saving?.catch(() => undefined);
    };
    let session: Session;
    try {
      if (options.probe && kind !== 'single') this.log(`the probe watches single-engine runs only: this ${kind} run is measured without chat → CV`);
      if (kind === 'single') session = await this.startSingle(base, open, scenario, rig, audit, blackBox, options.probe);
      else if (kind === 'fanout') session = await this.startFanout(base, open, scenario, rig, audit);
      else session = this.startMultiInstance(base, scenario, rig, redisUrl as string);
    } catch (error) {
      // A run that existed ended before its start: it is kept (stopped or failed), its audit log and rig copy closed with it.
      const endedBeforeStart = (opened as Session | undefined)?.done;
      if (endedBeforeStart) {
        const outcome = await endedBeforeStart;
        if (outcome.summary.stopReason === 'stopped') throw new RunStoppedBeforeStartError(outcome);
        throw error;
      }
      removeRigCopy();
      await audit?.close().catch(() => undefined);
      this.auditSink = undefined;
      throw error;
    }
    open(session);
    this.startEmitter.fire(session.info);
    return session.info;
  }

  /** Stops the run going on (or still starting: its waits end at once) and resolves with its summary; null when none runs. */
  async stop(): Promise<RunSummary | null> {
    const session = this.active;
    if (!session) return null;
    await session.stop();
    return (await session.done).summary;
  }

  /** The run going on now. */
  current(): RunInfo | undefined {
    return this.active?.info;
  }

  /** Resolves when the run going on has ended and is saved (or could not be); undefined when none runs. */
  finished(): Promise<RunOutcome> | undefined {
    return this.active?.done;
  }

  /** Frames of the run going on (else of the last run) with a sequence above `after`, oldest first, at most `count`. */
  runFrames(after: number, count: number): RunFrame[] {
    return this.history.after(after, count);
  }

  /** Alert events of the last run, then of the run going on, oldest first. */
  listAlerts(): AlertEvent[] {
    return [...(this.last?.alerts ?? []), ...(this.active?.alerts ?? [])];
  }

  /** Stops the run going on (kept as stopped) and lets go of the engine. */
  async dispose(): Promise<void> {
    if (this.active) await this.stop().catch(() => undefined);
    for (const emitter of [this.startEmitter, this.progressEmitter, this.frameEmitter, this.finishEmitter, this.alertEmitter, this.degradeEmitter, this.botAwaitEmitter]) emitter.dispose();
  }

  /**
   * What the run is sent to, decided here for every host: cvlab's pipeline, or the scenario's
   * bot (started or awaited on the engine's thread). A bot run is never quietly run as cvlab's own.
   */
  private async target(scenario: Scenario, rig: RigConfig, rigFile: string | undefined): Promise<{ scenario: Scenario; blackBox?: BlackBoxRequest; rigCopy?: string }> {
    const target = scenario.target;
    if (target.kind !== 'bot') return { scenario };
    if (scenario.fanout) throw new BadInputError('scenario: a bot under test has no fan-out stage of cvlab\'s: remove "fanout", or use target {"kind": "pipeline"}');
    if (!this.engineOwned) throw new BadInputError('scenario: its target is a bot, and this engine runs cvlab\'s own pipeline only: use target {"kind": "pipeline"}');
    // The bot reads the rig the run judges it by (CVLAB_RIG): the host's file, else a copy of the rig handed in (a console's).
    let rigCopy: string | undefined;
    if (rigFile === undefined) {
      rigCopy = join(await mkdtemp(join(tmpdir(), 'cvlab-rig-')), 'rig.json');
      await writeJsonFile(rigCopy, rig);
    }
    // Absolute values distinct at float32 precision, so each OSC value names its chat message.
    return {
      scenario: { ...scenario, traffic: { ...scenario.traffic, distinctValues: true } },
      blackBox: blackBoxRequestOf(target, rigFile ?? rigCopy),
      ...(rigCopy !== undefined ? { rigCopy } : {}),
    };
  }

  private async openStore(rig: RigConfig): Promise<Store | undefined> {
    const stores = this.options.stores;
    if (!stores) return undefined;
    try {
      return await stores.providerFor(rig).get();
    } catch (error) {
      const databaseUrl = stores.databaseUrlFor(rig);
      const unreachable = databaseUrl ? unreachableDatabase(databaseUrl, error) : undefined;
      if (unreachable) throw unreachable;
      // Runs still go; they are just not saved (the outcome says why). The next run tries again.
      this.storeOpenError = (error as Error).message;
      this.log(`the run store did not open, this run is not saved: ${this.storeOpenError}`);
      return undefined;
    }
  }

  private async startSingle(
    base: Omit<Session, 'info' | 'stop' | 'done'>,
    open: (session: Session) => void,
    scenario: Scenario,
    rig: RigConfig,
    audit: RunAuditLog | undefined,
    blackBox: BlackBoxRequest | undefined,
    probe: CvProbe | undefined,
  ): Promise<Session> {
    this.auditSink = audit;
    const engine = this.engine;
    let resolveSummary: (summary: RunSummary) => void = () => undefined;
    const summaryArrived = new Promise<RunSummary>((resolve) => (resolveSummary = resolve));
    const known: { runId?: string } = {};
    const early: RunSummary[] = [];
    const subscriptions = [
      engine.onDidRunFrame((frame) => {
        if (this.active && frame.runId === this.active.info.id) this.frame(this.active, frame);
      }),
      engine.onDidRunProgress((progress) => {
        if (this.active && progress.runId === this.active.info.id) this.progress(this.active, progress);
      }),
      engine.onDidFinishRun((summary) => {
        if (known.runId === undefined) early.push(summary);
        else if (summary.run.id === known.runId) resolveSummary(summary);
      }),
    ];
    let session: Session | undefined;
    const sessionOf = (info: RunInfo): Session => {
      known.runId = info.id;
      const created: Session = {
        ...base,
        info,
        subscriptions: [...base.subscriptions, ...subscriptions],
        stop: async () => {
          await engine.stop();
        },
        done: Promise.resolve(undefined as unknown as RunOutcome),
      };
      created.done = summaryArrived.then((summary) => this.finish(created, summary));
      return created;
    };
    let info: RunInfo;
    try {
      info = await engine.start(
        {
          scenario,
          rig,
          ...(blackBox ? { blackBox } : {}),
          // Kept (and stoppable) from here, while the engine waits for the bot.
          onStarting: (starting) => open((session = sessionOf(starting))),
        },
        probe ? { probe } : {},
      );
    } catch (error) {
      if (!session) {
        for (const subscription of subscriptions) subscription.dispose();
        throw error;
      }
      resolveSummary(this.summaryBeforeStart(session, error));
      throw error;
    }
    session = session ? Object.assign(session, { info }) : sessionOf(info);
    const already = early.find((summary) => summary.run.id === info.id);
    if (already) resolveSummary(already);
    return session;
  }

  private async startFanout(base: Omit<Session, 'info' | 'stop' | 'done'>, open: (session: Session) => void, scenario: Scenario, rig: RigConfig, audit: RunAuditLog | undefined): Promise<Session> {
    const controller = this.controller;
    if (!controller) throw new BadInputError('scenario: a fan-out run needs cvlab\'s own engine, and this session was handed another: remove "fanout"');
    this.auditSink = audit;
    const current: { session?: Session } = {};
    const subscriptions = [
      controller.onDidRunFrame((frame) => current.session && this.frame(current.session, frame)),
      controller.onDidRunProgress((progress) => current.session && this.progress(current.session, progress)),
    ];
    let resolveInfo: (info: RunInfo) => void = () => undefined;
    let rejectInfo: (error: unknown) => void = () => undefined;
    const started = new Promise<RunInfo>((resolve, reject) => ((resolveInfo = resolve), (rejectInfo = reject)));
    const subscribers = { subscribers: scenario.fanout?.subscribers ?? 0, stalledSubscribers: scenario.fanout?.stalledSubscribers ?? 0 };
    const ended: { running?: Promise<RunSummary> } = {};
    const sessionOf = (info: RunInfo): Session => {
      const created: Session = {
        ...base,
        info,
        subscriptions: [...base.subscriptions, ...subscriptions],
        stop: async () => {
          await controller.stop();
        },
        done: Promise.resolve(undefined as unknown as RunOutcome),
      };
      created.done = (ended.running as Promise<RunSummary>).then(
        (summary) => this.finish(created, summary),
        (error: unknown) => this.finish(created, this.summaryBeforeStart(created, error)),
      );
      current.session = created;
      return created;
    };
    // The session's own engine runs it (with the fan-out stage attached); its id comes with the start.
    const running = runFanoutScaling({
      scenario,
      rig,
      engine: controller,
      // Kept (and stoppable) from here, while the engine waits for the subscribers.
      onStarting: (starting) => open(sessionOf(starting)),
      onStarted: resolveInfo,
      onFanoutLatency: (latency) => {
        const fanout = { ...subscribers, ...(latency ? { latency: { count: latency.count, p50: latency.p50, p95: latency.p95, p99: latency.p99, max: latency.max } } : {}) };
        if (current.session) current.session.live = { ...current.session.live, fanout };
      },
    });
    ended.running = running;
    running.catch(rejectInfo);
    let info: RunInfo;
    try {
      info = await started;
    } catch (error) {
      if (!current.session) for (const subscription of subscriptions) subscription.dispose();
      throw error;
    }
    return current.session ? Object.assign(current.session, { info }) : sessionOf(info);
  }

  private startMultiInstance(base: Omit<Session, 'info' | 'stop' | 'done'>, scenario: Scenario, rig: RigConfig, redisUrl: string): Session {
    const id = newRunId();
    const seed = scenario.seed ?? randomBytes(4).readUInt32LE(0);
    const seeded: Scenario = { ...scenario, seed };
    const plan = createArrivalPlan(seeded.executor, seed);
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
      namespace: `multi-${id}`,
      store: 'redis',
    };
    const stopper = new AbortController();
    const current: { session?: Session } = {};
    let sent = 0;
    let completed = 0;
    let worstP99 = 0;
    // Each instance as the console's instances table shows it live, and the propagation each has seen.
    const instances = new Map<string, { -readonly [K in keyof InstanceProgress]: InstanceProgress[K] }>();
    const instance = (agentId: string): { -readonly [K in keyof InstanceProgress]: InstanceProgress[K] } => {
      let entry = instances.get(agentId);
      if (!entry) instances.set(agentId, (entry = { agentId, sent: 0, completed: 0, state: 'running' }));
      return entry;
    };
    const propagationSeen = new Map<string, FrameStageStatistics>();
    const propagationSoFar = (): FrameStageStatistics | undefined => {
      const parts = [...propagationSeen.values()];
      if (parts.length === 0) return undefined;
      const worst = (pick: (part: FrameStageStatistics) => number): number => Math.max(...parts.map(pick));
      return { count: parts.reduce((total, part) => total + part.count, 0), p50: worst((part) => part.p50), p95: worst((part) => part.p95), p99: worst((part) => part.p99), max: worst((part) => part.max) };
    };
    const merger = new InstanceFrameMerger(id, (frame) => {
      const session = current.session;
      if (!session) return;
      sent += frame.sent;
      completed += frame.completed;
      worstP99 = Math.max(worstP99, frame.stages.e2e?.p99 ?? 0);
      this.frame(session, frame);
      this.progress(session, {
        runId: id,
        elapsedMs: frame.atMs,
        plannedDurationMs: info.plannedDurationMs,
        fraction: info.plannedDurationMs > 0 ? Math.min(1, frame.atMs / info.plannedDurationMs) : 1,
        sent,
        completed,
        inFlight: frame.inFlight,
        ratePerSecond: frame.throughput,
        // The worst instance's interval p99 so far: an upper bound until the merged histograms at the end.
        e2eP99: worstP99,
        late: frame.late,
        instances: [...instances.values()].map((entry) => ({ ...entry })),
        ...(propagationSoFar() ? { propagation: propagationSoFar() as FrameStageStatistics } : {}),
      });
    });
    const running = runMultiInstance({
      scenario: seeded,
      rig: { ...rig, redisUrl },
      redisUrl,
      runId: id,
      signal: stopper.signal,
      log: this.log,
      onAssigned: (shares) => {
        for (const share of shares) Object.assign(instance(share.agentId), { index: share.index, count: share.count, sendsOsc: share.sendsOsc });
        merger.expect(shares.map((share) => share.agentId));
      },
      onFrame: (agentId, frame) => {
        const entry = instance(agentId);
        const e2eP99 = frame.stages.e2e?.p99;
        if (e2eP99 !== undefined) entry.e2eP99 = e2eP99;
        merger.add(agentId, frame);
      },
      onHeartbeat: (agentId, heartbeat) => {
        Object.assign(instance(agentId), { sent: heartbeat.sent, completed: heartbeat.completed });
        if (heartbeat.propagation) propagationSeen.set(agentId, heartbeat.propagation);
      },
      onInstanceDone: (agentId, lostReason) => {
        Object.assign(instance(agentId), lostReason === undefined ? { state: 'finished' } : { state: 'lost', lostReason });
        merger.remove(agentId);
      },
      ...(this.options.instanceCommand ? { instanceCommand: this.options.instanceCommand } : {}),
    });
    const session: Session = {
      ...base,
      info,
      stop: async () => stopper.abort(),
      done: Promise.resolve(undefined as unknown as RunOutcome),
    };
    current.session = session;
    const own = session;
    session.done = running.then(
      (summary) => {
        merger.finish();
        return this.finish(own, summary);
      },
      (error: unknown) => this.finish(own, this.summaryBeforeStart(own, error)),
    );
    return session;
  }

  /**
   * A run that ended before it had figures: kept (and saved) as stopped when it was stopped while
   * its engine waited, else as failed, with the reason in words.
   */
  private summaryBeforeStart(session: Session, error: unknown): RunSummary {
    const reason = error instanceof Error ? error.message : String(error);
    const stopped = error instanceof StoppedWhileWaitingError;
    return {
      run: { ...session.info, state: stopped ? 'finished' : 'failed' },
      endedAt: new Date().toISOString(),
      elapsedMs: Date.now() - session.startedAtMs,
      stopReason: stopped ? 'stopped' : 'failed',
      reason,
      sent: 0,
      completed: 0,
      unaccounted: 0,
      outcomes: { accepted: 0, rejected: 0, failed: 0, byCode: {} },
      throughput: 0,
      slip: { toleranceNs: session.scenario.slipTolerance * 1e6, late: 0, lateRate: 0 },
      stages: {},
      histograms: {},
      thresholds: [],
      passed: false,
      resources: { cpuPercentMean: 0, cpuPercentMax: 0, rssMaxBytes: 0, heapMaxBytes: 0, eventLoopDelayP99: 0, eventLoopDelayMax: 0 },
      pipeline: { limiterFallbacks: 0, tapMatched: 0, tapUnmatched: 0 },
      framesKept: 0,
    };
  }

  /** One interval frame: kept, counted for /metrics, saved, judged by the alert rules, watched for degradation. */
  private frame(session: Session, frame: RunFrame): void {
    this.history.push(frame);
    this.metrics.observeFrame(frame);
    session.recorder?.frame(frame);
    session.monitor?.observe(alertFrameOf(frame, session.startedAtMs));
    const change = session.degradation.observe(frame);
    if (change) this.degradeEmitter.fire({ runId: session.info.id, ...change });
    this.frameEmitter.fire(frame);
  }

  private progress(session: Session, progress: RunProgress): void {
    const live = { ...progress, ...session.live };
    const degradation = session.degradation;
    const intervals = degradation.intervals();
    this.progressEmitter.fire(
      intervals.length > 0 ? { ...live, degraded: degradation.degraded, limiterFallbacks: degradation.limiterFallbacks, degradedIntervals: intervals } : live,
    );
  }

  /** The run ended: judge what only the service sees, close alerts, save, and hand the outcome back. */
  private async finish(session: Session, engineSummary: RunSummary): Promise<RunOutcome> {
    if (session.finished) return this.last as RunOutcome;
    session.finished = true;
    for (const subscription of session.subscriptions) subscription.dispose();
    const degradedIntervals = session.degradation.intervals();
    const summary = judgeLimiterThreshold(degradedIntervals.length > 0 ? { ...engineSummary, degradedIntervals } : engineSummary);
    const lastFrame = this.history.all().at(-1);
    await session.monitor?.finish({ atMs: session.startedAtMs + (lastFrame?.atMs ?? Date.now() - session.startedAtMs) });
    this.history.finish(session.info.id);
    if (this.active === session) this.active = undefined;
    this.auditSink = undefined;
    // The last run's alerts and summary are there for the console from the moment it hears of the end.
    this.last = { summary, saved: false, alerts: [...session.alerts] };
    this.finishEmitter.fire(summary);
    let saved = false;
    let saveError: string | undefined = session.recorder ? undefined : this.storeOpenError;
    let journalPath: string | undefined;
    try {
      await session.audit?.drain(10_000);
      if (session.recorder) {
        const finished = await session.recorder.finish(summary);
        saved = finished.saved;
        if (!finished.saved) {
          saveError = finished.error.message;
          if (finished.journalPath) journalPath = finished.journalPath;
        }
      }
    } catch (error) {
      saveError = error instanceof Error ? error.message : String(error);
      this.log(`saving run ${summary.run.id} failed: ${saveError}`);
    } finally {
      session.recorder?.dispose();
      await session.audit?.close().catch(() => undefined);
    }
    const outcome: RunOutcome = { summary, saved, ...(saveError ? { saveError } : {}), ...(journalPath ? { journalPath } : {}), alerts: [...session.alerts] };
    this.last = outcome;
    return outcome;
  }
}

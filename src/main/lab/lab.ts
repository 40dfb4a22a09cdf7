import { mkdir, readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import {
  MAX_FRAME_DELIVERIES_PER_SECOND,
  type About,
  type LabApi,
  type LabFile,
  type OpenedDocument,
  type OpenedRig,
  type LoopbackState,
  type ProbeState,
  type ReportExport,
  type Unsubscribe,
} from '../../shared/api';
import type { ClockFit, LoopbackOptionsInput, ProbePort } from '../../shared/loopback';
import type { LabNote, LoopbackListEntry, RunComparison, RunFilter, RunListEntry, RunReport, TrendPoint, TrendRequest } from '../../shared/report';
import type { AlertEvent } from '../../shared/alerts';
import { Emitter } from '../../shared/emitter';
import { parseOrThrow, ValidationError } from '../../shared/format-issues';
import { RigSchema, type RigConfig } from '../../shared/rig';
import type { BotAwaited, RunFrame, RunInfo, RunProgress, RunStartOptions, RunSummary } from '../../shared/run';
import type { Scenario } from '../../shared/scenario';
import type { ChatLogFormat, ChatLogStats } from '../../shared/chat-log';
import { chatLogStats } from './chat/chat-log-stats';
import { recordChat, type ChatRecordOptions, type ChatRecording } from './chat/chat-recorder';
import { shippedChatLogsFolder } from './files/chat-log-path';
import { runDoctor, type DoctorCheck } from './doctor';
import { writeJsonFile } from './files/json-file';
import { demoRigPath, resourcePath } from './files/paths';
import { LoopbackService } from './loopback/loopback-service';
import { ReportService } from './report/report-service';
import { RunService, type RunEngine } from './session/run-service';
import { StoreProvider } from './store/store-provider';
import { RunStores } from './session/run-stores';
import { MetricsExporter } from './metrics-export/metrics-exporter';
import { loadRig, saveRig } from './files/rig-file';
import { FrameBatcher } from './server/frame-batcher';

export type { RunEngine } from './session/run-service';

export interface LabOptions {
  host: About['host'];
  /** The user's own rigs and scenarios live under here; default $XDG_DATA_HOME/cvlab or ~/.local/share/cvlab. */
  dataDir?: string;
  /** The single-engine load engine; a RunController unless a test or benchmark hands in its own. */
  runs?: RunEngine;
  /** `/metrics` of this engine (cvlab serve); the run service feeds it frames. */
  metrics?: MetricsExporter;
  /** Labels on every series of the engine's own `/metrics` (with the process's figures), when none is handed in. */
  metricsLabels?: Readonly<Record<string, string>>;
  /** Uncounted warm-up messages before each run (default: the engine's). */
  warmUpMessages?: number;
  /**
   * Where runs are saved and reports come from: by default the same database `cvlab run` uses
   * (the rig's databaseUrl, else DATABASE_URL, else PGlite in the data folder). One provider:
   * every run goes there whatever its rig says (tests). null: runs are not saved (benchmarks).
   */
  stores?: RunStores | StoreProvider | null;
  version?: string;
}

/** The user's data folder: CVLAB_DATA_DIR, else $XDG_DATA_HOME/cvlab, else ~/.local/share/cvlab. */
export function defaultLabDataDir(environment: NodeJS.ProcessEnv = process.env): string {
  if (environment['CVLAB_DATA_DIR']) return environment['CVLAB_DATA_DIR'];
  return join(environment['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'cvlab');
}

const toUnsubscribe =
  (disposable: { dispose(): void }): Unsubscribe =>
  () =>
    disposable.dispose();

/**
 * The one object implementing LabApi: the composition root. Each command delegates to an
 * engine module; the same Lab serves Electron IPC and the `cvlab serve` WebSocket bridge.
 */
export class Lab implements LabApi {
  private readonly dataDir: string;
  private active: OpenedRig | undefined;
  private last: RunSummary | null = null;
  private readonly startEmitter = new Emitter<RunInfo>();
  private readonly botAwaitEmitter = new Emitter<BotAwaited>();
  private readonly progressEmitter = new Emitter<RunProgress>();
  private readonly framesEmitter = new Emitter<RunFrame[]>();
  private readonly finishEmitter = new Emitter<RunSummary>();
  private readonly alertEmitter = new Emitter<AlertEvent>();
  private readonly loopback: LoopbackService = new LoopbackService({
    activeRig: () => this.activeRig(),
    stores: () => this.stores?.providerFor(this.active?.rig) ?? null,
    currentOrLastRunId: () => this.runs.current()?.id ?? this.last?.run.id ?? null,
    // Loop-back results go with the load run: to the store of the rig in use.
  });
  private readonly batcher = new FrameBatcher<RunFrame>(MAX_FRAME_DELIVERIES_PER_SECOND, (frames) =>
    this.framesEmitter.fire(frames),
  );
  private readonly engineSubscriptions: { dispose(): void }[] = [];

  /** `/metrics` of this engine, computed from the frames at scrape time. */
  get metrics(): MetricsExporter {
    return this.runs.metrics;
  }

  /** The one engine session: every run of the console goes through it. */
  readonly runs: RunService;
  private readonly stores: RunStores | null;

  constructor(private readonly options: LabOptions) {
    this.dataDir = options.dataDir ?? defaultLabDataDir();
    // CVLAB_DATA_DIR (tests) keeps the database beside the user's files; otherwise the CLI's default.
    const ownFolder = Boolean(options.dataDir || process.env['CVLAB_DATA_DIR']);
    this.stores =
      options.stores === undefined
        ? RunStores.choose(ownFolder ? { dataDir: join(this.dataDir, 'db') } : { defaultDatabaseUrl: process.env['DATABASE_URL'] })
        : options.stores instanceof StoreProvider
          ? RunStores.fixed(options.stores)
          : options.stores;
    const runs = (this.runs = new RunService({
      stores: this.stores,
      spoolDir: join(this.dataDir, 'spool'),
      chatLogFolder: join(this.dataDir, 'chat'),
      ...(options.runs ? { engine: options.runs } : {}),
      ...(options.metrics ? { metrics: options.metrics } : options.metricsLabels ? { metrics: new MetricsExporter({ defaultLabels: options.metricsLabels }) } : {}),
      ...(options.warmUpMessages !== undefined ? { warmUpMessages: options.warmUpMessages } : {}),
    }));
    this.engineSubscriptions.push(
      // Every console hears of a run however it was started (another console, another page).
      runs.onDidStartRun((info) => this.startEmitter.fire(info)),
      // A console shows where the bot must connect while cvlab waits for it (the run has no frames yet).
      runs.onDidAwaitBot((awaited) => this.botAwaitEmitter.fire(awaited)),
      runs.onDidRunProgress((progress) => this.progressEmitter.fire(progress)),
      runs.onDidRunFrame((frame) => this.batcher.push(frame)),
      runs.onDidFinishRun((summary) => {
        this.batcher.flush();
        this.last = summary;
        this.finishEmitter.fire(summary);
      }),
      runs.onDidAlert((notification) => this.alertEmitter.fire(notification.event)),
    );
  }

  readonly onDidStartRun = (listener: (info: RunInfo) => void): Unsubscribe =>
    toUnsubscribe(this.startEmitter.event(listener));
  readonly onDidAwaitBot = (listener: (awaited: BotAwaited) => void): Unsubscribe =>
    toUnsubscribe(this.botAwaitEmitter.event(listener));
  readonly onDidRunProgress = (listener: (progress: RunProgress) => void): Unsubscribe =>
    toUnsubscribe(this.progressEmitter.event(listener));
  readonly onDidRunFrames = (listener: (frames: RunFrame[]) => void): Unsubscribe =>
    toUnsubscribe(this.framesEmitter.event(listener));
  readonly onDidFinishRun = (listener: (summary: RunSummary) => void): Unsubscribe =>
    toUnsubscribe(this.finishEmitter.event(listener));
  readonly onDidAlert = (listener: (alert: AlertEvent) => void): Unsubscribe =>
    toUnsubscribe(this.alertEmitter.event(listener));
  readonly onDidChangeProbe = this.loopback.onDidChangeProbe;
  readonly onDidLoopbackProgress = this.loopback.onDidLoopbackProgress;
  readonly onDidLoopbackEdges = this.loopback.onDidLoopbackEdges;
  readonly onDidFinishLoopback = this.loopback.onDidFinishLoopback;

  loopbackState(): Promise<LoopbackState> {
    return this.loopback.loopbackState();
  }
  /** Serial ports a probe may sit on. */
  listProbePorts(): Promise<ProbePort[]> {
    return this.loopback.listProbePorts();
  }
  connectProbe(path: string): Promise<ProbeState> {
    return this.loopback.connectProbe(path);
  }
  disconnectProbe(): Promise<ProbeState> {
    return this.loopback.disconnectProbe();
  }
  calibrateProbe(): Promise<ClockFit> {
    return this.loopback.calibrateProbe();
  }
  startLoopback(options: LoopbackOptionsInput): Promise<{ total: number }> {
    return this.loopback.startLoopback(options);
  }
  stopLoopback(): Promise<void> {
    return this.loopback.stopLoopback();
  }

  /** Versions and folders of this engine. */
  async about(): Promise<About> {
    return {
      version: this.options.version ?? '0.1.0',
      host: this.options.host,
      node: process.versions.node,
      platform: `${process.platform} ${process.arch}`,
      resourcesDir: resourcePath(),
      dataDir: this.dataDir,
    };
  }

  /** Built-in rigs, then the user's own. */
  listRigs(): Promise<LabFile[]> {
    return this.listFiles('rigs');
  }

  /** One rig file as raw JSON (only from the built-in or the user's folder). */
  readRig(path: string): Promise<OpenedDocument> {
    return this.readDocument(path, 'rigs');
  }

  /** Saves a validated rig as the user's own file. */
  async saveRig(name: string, rig: RigConfig): Promise<LabFile> {
    const path = await this.userFile('rigs', name);
    await saveRig(path, rig);
    return { path, name: basename(path, '.json'), builtIn: false };
  }

  /** Makes `rig` the one runs and checks use. */
  async useRig(rig: RigConfig, file: LabFile | null): Promise<OpenedRig> {
    this.active = { rig, file };
    return this.active;
  }

  /** The rig in use: the demo rig until another is chosen. */
  async activeRig(): Promise<OpenedRig> {
    if (!this.active) {
      const path = demoRigPath();
      this.active = { rig: await loadRig(path), file: { path, name: 'demo', builtIn: true } };
    }
    return this.active;
  }

  /** The doctor's checks for the rig in use. */
  async checkRig(): Promise<DoctorCheck[]> {
    const { rig } = await this.activeRig();
    return runDoctor(rig);
  }

  listScenarios(): Promise<LabFile[]> {
    return this.listFiles('scenarios');
  }

  readScenario(path: string): Promise<OpenedDocument> {
    return this.readDocument(path, 'scenarios');
  }

  /** Saves a validated scenario as the user's own file. */
  async saveScenario(name: string, scenario: Scenario): Promise<LabFile> {
    const path = await this.userFile('scenarios', name);
    await writeJsonFile(path, scenario);
    return { path, name: basename(path, '.json'), builtIn: false };
  }

  /** Chat logs a replay can play: the shipped samples, then the user's own. */
  listChatLogs(): Promise<LabFile[]> {
    return this.listFiles('chat');
  }

  /** What is in a chat log of the shipped samples or the data folder's chat/, judged by the active rig. */
  async chatLogStats(path: string): Promise<ChatLogStats> {
    return this.readChatLogStats(this.insideFolders(path, 'chat'));
  }

  /** What is in any chat log (the command line names its own files); the active rig's grammar unless another is given. */
  async readChatLogStats(path: string, options: { format?: ChatLogFormat | 'auto'; rig?: RigConfig } = {}): Promise<ChatLogStats> {
    return chatLogStats(path, options.rig ?? (await this.activeRig()).rig, options.format);
  }

  /** Records a channel's chat into a file (`cvlab chat record`). */
  recordChat(options: ChatRecordOptions): Promise<ChatRecording> {
    return recordChat(options);
  }

  /** Starts a run of any kind (one engine, several instances, fan-out) through the run service; it is saved as it goes. */
  async startRun(options: RunStartOptions): Promise<RunInfo> {
    // A connected probe watches the run's test variable (chat → CV) unless the request says not to.
    const probe = options.useProbe === false ? undefined : this.loopback.probeForRun(parseOrThrow(RigSchema, options.rig, 'rig'));
    // The host is this Lab's, never the request's: a browser cannot claim to be the Electron window.
    return this.runs.start({ ...options, host: this.options.host, ...(probe ? { probe } : {}) });
  }

  /** Saved runs of the store the rig in use saves to (its databaseUrl, else the default). */
  private requireReports(): ReportService {
    if (!this.stores) throw new Error('Reports are off in this engine (runs are not saved).');
    return this.stores.reportsFor(this.active?.rig);
  }

  /** Saved runs, newest first. */
  async listReports(filter: RunFilter): Promise<RunListEntry[]> {
    return this.requireReports().listRuns(filter);
  }

  /** The report of one saved run. */
  async openReport(id: string): Promise<RunReport> {
    return this.requireReports().getReport(id);
  }

  /** A saved run as HTML, JSON or CSV text. */
  async exportReport(id: string, format: 'html' | 'json' | 'csv'): Promise<ReportExport> {
    const reports = this.requireReports();
    const runId = await reports.resolveRunId(id);
    if (format === 'html')
      return { fileName: `cvlab-${runId}.html`, mimeType: 'text/html', text: await reports.exportHtml(runId) };
    if (format === 'json')
      return { fileName: `cvlab-${runId}.json`, mimeType: 'application/json', text: await reports.exportJson(runId) };
    return { fileName: `cvlab-${runId}-intervals.csv`, mimeType: 'text/csv', text: await reports.exportCsv(runId) };
  }

  /** Marks a saved run as its rig and scenario's baseline. */
  markBaseline(id: string): Promise<{ runId: string; rig: string; scenario: string }> {
    return this.requireReports().markBaseline(id);
  }

  /** Compares a run with another, or with its baseline. */
  compareReports(candidateId: string, baselineId: string | null): Promise<RunComparison> {
    return this.requireReports().compare(candidateId, baselineId ?? undefined);
  }

  /** Adds a note of the lab notebook to a saved run or loop-back measurement. */
  addNote(kind: 'run' | 'loopback', id: string, text: string, tags: string[]): Promise<LabNote> {
    return this.requireReports().addNote(kind, id, text, tags);
  }

  /** Saved loop-back measurements with the run each belongs to. */
  listLoopbackResults(): Promise<LoopbackListEntry[]> {
    return this.requireReports().listLoopback();
  }

  /** Attaches a saved loop-back measurement to a saved run (null detaches it). */
  attachLoopback(loopbackId: string, runId: string | null): Promise<LoopbackListEntry> {
    return this.requireReports().attachLoopback(loopbackId, runId);
  }

  /** One stage percentile over the last runs of a rig and scenario. */
  reportTrend(request: TrendRequest): Promise<TrendPoint[]> {
    return this.requireReports().trend(request);
  }

  /** Stops the run going on; null when none runs. */
  async stopRun(): Promise<RunSummary | null> {
    const summary = await this.runs.stop();
    if (summary) this.last = summary;
    return summary;
  }

  async currentRun(): Promise<RunInfo | null> {
    return this.runs.current() ?? null;
  }

  /** Frames of the run going on (else of the last run) with a sequence above `after`, oldest first, at most `count`. */
  async runFrames(after: number, count: number): Promise<RunFrame[]> {
    return this.runs.runFrames(after, count);
  }

  /** Alert events of the last run and of the run going on, oldest first (a reloaded console gets them back). */
  async listAlerts(): Promise<AlertEvent[]> {
    return this.runs.listAlerts();
  }

  async lastSummary(): Promise<RunSummary | null> {
    return this.last;
  }

  /** Ends the engine's subscriptions (the app or the server is closing). */
  async dispose(): Promise<void> {
    if (this.runs.current()) await this.runs.stop();
    await this.loopback.dispose();
    for (const subscription of this.engineSubscriptions) subscription.dispose();
    await this.runs.dispose();
    this.batcher.dispose();
    await this.stores?.close();
  }

  private folders(kind: 'rigs' | 'scenarios' | 'chat'): { builtIn: string; user: string } {
    if (kind === 'chat') return { builtIn: shippedChatLogsFolder(), user: join(this.dataDir, 'chat') };
    return { builtIn: resourcePath(kind), user: join(this.dataDir, kind) };
  }

  private async listFiles(kind: 'rigs' | 'scenarios' | 'chat'): Promise<LabFile[]> {
    const { builtIn, user } = this.folders(kind);
    // Rigs and scenarios are JSON named without the extension; chat logs come in several formats.
    const wanted = (name: string): boolean => (kind === 'chat' ? !name.startsWith('.') : name.endsWith('.json'));
    const list = async (folder: string, isBuiltIn: boolean): Promise<LabFile[]> => {
      const names = await readdir(folder).catch(() => [] as string[]);
      return names
        .filter(wanted)
        .sort()
        .map((name) => ({ path: join(folder, name), name: kind === 'chat' ? name : basename(name, '.json'), builtIn: isBuiltIn }));
    };
    return [...(await list(builtIn, true)), ...(await list(user, false))];
  }

  /** The full path of a file in the built-in or the user's folder of its kind; any other path is refused. */
  private insideFolders(path: string, kind: 'rigs' | 'scenarios' | 'chat'): string {
    const { builtIn, user } = this.folders(kind);
    const full = resolve(path);
    const inside = (folder: string): boolean => full.startsWith(resolve(folder) + sep);
    if (!inside(builtIn) && !inside(user)) {
      throw new ValidationError(`${kind === 'rigs' ? 'Rig' : kind === 'scenarios' ? 'Scenario' : 'Chat log'} file ${path}`, [
        `expected a file in ${builtIn} or ${user}`,
      ]);
    }
    return full;
  }

  /** Reads raw JSON from the built-in or the user's folder only: the page never names other files. */
  private async readDocument(path: string, kind: 'rigs' | 'scenarios'): Promise<OpenedDocument> {
    const { builtIn } = this.folders(kind);
    const full = this.insideFolders(path, kind);
    const inside = (folder: string): boolean => full.startsWith(resolve(folder) + sep);
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch {
      throw new ValidationError(`File ${path}`, ['cannot read it: no such file']);
    }
    let content: unknown;
    try {
      content = JSON.parse(text);
    } catch (error) {
      throw new ValidationError(`File ${path}`, [`not valid JSON: ${(error as Error).message}`]);
    }
    return { file: { path: full, name: basename(full, '.json'), builtIn: inside(builtIn) }, content };
  }

  private async userFile(kind: 'rigs' | 'scenarios', name: string): Promise<string> {
    const folder = this.folders(kind).user;
    await mkdir(folder, { recursive: true });
    return join(folder, name.endsWith('.json') ? name : `${name}.json`);
  }
}

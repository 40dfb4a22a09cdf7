import type { Disposable, Event } from '../../../shared/emitter';
import { Emitter } from '../../../shared/emitter';
import type { AuditCounters, ReportEnvironment, RunStatus } from '../../../shared/report';
import type { RunFrame, RunInfo, RunSummary } from '../../../shared/run';
import { isConnectionError } from './database-errors';
import { IntervalRepository, type StoredInterval } from './interval-repository';
import { RunJournal, type RunJournalEntry } from './run-journal';
import { RunRepository, type NewRun } from './run-repository';
import type { Store } from './store';

/** What the recorder listens to: the run controller, or anything shaped like it. */
export interface RecordableRunSource {
  readonly onDidStartRun?: Event<RunInfo>;
  readonly onDidRunFrame: Event<RunFrame>;
  readonly onDidFinishRun: Event<RunSummary>;
}

export interface RunRecorderOptions {
  /** How often buffered frames and the heartbeat are written; at most 1000 so a crash loses ≤ 1 s. */
  readonly flushIntervalMs?: number;
  /** Saved with the run for its report (versions, CPU, OS). */
  readonly environment?: ReportEnvironment | null;
  /** The parsed rig and scenario, saved with the run so its report can show them. */
  readonly details?: () => { rig?: unknown; scenario?: unknown };
  /** The audit log's counters, saved with the summary so the report shows them. */
  readonly auditCounters?: () => AuditCounters;
  /** While the database is away at a run's end, how often writing the journaled end is tried again. */
  readonly finishRetryMs?: number;
}

/** How the end of a run was saved. */
export type FinishOutcome =
  | { readonly saved: true }
  /** The database did not take it: it is kept in `journalPath` and written by a retry or the next open. */
  | { readonly saved: false; readonly journalPath: string | null; readonly error: Error };

/** The saved status of a finished run. */
export function statusOfSummary(summary: RunSummary): Exclude<RunStatus, 'running'> {
  if (summary.stopReason === 'aborted' || summary.stopReason === 'stopped') return 'aborted';
  if (summary.stopReason === 'failed' || !summary.passed) return 'failed';
  return 'passed';
}

/**
 * Saves every run as it goes: the run row on start (`running`), frames in batches with a
 * heartbeat at least every second, and on finish the summary, histograms and final status.
 * A process that dies mid-run leaves the run `running` with a stale heartbeat; the next
 * Store.open marks it aborted, intervals intact.
 */
export class RunRecorder {
  private runId: string | undefined;
  private started: Promise<void> | undefined;
  private pending: StoredInterval[] = [];
  private early: (StoredInterval & { runId: string })[] = [];
  private finishing: { runId: string; done: Promise<FinishOutcome> } | undefined;
  private newRun: NewRun | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Ends of runs the database did not take yet, by run id. */
  private readonly unsaved = new Map<string, RunJournalEntry>();
  private savedIntervals = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly errorEmitter = new Emitter<Error>();
  private readonly flushIntervalMs: number;

  /** A write failed (it is retried on the next flush); the console shows it, the run goes on. */
  readonly onDidFail = this.errorEmitter.event;

  constructor(
    private readonly store: Store,
    private readonly options: RunRecorderOptions = {},
  ) {
    this.flushIntervalMs = Math.min(options.flushIntervalMs ?? 500, 1000);
  }

  /** Follows a run controller: starts, frames and finishes are recorded as they happen. */
  attach(source: RecordableRunSource): Disposable {
    const subscriptions = [
      source.onDidStartRun?.((info) => void this.start(info).catch((error: unknown) => this.fail(error))),
      source.onDidRunFrame((frame) => this.frame(frame)),
      source.onDidFinishRun((summary) => void this.finish(summary).catch((error: unknown) => this.fail(error))),
    ];
    return { dispose: () => subscriptions.forEach((subscription) => subscription?.dispose()) };
  }

  /** Saves the run as `running` and starts the periodic flush. */
  start(info: RunInfo): Promise<void> {
    if (this.runId === info.id && this.started) return this.started;
    this.stopTimer();
    this.runId = info.id;
    this.pending = this.early.filter((frame) => frame.runId === info.id).map(({ runId: _runId, ...frame }) => frame);
    this.early = [];
    this.savedIntervals = 0;
    const details = this.options.details?.() ?? {};
    this.newRun = {
      id: info.id,
      rig: info.rig,
      scenario: info.scenario,
      startedAtMs: Date.parse(info.startedAt),
      info: { ...info, ...(details.rig ? { rigConfig: details.rig } : {}), ...(details.scenario ? { scenarioConfig: details.scenario } : {}) },
      environment: this.options.environment ?? null,
    };
    this.started = this.store.runs.insert(this.newRun);
    // A start the database did not take is journaled with the end; flushes wait for it meanwhile.
    this.started.catch(() => undefined);
    this.timer = setInterval(() => void this.flush().catch((error: unknown) => this.fail(error)), this.flushIntervalMs);
    return this.started;
  }

  /** Buffers one frame; it reaches the database on the next flush. Never waits. */
  frame(frame: RunFrame): void {
    if (frame.runId !== this.runId) {
      // A frame can come before start() is called with the RunInfo that controller.start returned.
      if (this.early.length < 1_000) this.early.push({ seq: frame.sequence, atMs: Date.now(), frame: frame as unknown as Record<string, unknown>, runId: frame.runId });
      return;
    }
    this.pending.push({ seq: frame.sequence, atMs: Date.now(), frame: frame as unknown as Record<string, unknown> });
  }

  /** Writes buffered frames and the heartbeat now (one flush at a time, in order). */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const runId = this.runId;
    if (!runId || !this.started) return;
    await this.started;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.store.database.transaction(async (transaction) => {
        await new IntervalRepository(transaction).append(runId, batch);
        await new RunRepository(transaction).heartbeat(runId, Date.now(), this.savedIntervals + batch.length);
      });
      this.savedIntervals += batch.length;
    } catch (error) {
      // Keep the frames for the next attempt, ahead of anything that came in meanwhile.
      this.pending = batch.concat(this.pending);
      throw error;
    }
  }

  /**
   * Writes the last frames, the summary, the histograms and the final status. Called twice for
   * one run (by attach() and by the caller), both get the same promise. The end is journaled to
   * disk first: when the database is away it stays there, is retried every `finishRetryMs`, and
   * the next Store.open writes it otherwise. The run is never taken for an aborted one.
   */
  finish(summary: RunSummary): Promise<FinishOutcome> {
    if (this.finishing?.runId === summary.run.id) return this.finishing.done;
    if (summary.run.id !== this.runId) return Promise.resolve({ saved: true });
    const done = this.writeFinish(summary);
    this.finishing = { runId: summary.run.id, done };
    return done;
  }

  private async writeFinish(summary: RunSummary): Promise<FinishOutcome> {
    this.stopTimer();
    // Frames the database has not taken yet go into the journal with the end.
    await this.flush().catch(() => undefined);
    const histograms = Object.entries(summary.histograms).flatMap(([name, encoded]) =>
      encoded ? [{ name, encoded, totalCount: summary.stages[name as keyof RunSummary['stages']]?.count ?? 0 }] : [],
    );
    const { histograms: _histograms, ...rest } = summary;
    const audit = this.options.auditCounters?.();
    const e2eP99 = summary.stages.e2e?.p99;
    const started = await this.started?.then(
      () => true,
      () => false,
    );
    const entry: RunJournalEntry = {
      formatVersion: 1,
      runId: summary.run.id,
      run: started ? null : (this.newRun ?? null),
      intervals: this.pending,
      histograms,
      finish: {
        status: statusOfSummary(summary),
        endedAtMs: Date.parse(summary.endedAt) || Date.now(),
        summary: { ...rest, ...(audit ? { audit: { queued: audit.queued, written: audit.written, spooled: audit.spooled, replayed: audit.replayed, dropped: audit.dropped } } : {}) },
        e2eP99Ms: e2eP99 === undefined ? null : e2eP99 / 1e6,
        intervalCount: this.savedIntervals + this.pending.length,
      },
    };
    this.pending = [];
    this.runId = undefined;
    this.started = undefined;
    const journal = this.store.journal;
    let journalPath: string | null = null;
    try {
      journalPath = (await journal?.write(entry)) ?? null;
    } catch (error) {
      // A full or read-only disk: the database may still take it; say so if it does not.
      this.fail(error);
    }
    try {
      await RunJournal.apply(this.store.database, entry);
      await journal?.remove(entry.runId);
      return { saved: true };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (journalPath && isConnectionError(error)) this.retryLater(entry);
      this.fail(failure);
      return { saved: false, journalPath, error: failure };
    }
  }

  /** Tries the journaled end again until the database takes it (or the recorder is disposed). */
  private retryLater(entry?: RunJournalEntry): void {
    if (entry) this.unsaved.set(entry.runId, entry);
    if (this.retryTimer || this.unsaved.size === 0) return;
    this.retryTimer = setTimeout(() => {
      void (async () => {
        for (const [runId, unsaved] of this.unsaved) {
          try {
            await RunJournal.apply(this.store.database, unsaved);
            await this.store.journal?.remove(runId);
            this.unsaved.delete(runId);
          } catch {
            break;
          }
        }
        this.retryTimer = undefined;
        this.retryLater();
      })();
    }, this.options.finishRetryMs ?? 2_000);
    // A process that ends meanwhile leaves the journal for the next open.
    this.retryTimer.unref();
  }

  /** Ctrl-C: saves what there is and marks the run aborted without waiting for a summary. */
  async abort(): Promise<void> {
    const runId = this.runId;
    if (!runId) return;
    this.stopTimer();
    await this.flush().catch(() => undefined);
    await this.store.runs.finish(runId, { status: 'aborted', endedAtMs: Date.now(), summary: null, e2eP99Ms: null, intervalCount: this.savedIntervals });
    this.runId = undefined;
    this.started = undefined;
  }

  /** Ends of runs kept in the journal because the database did not take them yet. */
  get unsavedRuns(): number {
    return this.unsaved.size;
  }

  /** Stops flushing (the run, if any, stays as saved; a journaled end waits for the next open). */
  dispose(): void {
    this.stopTimer();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.unsaved.clear();
    this.errorEmitter.dispose();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private fail(error: unknown): void {
    this.errorEmitter.fire(error instanceof Error ? error : new Error(String(error)));
  }
}

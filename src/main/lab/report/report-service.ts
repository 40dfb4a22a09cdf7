import { BadInputError } from '../../../shared/exit-codes';
import type { LabNote, LoopbackListEntry, RunComparison, RunFilter, RunListEntry, RunReport, TrendPoint, TrendRequest } from '../../../shared/report';
import { NoteTagSchema, NoteTextSchema } from '../../../shared/report';
import { parseOrThrow } from '../../../shared/format-issues';
import { TrendRequestSchema } from '../../../shared/report';
import type { StageStatistics } from '../../../shared/run';
import type { Store } from '../store/store';
import { compareRuns, type CompareOptions } from './compare-runs';
import { renderIntervalsCsv } from './render-csv';
import { renderReportHtml } from './render-html';
import { buildReport } from './report-builder';

/** Where the service gets its store (a StoreProvider opens it on first use). */
export interface StoreSource {
  get(): Promise<Store>;
}

/**
 * Saved runs and their reports for the console's Reports page, the CLI and `cvlab serve`:
 * list and filter, report, export (HTML, JSON, CSV), baselines, comparison and trend.
 * Engine-side only: no UI or Electron imports; every result is plain data or text.
 */
export class ReportService {
  constructor(private readonly stores: StoreSource) {}

  /** Saved runs, newest first, each with its notebook notes. */
  async listRuns(filter: RunFilter = {}): Promise<RunListEntry[]> {
    const store = await this.stores.get();
    const runs = await store.runs.list(filter);
    return withNotes(runs, await store.notes.listFor(runs.map((run) => run.id)));
  }

  /**
   * Adds a note of the lab notebook to a run (`latest` allowed) or a loop-back measurement:
   * what changed, with tags to find it again (`cvlab runs --tag`, the Reports page's filter).
   */
  async addNote(kind: LabNote['kind'], idOrLatest: string, text: string, tags: readonly string[] = []): Promise<LabNote> {
    const store = await this.stores.get();
    const parsedText = parseOrThrow(NoteTextSchema, text, 'note');
    const parsedTags = tags.map((tag) => parseOrThrow(NoteTagSchema, tag, 'tag'));
    if (kind === 'run') {
      const runId = await this.resolveRunId(idOrLatest);
      if (!(await store.runs.get(runId))) throw new BadInputError(`No saved run "${runId}"; expected a run id from \`cvlab runs\` or "latest".`);
      return store.notes.add('run', runId, parsedText, [...new Set(parsedTags)]);
    }
    const known = (await store.loopback.list(10_000)).some((entry) => entry.id === idOrLatest);
    if (!known) throw new BadInputError(`No saved loop-back measurement "${idOrLatest}"; expected one listed on the Reports page.`);
    return store.notes.add('loopback', idOrLatest, parsedText, [...new Set(parsedTags)]);
  }

  /** A run id, with `latest` meaning the newest saved run. */
  async resolveRunId(idOrLatest: string): Promise<string> {
    if (idOrLatest !== 'latest') return idOrLatest;
    const [newest] = await this.listRuns({ limit: 1 });
    if (!newest) throw new BadInputError('No runs are saved yet; expected at least one run (see `cvlab run`).');
    return newest.id;
  }

  /** The report model of one run (`latest` allowed). */
  async getReport(idOrLatest: string): Promise<RunReport> {
    const store = await this.stores.get();
    const report = await buildReport(store, await this.resolveRunId(idOrLatest));
    const notes = await store.notes.listFor([report.run.id, ...report.loopback.map((entry) => entry.id)]);
    const runNotes = notes.filter((note) => note.subject === report.run.id);
    return { ...report, run: { ...report.run, notes: runNotes }, notes };
  }

  /**
   * The self-contained HTML report. With `compare: 'baseline'` (the default) it includes the
   * comparison with the rig and scenario's baseline, when one is marked and is another run.
   */
  async exportHtml(idOrLatest: string, options: { compare?: 'baseline' | 'none' | { with: string } } = {}): Promise<string> {
    const report = await this.getReport(idOrLatest);
    const compare = options.compare ?? 'baseline';
    let comparison: RunComparison | undefined;
    if (compare !== 'none') {
      const otherId = compare === 'baseline' ? await (await this.stores.get()).baselines.get(report.run.rig, report.run.scenario) : compare.with;
      if (otherId && otherId !== report.run.id) comparison = compareRuns(await this.getReport(otherId), report);
    }
    return renderReportHtml(report, comparison);
  }

  /** The report model as JSON text (histograms included as HdrHistogram base64). */
  async exportJson(idOrLatest: string): Promise<string> {
    return JSON.stringify(await this.getReport(idOrLatest), null, 2) + '\n';
  }

  /** The interval series as CSV. */
  async exportCsv(idOrLatest: string): Promise<string> {
    return renderIntervalsCsv(await this.getReport(idOrLatest));
  }

  /** Marks a run as the baseline of its rig and scenario. */
  async markBaseline(idOrLatest: string): Promise<{ runId: string; rig: string; scenario: string }> {
    const runId = await this.resolveRunId(idOrLatest);
    return { runId, ...(await (await this.stores.get()).baselines.mark(runId)) };
  }

  /** The baseline run id of a run's rig and scenario, if one is marked. */
  async baselineFor(idOrLatest: string): Promise<string | undefined> {
    const candidate = await this.getReport(idOrLatest);
    return (await (await this.stores.get()).baselines.get(candidate.run.rig, candidate.run.scenario)) ?? undefined;
  }

  /**
   * Compares a run with another one, or (without `baselineId`) with the baseline of its rig
   * and scenario; throws in plain words when there is none to compare with.
   */
  async compare(candidateId: string, baselineId?: string, options?: CompareOptions): Promise<RunComparison> {
    const candidate = await this.getReport(candidateId);
    let otherId = baselineId === undefined ? undefined : await this.resolveRunId(baselineId);
    if (otherId === undefined) {
      otherId = await (await this.stores.get()).baselines.get(candidate.run.rig, candidate.run.scenario);
      if (!otherId) {
        throw new BadInputError(`No baseline is marked for rig "${candidate.run.rig}" and scenario "${candidate.run.scenario}"; mark one with \`cvlab baseline <run-id>\` or name a second run.`);
      }
    }
    return compareRuns(await this.getReport(otherId), candidate, options);
  }

  /** A chosen percentile of one stage across the last N runs of a rig and scenario, oldest first. */
  async trend(request: TrendRequest): Promise<TrendPoint[]> {
    const parsed = TrendRequestSchema.parse(request);
    const store = await this.stores.get();
    const runs = await store.runs.list({ rig: parsed.rig, scenario: parsed.scenario, limit: parsed.limit });
    const notes = await store.notes.listFor(runs.map((entry) => entry.id));
    const points: TrendPoint[] = [];
    for (const entry of runs.reverse()) {
      const notesOfRun = notes.filter((note) => note.subject === entry.id);
      const run = await store.runs.get(entry.id);
      const stages = (run?.summary?.['stages'] ?? {}) as Partial<Record<string, StageStatistics>>;
      const statistics = stages[parsed.stage];
      points.push({
        runId: entry.id,
        startedAtMs: entry.startedAtMs,
        status: entry.status,
        valueMs: statistics ? statistics[parsed.percentile] / 1e6 : null,
        samples: statistics?.count ?? 0,
        baseline: entry.baseline,
        ...(notesOfRun.length ? { notes: notesOfRun } : {}),
      });
    }
    return points;
  }

  /** Saved loop-back measurements, newest first, with the run each belongs to. */
  async listLoopback(limit = 200): Promise<LoopbackListEntry[]> {
    const store = await this.stores.get();
    const entries = await store.loopback.list(limit);
    const notes = await store.notes.listFor(entries.map((entry) => entry.id));
    return entries.map((entry) => ({ ...entry, notes: notes.filter((note) => note.subject === entry.id) }));
  }

  /** Attaches a loop-back measurement to a saved run (`latest` allowed; null detaches it), so that run's report shows it. */
  async attachLoopback(loopbackId: string, runIdOrLatest: string | null): Promise<LoopbackListEntry> {
    const store = await this.stores.get();
    const runId = runIdOrLatest === null ? null : await this.resolveRunId(runIdOrLatest);
    if (runId !== null && !(await store.runs.get(runId))) throw new BadInputError(`No saved run "${runId}"; expected the id of a run listed on the Reports page (or \`cvlab runs\`).`);
    if (!(await store.loopback.attach(loopbackId, runId))) throw new BadInputError(`No saved loop-back measurement "${loopbackId}"; expected one listed on the Reports page.`);
    const entry = (await store.loopback.list(10_000)).find((candidate) => candidate.id === loopbackId);
    if (!entry) throw new BadInputError(`No saved loop-back measurement "${loopbackId}".`);
    return entry;
  }

  /** Deletes a saved run and everything that belongs to it. */
  async deleteRun(id: string): Promise<boolean> {
    return (await this.stores.get()).runs.delete(id);
  }
}

/** Each run with its own notes. */
function withNotes(runs: readonly RunListEntry[], notes: readonly LabNote[]): RunListEntry[] {
  return runs.map((run) => ({ ...run, notes: notes.filter((note) => note.subject === run.id) }));
}

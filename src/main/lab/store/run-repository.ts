import type { ReportEnvironment, RunFilter, RunListEntry, RunStatus } from '../../../shared/report';
import { RunFilterSchema } from '../../../shared/report';
import type { Queryable } from './database';

/** Milliseconds since the epoch of a timestamptz column, as a plain number in both backends. */
export const epochMs = (column: string): string => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** A saved run with everything the report needs from the `runs` row. */
export interface StoredRun extends RunListEntry {
  readonly heartbeatAtMs: number;
  readonly info: Record<string, unknown>;
  readonly environment: ReportEnvironment | null;
  readonly summary: Record<string, unknown> | null;
}

export interface NewRun {
  readonly id: string;
  readonly rig: string;
  readonly scenario: string;
  readonly startedAtMs: number;
  readonly info: Record<string, unknown>;
  readonly environment: ReportEnvironment | null;
}

interface RunRow {
  id: string;
  rig: string;
  scenario: string;
  status: RunStatus;
  started_at_ms: number;
  ended_at_ms: number | null;
  heartbeat_at_ms: number;
  interval_count: number;
  e2e_p99_ms: number | null;
  baseline: boolean;
  info?: Record<string, unknown>;
  environment?: ReportEnvironment | null;
  summary?: Record<string, unknown> | null;
}

const LIST_COLUMNS = `r.id, r.rig, r.scenario, r.status, ${epochMs('r.started_at')} AS started_at_ms,
  ${epochMs('r.ended_at')} AS ended_at_ms, ${epochMs('r.heartbeat_at')} AS heartbeat_at_ms, r.interval_count, r.e2e_p99_ms,
  (b.run_id IS NOT NULL) AS baseline`;
const FROM_RUNS = 'runs r LEFT JOIN baselines b ON b.run_id = r.id';

function toEntry(row: RunRow): RunListEntry {
  return {
    id: row.id,
    rig: row.rig,
    scenario: row.scenario,
    status: row.status,
    startedAtMs: row.started_at_ms,
    endedAtMs: row.ended_at_ms,
    intervalCount: row.interval_count,
    baseline: row.baseline,
    e2eP99Ms: row.e2e_p99_ms,
  };
}

/** The `runs` table: one row per run, from `running` to passed, failed or aborted. */
export class RunRepository {
  constructor(private readonly database: Queryable) {}

  /** Saves a run as `running` the moment it starts. */
  async insert(run: NewRun): Promise<void> {
    await this.database.query(
      `INSERT INTO runs (id, rig, scenario, status, started_at, heartbeat_at, info, environment)
       VALUES ($1, $2, $3, 'running', to_timestamp($4::float8 / 1000), to_timestamp($4::float8 / 1000), $5::jsonb, $6::jsonb)`,
      [run.id, run.rig, run.scenario, run.startedAtMs, JSON.stringify(run.info), run.environment ? JSON.stringify(run.environment) : null],
    );
  }

  /** Proves the run is still alive; also keeps the saved interval count current. */
  async heartbeat(id: string, atMs: number, intervalCount: number): Promise<void> {
    await this.database.query(
      `UPDATE runs SET heartbeat_at = to_timestamp($2::float8 / 1000), interval_count = GREATEST(interval_count, $3) WHERE id = $1`,
      [id, atMs, intervalCount],
    );
  }

  /** Closes a run with its final status and summary. */
  async finish(id: string, finish: { status: Exclude<RunStatus, 'running'>; endedAtMs: number; summary: Record<string, unknown> | null; e2eP99Ms: number | null; intervalCount: number }): Promise<void> {
    await this.database.query(
      `UPDATE runs SET status = $2, ended_at = to_timestamp($3::float8 / 1000), heartbeat_at = to_timestamp($3::float8 / 1000),
         summary = $4::jsonb, e2e_p99_ms = $5, interval_count = GREATEST(interval_count, $6) WHERE id = $1`,
      [id, finish.status, finish.endedAtMs, finish.summary ? JSON.stringify(finish.summary) : null, finish.e2eP99Ms, finish.intervalCount],
    );
  }

  /**
   * Marks as aborted every run still `running` whose heartbeat is older than `staleMs`: its
   * process died (crash, kill, power). The run keeps its intervals. Returns the ids.
   */
  async abortStale(nowMs: number, staleMs: number): Promise<string[]> {
    const rows = await this.database.query<{ id: string }>(
      `UPDATE runs SET status = 'aborted', ended_at = heartbeat_at
       WHERE status = 'running' AND heartbeat_at < to_timestamp($1::float8 / 1000) RETURNING id`,
      [nowMs - staleMs],
    );
    return rows.map((row) => row.id);
  }

  /** One run with its info, environment and summary; undefined when no run has that id. */
  async get(id: string): Promise<StoredRun | undefined> {
    const rows = await this.database.query<RunRow>(`SELECT ${LIST_COLUMNS}, r.info, r.environment, r.summary FROM ${FROM_RUNS} WHERE r.id = $1`, [id]);
    const row = rows[0];
    if (!row) return undefined;
    return { ...toEntry(row), heartbeatAtMs: row.heartbeat_at_ms, info: row.info ?? {}, environment: row.environment ?? null, summary: row.summary ?? null };
  }

  /** Runs, newest first, narrowed by the filter. */
  async list(filter: RunFilter = {}): Promise<RunListEntry[]> {
    const parsed = RunFilterSchema.parse(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    if (parsed.rig) where.push(`r.rig = $${params.push(parsed.rig)}`);
    if (parsed.scenario) where.push(`r.scenario = $${params.push(parsed.scenario)}`);
    if (parsed.status) where.push(`r.status = $${params.push(parsed.status)}`);
    if (parsed.sinceMs !== undefined) where.push(`r.started_at >= to_timestamp($${params.push(parsed.sinceMs)}::float8 / 1000)`);
    // The lab notebook: a tag on one of the run's notes; text in its notes, tags, scenario, rig or id.
    if (parsed.tag) where.push(`r.id IN (SELECT subject FROM notes WHERE $${params.push(parsed.tag)} = ANY(tags))`);
    if (parsed.text) {
      const pattern = `$${params.push(`%${parsed.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`)}`;
      where.push(
        `(r.id ILIKE ${pattern} OR r.scenario ILIKE ${pattern} OR r.rig ILIKE ${pattern} OR r.id IN (SELECT subject FROM notes WHERE text ILIKE ${pattern} OR array_to_string(tags, ' ') ILIKE ${pattern}))`,
      );
    }
    const rows = await this.database.query<RunRow>(
      `SELECT ${LIST_COLUMNS} FROM ${FROM_RUNS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.started_at DESC, r.id DESC LIMIT $${params.push(parsed.limit)}`,
      params,
    );
    return rows.map(toEntry);
  }

  /** Deletes a run and, by cascade, its intervals, histograms, alerts and baseline mark. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.database.query('DELETE FROM runs WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }
}

import type { Queryable } from './database';
import { epochMs } from './run-repository';

/** One saved interval frame of a run. */
export interface StoredInterval {
  readonly seq: number;
  readonly atMs: number;
  readonly frame: Record<string, unknown>;
}

/** The `run_intervals` table: a run's interval frames, written in batches as the run goes. */
export class IntervalRepository {
  constructor(private readonly database: Queryable) {}

  /** Appends frames in one statement; a frame already saved (same run and seq) is left alone. */
  async append(runId: string, intervals: readonly StoredInterval[]): Promise<void> {
    if (intervals.length === 0) return;
    await this.database.query(
      `INSERT INTO run_intervals (run_id, seq, at, frame)
       SELECT $1, seq, to_timestamp(at_ms / 1000), frame::jsonb FROM unnest($2::integer[], $3::float8[], $4::text[]) AS t(seq, at_ms, frame)
       ON CONFLICT (run_id, seq) DO NOTHING`,
      [runId, intervals.map((interval) => interval.seq), intervals.map((interval) => interval.atMs), intervals.map((interval) => JSON.stringify(interval.frame))],
    );
  }

  /** Every saved frame of a run, in order. */
  async list(runId: string): Promise<StoredInterval[]> {
    const rows = await this.database.query<{ seq: number; at_ms: number; frame: Record<string, unknown> }>(
      `SELECT seq, ${epochMs('at')} AS at_ms, frame FROM run_intervals WHERE run_id = $1 ORDER BY seq`,
      [runId],
    );
    return rows.map((row) => ({ seq: row.seq, atMs: row.at_ms, frame: row.frame }));
  }

  async count(runId: string): Promise<number> {
    const rows = await this.database.query<{ count: number }>('SELECT count(*)::integer AS count FROM run_intervals WHERE run_id = $1', [runId]);
    return rows[0]?.count ?? 0;
  }
}

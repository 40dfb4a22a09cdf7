import type { Queryable } from './database';

/** A stage's histogram as HdrHistogram compressed base64. */
export interface StoredHistogram {
  readonly name: string;
  readonly totalCount: number;
  readonly encoded: string;
}

/** The `run_histograms` table: full histograms of a finished run, one per stage. */
export class HistogramRepository {
  constructor(private readonly database: Queryable) {}

  /** Saves (or replaces) the histograms of a run. */
  async save(runId: string, histograms: readonly StoredHistogram[]): Promise<void> {
    if (histograms.length === 0) return;
    await this.database.query(
      `INSERT INTO run_histograms (run_id, name, total_count, encoded)
       SELECT $1, name, total_count, encoded FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t(name, total_count, encoded)
       ON CONFLICT (run_id, name) DO UPDATE SET total_count = excluded.total_count, encoded = excluded.encoded`,
      [runId, histograms.map((histogram) => histogram.name), histograms.map((histogram) => histogram.totalCount), histograms.map((histogram) => histogram.encoded)],
    );
  }

  async list(runId: string): Promise<StoredHistogram[]> {
    const rows = await this.database.query<{ name: string; total_count: number; encoded: string }>(
      'SELECT name, total_count::float8 AS total_count, encoded FROM run_histograms WHERE run_id = $1 ORDER BY name',
      [runId],
    );
    return rows.map((row) => ({ name: row.name, totalCount: row.total_count, encoded: row.encoded }));
  }
}

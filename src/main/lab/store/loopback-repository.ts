import type { LoopbackEntry } from '../../../shared/report';
import type { Queryable } from './database';
import { epochMs } from './run-repository';

/** The `loopback_runs` table: hardware loop-back measurements, tied to a run when made during one. */
export class LoopbackRepository {
  constructor(private readonly database: Queryable) {}

  async save(entry: LoopbackEntry & { runId: string | null; rig: string }): Promise<void> {
    await this.database.query(
      `INSERT INTO loopback_runs (id, run_id, rig, started_at, summary) VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), $5::jsonb)
       ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, run_id = excluded.run_id`,
      [entry.id, entry.runId, entry.rig, entry.startedAtMs, JSON.stringify(entry.summary)],
    );
  }

  async listForRun(runId: string): Promise<LoopbackEntry[]> {
    const rows = await this.database.query<{ id: string; started_at_ms: number; summary: Record<string, unknown> }>(
      `SELECT id, ${epochMs('started_at')} AS started_at_ms, summary FROM loopback_runs WHERE run_id = $1 ORDER BY started_at`,
      [runId],
    );
    return rows.map((row) => ({ id: row.id, startedAtMs: row.started_at_ms, summary: row.summary }));
  }
}

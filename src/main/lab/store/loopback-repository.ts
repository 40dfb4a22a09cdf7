import type { LoopbackEntry, LoopbackListEntry } from '../../../shared/report';
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

  /** Every saved loop-back measurement, newest first. */
  async list(limit = 200): Promise<LoopbackListEntry[]> {
    const rows = await this.database.query<{ id: string; run_id: string | null; rig: string; started_at_ms: number; summary: Record<string, unknown> }>(
      `SELECT id, run_id, rig, ${epochMs('started_at')} AS started_at_ms, summary FROM loopback_runs ORDER BY started_at DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ id: row.id, runId: row.run_id, rig: row.rig, startedAtMs: row.started_at_ms, summary: row.summary }));
  }

  /** Attaches a measurement to a load run (null: detaches it); false when no such measurement is saved. */
  async attach(id: string, runId: string | null): Promise<boolean> {
    const rows = await this.database.query(`UPDATE loopback_runs SET run_id = $2 WHERE id = $1 RETURNING id`, [id, runId]);
    return rows.length > 0;
  }

  async listForRun(runId: string): Promise<LoopbackEntry[]> {
    const rows = await this.database.query<{ id: string; started_at_ms: number; summary: Record<string, unknown> }>(
      `SELECT id, ${epochMs('started_at')} AS started_at_ms, summary FROM loopback_runs WHERE run_id = $1 ORDER BY started_at`,
      [runId],
    );
    return rows.map((row) => ({ id: row.id, startedAtMs: row.started_at_ms, summary: row.summary }));
  }
}

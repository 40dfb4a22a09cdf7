import type { AlertEntry } from '../../../shared/report';
import type { Queryable } from './database';
import { epochMs } from './run-repository';

/** The `alerts` table: alerts raised during a run (or outside one, run id null). */
export class AlertRepository {
  constructor(private readonly database: Queryable) {}

  async add(runId: string | null, alert: AlertEntry, detail?: Record<string, unknown>): Promise<void> {
    await this.database.query(
      `INSERT INTO alerts (run_id, at, severity, metric, message, detail) VALUES ($1, to_timestamp($2::float8 / 1000), $3, $4, $5, $6::jsonb)`,
      [runId, alert.atMs, alert.severity, alert.metric, alert.message, detail ? JSON.stringify(detail) : null],
    );
  }

  async list(runId: string): Promise<AlertEntry[]> {
    const rows = await this.database.query<{ at_ms: number; severity: AlertEntry['severity']; metric: string | null; message: string }>(
      `SELECT ${epochMs('at')} AS at_ms, severity, metric, message FROM alerts WHERE run_id = $1 ORDER BY at, id`,
      [runId],
    );
    return rows.map((row) => ({ atMs: row.at_ms, severity: row.severity, metric: row.metric, message: row.message }));
  }
}

import type { AlertEvent } from '../../../shared/alerts';
import { formatAlertValue } from '../../../shared/format-alert-value';
import type { AlertEntry } from '../../../shared/report';
import type { Queryable } from './database';
import { epochMs } from './run-repository';

/** The `alerts` table: alerts raised during a run (or outside one, run id null). */
export class AlertRepository {
  constructor(private readonly database: Queryable) {}

  /** Adds a one-off alert. */
  async add(runId: string | null, alert: AlertEntry, detail?: Record<string, unknown>): Promise<void> {
    await this.database.query(
      `INSERT INTO alerts (run_id, at, severity, metric, message, detail) VALUES ($1, to_timestamp($2::float8 / 1000), $3, $4, $5, $6::jsonb)`,
      [runId, alert.atMs, alert.severity, alert.metric, alert.message, detail ? JSON.stringify(detail) : null],
    );
  }

  /**
   * Saves an alert-rule event: the firing event inserts the row, the resolved event of the same
   * `alertId` updates it (the store handler of the alert dispatcher binds here).
   */
  async saveEvent(runId: string | null, event: AlertEvent): Promise<void> {
    // In the metric's unit, as the console and the terminal write it ("(was 44.5 ms)", not "(was 44.466175)").
    const comparison = `${event.metric} ${event.comparison} ${formatAlertValue(event.metric, event.threshold, true)}`;
    const message = `${event.ruleName}: ${comparison}${event.value === undefined ? '' : ` (was ${formatAlertValue(event.metric, event.value)})`}`;
    await this.database.query(
      `INSERT INTO alerts (alert_id, run_id, at, resolved_at, severity, metric, message, detail)
       VALUES ($1, $2, to_timestamp($3::float8 / 1000), to_timestamp($4::float8 / 1000), $5, $6, $7, $8::jsonb)
       ON CONFLICT (alert_id) DO UPDATE SET resolved_at = excluded.resolved_at, detail = excluded.detail,
         run_id = COALESCE(alerts.run_id, excluded.run_id)`,
      [event.alertId, runId, event.firedAtMs, event.resolvedAtMs ?? null, event.severity, event.metric, message, JSON.stringify(event)],
    );
  }

  /** Alerts of a run in the order they were raised. */
  async list(runId: string): Promise<AlertEntry[]> {
    const rows = await this.database.query<{ at_ms: number; severity: AlertEntry['severity']; metric: string | null; message: string; resolved_at_ms: number | null }>(
      `SELECT ${epochMs('at')} AS at_ms, severity, metric, message, ${epochMs('resolved_at')} AS resolved_at_ms FROM alerts WHERE run_id = $1 ORDER BY at, id`,
      [runId],
    );
    return rows.map((row) => ({
      atMs: row.at_ms,
      severity: row.severity,
      metric: row.metric,
      message: row.message,
      ...(row.resolved_at_ms === null ? {} : { resolvedAtMs: row.resolved_at_ms }),
    }));
  }
}

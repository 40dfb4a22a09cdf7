import type { Queryable } from './database';

/** One outcome as stored in `audit_messages`, flattened so COPY and unnest can write it. */
export interface AuditRow {
  /** Who wrote it (an engine instance); with `seq` it identifies the row, so replays never double it. */
  readonly source: string;
  readonly seq: number;
  readonly atMs: number;
  readonly user: string;
  readonly text: string;
  readonly status: 'accepted' | 'rejected' | 'failed';
  /** Rejection code; null when accepted. */
  readonly code: string | null;
  readonly detail: string | null;
  /** JSON text of the applied changes (variable, value, version, writer); null when none. */
  readonly changes: string | null;
  readonly validateNs: number | null;
  readonly limitNs: number | null;
  readonly storeNs: number | null;
  readonly encodeNs: number | null;
  readonly sendNs: number | null;
  readonly e2eNs: number | null;
}

/** The column order shared by the unnest insert and the COPY writer. */
export const AUDIT_COLUMNS = [
  'source', 'seq', 'at', 'user_name', 'text', 'status', 'code', 'detail', 'changes',
  'validate_ns', 'limit_ns', 'store_ns', 'encode_ns', 'send_ns', 'e2e_ns',
] as const;

const ns = (value: number | null): string | null => (value === null ? null : String(Math.round(value)));

/** The `audit_messages` table. */
export class AuditRepository {
  constructor(private readonly database: Queryable) {}

  /**
   * Writes a batch in one multi-row statement (unnest of column arrays). Rows already present
   * (same source and seq, e.g. a batch whose commit was not acknowledged) are skipped.
   */
  async insertBatch(rows: readonly AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.database.query(
      `INSERT INTO audit_messages (${AUDIT_COLUMNS.join(', ')})
       SELECT source, seq, to_timestamp(at_ms / 1000), user_name, text, status, code, detail, changes::jsonb,
              validate_ns, limit_ns, store_ns, encode_ns, send_ns, e2e_ns
       FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[])
         AS t(source, seq, at_ms, user_name, text, status, code, detail, changes, validate_ns, limit_ns, store_ns, encode_ns, send_ns, e2e_ns)
       ON CONFLICT (source, seq) DO NOTHING`,
      [
        rows.map((row) => row.source),
        rows.map((row) => String(row.seq)),
        rows.map((row) => row.atMs),
        rows.map((row) => row.user),
        rows.map((row) => row.text),
        rows.map((row) => row.status),
        rows.map((row) => row.code),
        rows.map((row) => row.detail),
        rows.map((row) => row.changes),
        rows.map((row) => ns(row.validateNs)),
        rows.map((row) => ns(row.limitNs)),
        rows.map((row) => ns(row.storeNs)),
        rows.map((row) => ns(row.encodeNs)),
        rows.map((row) => ns(row.sendNs)),
        rows.map((row) => ns(row.e2eNs)),
      ],
    );
  }

  /** Rows in the table, optionally of one source. */
  async count(source?: string): Promise<number> {
    const rows = source
      ? await this.database.query<{ count: number }>('SELECT count(*)::integer AS count FROM audit_messages WHERE source = $1', [source])
      : await this.database.query<{ count: number }>('SELECT count(*)::integer AS count FROM audit_messages');
    return rows[0]?.count ?? 0;
  }

  /** Removes rows older than the cutoff; returns how many went. */
  async deleteOlderThan(cutoffMs: number): Promise<number> {
    const rows = await this.database.query<{ count: number }>(
      `WITH gone AS (DELETE FROM audit_messages WHERE at < to_timestamp($1::float8 / 1000) RETURNING 1) SELECT count(*)::integer AS count FROM gone`,
      [cutoffMs],
    );
    return rows[0]?.count ?? 0;
  }
}

import { once } from 'node:events';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AUDIT_COLUMNS, AuditRepository, type AuditRow } from '../store/audit-repository';
import { quoteIdentifier } from '../store/pg-database';
import type { AuditWriter } from './audit-writer';

export interface PgCopyAuditWriterOptions {
  readonly connectionString: string;
  readonly schema?: string;
  /** The server cancels a batch that takes longer (a locked or stalled table); the batch is spooled. */
  readonly statementTimeoutMs?: number;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** Escapes one value for COPY's text format: backslash, tab, newline and carriage return. */
function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(Math.round(value));
  // Most chat text needs no escaping: test once before the slower replace.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (character) => (character === '\\' ? '\\\\' : character === '\t' ? '\\t' : character === '\n' ? '\\n' : '\\r'));
}

/** One row as a line of COPY text, in AUDIT_COLUMNS order. */
export function copyLine(row: AuditRow): string {
  return (
    [
      copyField(row.source),
      String(row.seq),
      new Date(row.atMs).toISOString(),
      copyField(row.user),
      copyField(row.text),
      row.status,
      copyField(row.code),
      copyField(row.detail),
      copyField(row.changes),
      copyField(row.validateNs),
      copyField(row.limitNs),
      copyField(row.storeNs),
      copyField(row.encodeNs),
      copyField(row.sendNs),
      copyField(row.e2eNs),
    ].join('\t') + '\n'
  );
}

/**
 * PostgreSQL's fastest way in: `COPY audit_messages FROM STDIN` over a dedicated connection
 * (pg-copy-streams). A replayed batch goes through a temporary table and
 * `INSERT … ON CONFLICT DO NOTHING`, so a batch whose commit was lost is never doubled.
 */
export class PgCopyAuditWriter implements AuditWriter {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;

  constructor(private readonly options: PgCopyAuditWriterOptions) {}

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const settings = [`-c statement_timeout=${this.options.statementTimeoutMs ?? 2000}`];
      if (this.options.schema) settings.push(`-c search_path=${quoteIdentifier(this.options.schema)},public`);
      const client = new pg.Client({ connectionString: this.options.connectionString, options: settings.join(' '), connectionTimeoutMillis: 2000 });
      // A dropped connection is forgotten here and opened again by the next batch.
      client.on('error', () => this.forget(client));
      client.on('end', () => this.forget(client));
      try {
        await client.connect();
      } catch (error) {
        client.end().catch(() => undefined);
        throw error;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private forget(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
  }

  async write(rows: readonly AuditRow[], replay: boolean): Promise<void> {
    if (rows.length === 0) return;
    const client = await this.connect();
    try {
      if (!replay) {
        await this.copy(client, 'audit_messages', rows);
        return;
      }
      await client.query('BEGIN');
      await client.query('CREATE TEMPORARY TABLE IF NOT EXISTS audit_replay (LIKE audit_messages) ON COMMIT DELETE ROWS');
      await this.copy(client, 'audit_replay', rows);
      await client.query(`INSERT INTO audit_messages SELECT * FROM audit_replay ON CONFLICT (source, seq) DO NOTHING`);
      await client.query('COMMIT');
    } catch (error) {
      // The connection's state is unknown after a failed COPY or timeout: start afresh.
      this.forget(client);
      client.end().catch(() => undefined);
      throw error;
    }
  }

  private async copy(client: pg.Client, table: string, rows: readonly AuditRow[]): Promise<void> {
    const stream = client.query(copyFrom(`COPY ${table} (${AUDIT_COLUMNS.join(', ')}) FROM STDIN`));
    const finished = new Promise<void>((resolve, reject) => {
      stream.once('finish', resolve);
      // `on`, not `once`: a dying connection can raise more than one error on the stream, and an
      // unheard one would end the process.
      stream.on('error', reject);
    });
    // One write of the whole batch: a few hundred kB, far cheaper than a write per row.
    let text = '';
    for (const row of rows) text += copyLine(row);
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), finished]);
    stream.end();
    await finished;
  }

  reset(): void {
    const client = this.client;
    if (!client) return;
    this.forget(client);
    // Closing the socket makes the server roll the stuck statement back.
    client.connection.stream.destroy();
    client.end().catch(() => undefined);
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    const client = await this.connect();
    return new AuditRepository({
      query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, params as unknown[])).rows as Row[],
      execute: async (sql: string) => {
        await client.query(sql);
      },
    }).deleteOlderThan(cutoffMs);
  }

  async close(): Promise<void> {
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

import pg from 'pg';
import type { Database, Queryable } from './database';
import { plainDatabaseError } from './database-errors';

export interface PgDatabaseOptions {
  readonly connectionString: string;
  /** Schema put first on the search_path of every connection (tests use a private one). */
  readonly schema?: string;
  readonly maxConnections?: number;
  /** A server that does not accept a connection within this is reported unreachable (a frozen or filtered host). */
  readonly connectionTimeoutMs?: number;
}

/** PostgreSQL through a `pg` pool. */
export class PgDatabase implements Database {
  readonly kind = 'pg' as const;
  readonly pool: pg.Pool;
  private readonly connectionString: string;

  constructor(options: PgDatabaseOptions) {
    this.connectionString = options.connectionString;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
      ...(options.schema ? { options: `-c search_path=${quoteIdentifier(options.schema)},public` } : {}),
    });
    // An idle client losing its server emits here; without a listener the process would die.
    this.pool.on('error', () => undefined);
  }

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const result = await this.pool.query(sql, params as unknown[]);
      return result.rows as Row[];
    } catch (error) {
      throw plainDatabaseError(error, this.connectionString);
    }
  }

  async execute(sql: string): Promise<void> {
    try {
      await this.pool.query(sql);
    } catch (error) {
      throw plainDatabaseError(error, this.connectionString);
    }
  }

  async transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw plainDatabaseError(error, this.connectionString);
    }
    // pg-pool listens for 'error' only on idle clients: while checked out, a server that dies
    // (crash, restart) would raise an unhandled 'error' and end the process. The failed query
    // rejects on its own; this listener only keeps the event from being fatal.
    let lost: Error | undefined;
    const onError = (error: Error): void => {
      lost = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work({
        query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, params as unknown[])).rows as Row[],
        execute: async (sql: string) => {
          await client.query(sql);
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (!lost) await client.query('ROLLBACK').catch(() => undefined);
      throw plainDatabaseError(error, this.connectionString);
    } finally {
      client.off('error', onError);
      // A client whose connection died is destroyed, not handed to the next caller.
      client.release(lost);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Quotes an SQL identifier (schema name) so any text is safe inside SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

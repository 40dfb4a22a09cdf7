import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './database';

/**
 * Embedded PostgreSQL (PGlite) in a data folder. Opening it takes seconds and hundreds of MB,
 * so nothing happens until the first query.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private opening: Promise<PGlite> | undefined;

  /** `dataDir` undefined: an in-memory database (tests, throw-away runs). */
  constructor(readonly dataDir: string | undefined) {}

  private open(): Promise<PGlite> {
    this.opening ??= (async () => {
      if (this.dataDir) mkdirSync(this.dataDir, { recursive: true });
      const { PGlite } = await import('@electric-sql/pglite');
      return PGlite.create(this.dataDir);
    })();
    return this.opening;
  }

  get isOpen(): boolean {
    return this.opening !== undefined;
  }

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const database = await this.open();
    return (await database.query<Row>(sql, params as unknown[])).rows;
  }

  async execute(sql: string): Promise<void> {
    await (await this.open()).exec(sql);
  }

  async transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T> {
    const database = await this.open();
    return database.transaction((transaction) =>
      work({
        query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await transaction.query<Row>(sql, params as unknown[])).rows,
        execute: async (sql: string) => {
          await transaction.exec(sql);
        },
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.opening) return;
    const database = await this.opening;
    this.opening = undefined;
    await database.close();
  }
}

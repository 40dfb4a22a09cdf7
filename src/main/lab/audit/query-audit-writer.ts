import type { AuditRow } from '../store/audit-repository';
import { AuditRepository } from '../store/audit-repository';
import type { Queryable } from '../store/database';
import type { AuditWriter } from './audit-writer';

/**
 * Batches as one `INSERT … SELECT unnest(…)` through the store's query interface: the path for
 * embedded PGlite, where COPY from a Node stream is not available. Always skips rows already
 * present, so a replay is safe.
 */
export class QueryAuditWriter implements AuditWriter {
  private readonly repository: AuditRepository;

  constructor(database: Queryable) {
    this.repository = new AuditRepository(database);
  }

  write(rows: readonly AuditRow[]): Promise<void> {
    return this.repository.insertBatch(rows);
  }

  deleteOlderThan(cutoffMs: number): Promise<number> {
    return this.repository.deleteOlderThan(cutoffMs);
  }

  async close(): Promise<void> {}
}

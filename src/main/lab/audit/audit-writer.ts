import type { AuditRow } from '../store/audit-repository';

/** Where the audit log's batches go: PostgreSQL by COPY, or any store by a multi-row insert. */
export interface AuditWriter {
  /**
   * Writes one batch. `replay`: the batch may already be (partly) in the table, because an
   * earlier attempt's commit was not acknowledged; rows already there must be skipped.
   */
  write(rows: readonly AuditRow[], replay: boolean): Promise<void>;
  /** Removes rows older than the cutoff (retention); returns how many. */
  deleteOlderThan(cutoffMs: number): Promise<number>;
  /** A write timed out: drop whatever it is stuck on, so the next write starts clean. */
  reset?(): void;
  close(): Promise<void>;
}

import type { Store } from '../store/store';
import { AuditLog, type AuditLogOptions } from './audit-log';
import { PgCopyAuditWriter } from './pg-copy-audit-writer';
import { QueryAuditWriter } from './query-audit-writer';
import { spoolKeyOf } from '../store/database-key';
import { claimSpool } from './spool-claim';
import { AuditThread, type RunAuditLog } from './audit-thread';

export interface CreateAuditLogOptions extends Omit<AuditLogOptions, 'writer' | 'spoolPath'> {
  /** postgres://… : batches go by COPY over a connection of their own. */
  readonly databaseUrl?: string | undefined;
  readonly schema?: string | undefined;
  /** Without a database URL: the store (embedded PGlite) takes the batches as multi-row inserts. */
  readonly store?: Store;
  /**
   * Folder of the spools: one sub-folder per database (a hash of its URL without the password),
   * one spool per process in it, held by a lock file with the pid.
   */
  readonly spoolDir: string;
  /**
   * With a postgres:// URL the log runs on a thread of its own at this nice value (the host's);
   * undefined keeps it on the calling thread.
   */
  readonly threadNice?: number;
}

/**
 * The audit log for this process: COPY into PostgreSQL when a URL is given (on a thread of its
 * own when `threadNice` is set), else inserts into the store (the embedded database answers on
 * this thread or in its own process, so its log stays here).
 */
export function createAuditLog(options: CreateAuditLogOptions): RunAuditLog {
  const { databaseUrl, schema, store, spoolDir, threadNice, ...rest } = options;
  if (databaseUrl && threadNice !== undefined) {
    const claim = claimSpool(spoolDir, spoolKeyOf(databaseUrl, schema));
    const { onWarning, onClosed, ...logOptions } = rest;
    return new AuditThread({
      databaseUrl,
      ...(schema ? { schema } : {}),
      spoolPath: claim.spoolPath,
      nice: threadNice,
      options: logOptions,
      ...(onWarning ? { onWarning } : {}),
      onClosed: () => {
        claim.release();
        onClosed?.();
      },
    });
  }
  let writer;
  if (databaseUrl) writer = new PgCopyAuditWriter({ connectionString: databaseUrl, ...(schema ? { schema } : {}) });
  else if (store) writer = new QueryAuditWriter(store.database);
  else throw new Error('The audit log needs a database: a postgres:// URL or an open store; got neither.');
  const claim = claimSpool(spoolDir, spoolKeyOf(databaseUrl, schema));
  const onClosed = rest.onClosed;
  return new AuditLog({
    ...rest,
    writer,
    spoolPath: claim.spoolPath,
    onClosed: () => {
      claim.release();
      onClosed?.();
    },
  });
}

import type { RigConfig } from '../../../shared/rig';
import type { AuditBatch } from '../common/audit-batch';
import type { OutcomeRecord } from '../common/outcome-record';
import type { AuditLogCounters, AuditLogOptions } from './audit-log';

/** What the audit thread starts with. */
export interface AuditThreadData {
  readonly databaseUrl: string;
  readonly schema?: string;
  readonly spoolPath: string;
  /** The thread's nice value (Linux): the host's, so the engine's thread comes first. */
  readonly nice: number;
  readonly options: Pick<AuditLogOptions, 'source' | 'capacity' | 'batchSize' | 'flushIntervalMs' | 'writeTimeoutMs' | 'retryIntervalMs' | 'setAsidePath'>;
}

/** Host → audit thread. */
export type AuditThreadRequest =
  | { readonly type: 'records'; readonly records: readonly OutcomeRecord[] }
  /** A run's batches follow under this number, decoded with this rig and clock offset. */
  | { readonly type: 'run'; readonly run: number; readonly rig: RigConfig; readonly wallClockOffsetMs: number }
  | { readonly type: 'batch'; readonly run: number; readonly batch: AuditBatch }
  | { readonly type: 'drain'; readonly id: number; readonly timeoutMs: number }
  | { readonly type: 'close'; readonly timeoutMs: number };

/** Audit thread → host. */
export type AuditThreadReply =
  | { readonly type: 'ready'; readonly source: string }
  | { readonly type: 'counters'; readonly counters: AuditLogCounters }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'drained'; readonly id: number; readonly drained: boolean; readonly counters: AuditLogCounters }
  | { readonly type: 'closed'; readonly counters: AuditLogCounters };

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, open, stat, truncate, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { AuditCounters } from '../../../shared/report';
import type { AuditRow } from '../store/audit-repository';
import type { OutcomeRecord, OutcomeSink } from '../common/outcome-record';
import type { AuditWriter } from './audit-writer';

export interface AuditLogOptions {
  readonly writer: AuditWriter;
  /** The local append-only file (JSON lines) batches go to while the database is slow or down. */
  readonly spoolPath: string;
  /** Names this process's rows; with a sequence number it makes each row unique. */
  readonly source?: string;
  /** Records held in memory at most; beyond it a record is counted as dropped (should stay 0). */
  readonly capacity?: number;
  readonly batchSize?: number;
  /** How often the queue is flushed when it has not filled a batch. */
  readonly flushIntervalMs?: number;
  /** A write slower than this is treated as a stall: the batch goes to the spool. */
  readonly writeTimeoutMs?: number;
  /** Wait between attempts to reach the database again while it is down. */
  readonly retryIntervalMs?: number;
  /** Where spool lines that do not parse (torn by a crash mid-write) are kept; default beside the spool. */
  readonly setAsidePath?: string;
  /** Told in plain words when something needs a person's eye (a torn spool line set aside). */
  readonly onWarning?: (message: string) => void;
  /** Called once the log has closed (releases the spool's lock). */
  readonly onClosed?: () => void;
}

/** The audit log's counters, with what is waiting now. */
export interface AuditLogCounters extends AuditCounters {
  /** Records in memory, not yet written or spooled. */
  readonly pending: number;
  /** Spooled bytes not yet replayed (0 when the spool is empty). */
  readonly spoolBacklogBytes: number;
  readonly lastError: string | null;
  /** Spool lines that could not be read back (torn by a crash mid-write), kept in `setAsidePath`. */
  readonly setAside: number;
  readonly setAsidePath: string;
}

/** PostgreSQL text cannot hold U+0000 (chat spam can): it is kept visibly as the escape `\u0000`. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}

/** JSON for jsonb, which refuses the escape \u0000 too: strings inside are made storable first. */
function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  // The replacer pass is slow; only text that carries a NUL needs it.
  return json.includes('\\u0000') ? JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'string' ? storable(inner) : inner)) : json;
}

/** A row read back from a spool written by an older version, made storable the same way. */
function storableRow(row: AuditRow): AuditRow {
  return { ...row, user: storable(row.user), text: storable(row.text), detail: row.detail === null ? null : storable(row.detail), changes: row.changes === null ? null : storableJson(JSON.parse(row.changes)) };
}

/** One outcome flattened to its audit row. */
export function auditRowOf(record: OutcomeRecord, source: string, seq: number): AuditRow {
  const { outcome } = record;
  const timings = outcome.timings;
  return {
    source,
    seq,
    atMs: record.atMs,
    user: storable(record.user),
    text: storable(record.text),
    status: outcome.status,
    code: outcome.status === 'rejected' ? outcome.rejection.code : outcome.status === 'failed' ? 'failed' : null,
    detail: outcome.status === 'rejected' ? storable(outcome.rejection.detail) : outcome.status === 'failed' ? storable(outcome.error) : null,
    changes: outcome.status === 'accepted' ? storableJson(outcome.changes) : null,
    validateNs: timings.validate ?? null,
    limitNs: timings.limit ?? null,
    storeNs: timings.store ?? null,
    encodeNs: timings.encode ?? null,
    sendNs: timings.send ?? null,
    e2eNs: timings.e2e ?? null,
  };
}

/** One spool line as a row, or undefined when it is not one (torn, or garbage). */
function parseSpoolLine(line: string): AuditRow | undefined {
  try {
    const value = JSON.parse(line) as Partial<AuditRow> | null;
    if (typeof value !== 'object' || value === null || typeof value.source !== 'string' || typeof value.seq !== 'number') return undefined;
    return storableRow(value as AuditRow);
  } catch {
    return undefined;
  }
}

// Small chunks: parsing a chunk blocks the event loop, so keep each one to a few milliseconds.
const SPOOL_READ_BYTES = 256 * 1024;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The pipeline's audit log: `record` only queues (the hot path never waits). A background pump
 * writes batches to the database; when a write fails or stalls, the batch — and every later
 * one, to keep the order — is appended to a local spool file (fsync'd per batch) and replayed
 * in order once the database answers again. Rows carry (source, seq), so a replay never
 * doubles a row whose first commit went unacknowledged.
 */
export class AuditLog implements OutcomeSink {
  readonly source: string;
  private queue: OutcomeRecord[] = [];
  /** Rows that could go neither to the database nor to the spool; they go first next time. */
  private held: AuditRow[] = [];
  private sequence = 0;
  private queuedCount = 0;
  private writtenCount = 0;
  private spooledCount = 0;
  private replayedCount = 0;
  private droppedCount = 0;
  private setAsideCount = 0;
  /** Spool offset up to which unreadable lines have been set aside already. */
  private setAsideThroughBytes = 0;
  private readonly setAsidePath: string;
  private lastError: string | null = null;
  private spool: FileHandle | undefined;
  private spoolBytes = 0;
  private replayedBytes = 0;
  private retryAtMs = 0;
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retention: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly ready: Promise<void>;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly writeTimeoutMs: number;
  private readonly retryIntervalMs: number;

  constructor(private readonly options: AuditLogOptions) {
    this.source = options.source ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.capacity = options.capacity ?? 500_000;
    this.batchSize = options.batchSize ?? 2_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 1_000;
    this.retryIntervalMs = options.retryIntervalMs ?? 500;
    this.setAsidePath = options.setAsidePath ?? `${options.spoolPath.replace(/\.jsonl$/, '')}.set-aside.jsonl`;
    this.ready = this.openSpool();
    this.timer = setInterval(() => this.kick(), options.flushIntervalMs ?? 50);
    this.timer.unref();
  }

  /** Queues one outcome and returns at once. */
  record(entry: OutcomeRecord): void {
    if (this.queue.length >= this.capacity || this.closed) {
      this.droppedCount++;
      return;
    }
    this.queue.push(entry);
    this.queuedCount++;
    if (this.queue.length === this.batchSize) setImmediate(() => this.kick());
  }

  /** Queued, written, spooled, replayed and dropped rows since this log opened. */
  counters(): AuditLogCounters {
    return {
      queued: this.queuedCount,
      written: this.writtenCount,
      spooled: this.spooledCount,
      replayed: this.replayedCount,
      dropped: this.droppedCount,
      pending: this.queue.length + this.held.length,
      spoolBacklogBytes: this.spoolBytes - this.replayedBytes,
      lastError: this.lastError,
      setAside: this.setAsideCount,
      setAsidePath: this.setAsidePath,
    };
  }

  /** Waits until everything queued and spooled is in the database, or the timeout passes; true when drained. */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.pump();
      if (this.queue.length + this.held.length === 0 && this.spoolBytes === this.replayedBytes) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, this.retryIntervalMs)));
      this.retryAtMs = 0;
    }
  }

  /** Retention: removes audit rows older than `olderThanMs`; returns how many went. */
  cleanup(olderThanMs: number): Promise<number> {
    return this.options.writer.deleteOlderThan(Date.now() - olderThanMs);
  }

  /** Runs `cleanup(maxAgeMs)` every `everyMs` until closed. */
  startRetention(maxAgeMs: number, everyMs = 3_600_000): void {
    if (this.retention) clearInterval(this.retention);
    this.retention = setInterval(() => {
      this.cleanup(maxAgeMs).catch((error: unknown) => this.noteError(error));
    }, everyMs);
    this.retention.unref();
  }

  /** Writes (or spools) what is queued and stops. Spooled rows stay in the file for the next start. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.retention) clearInterval(this.retention);
    await this.drain(timeoutMs);
    this.closed = true;
    await this.pumping;
    while (this.queue.length + this.held.length > 0) await this.appendToSpool(this.takeBatch(this.batchSize));
    await this.spool?.close();
    this.spool = undefined;
    await this.options.writer.close();
    this.options.onClosed?.();
  }

  private kick(): void {
    void this.pump();
  }

  /** One pump at a time, so batches reach the table (or the spool) in record order. */
  private pump(): Promise<void> {
    this.pumping ??= this.pumpOnce().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    await this.ready;
    try {
      for (;;) {
        if (this.spoolBytes > this.replayedBytes) {
          if (Date.now() >= this.retryAtMs) await this.replay();
          // Until the spool is empty, new batches queue up behind it in the file.
          if (this.spoolBytes > this.replayedBytes) {
            if (this.queue.length + this.held.length === 0) return;
            await this.appendToSpool(this.takeBatch(this.batchSize));
            continue;
          }
        }
        if (this.queue.length + this.held.length === 0) return;
        // Converting a batch is synchronous work: let the hot path run between batches.
        await new Promise((resolve) => setImmediate(resolve));
        const batch = this.takeBatch(this.batchSize);
        try {
          await withTimeout(this.options.writer.write(batch, false), this.writeTimeoutMs, 'an audit batch write');
          this.writtenCount += batch.length;
        } catch (error) {
          this.noteError(error);
          this.options.writer.reset?.();
          this.retryAtMs = Date.now() + this.retryIntervalMs;
          await this.appendToSpool(batch);
        }
      }
    } catch (error) {
      // The spool itself failed (disk full?): keep the message; rows stay queued in memory.
      this.noteError(error);
    }
  }

  private takeBatch(size: number): AuditRow[] {
    if (this.held.length > 0) return this.held.splice(0, size);
    const taken = this.queue.length <= size ? this.queue : this.queue.slice(0, size);
    this.queue = taken === this.queue ? [] : this.queue.slice(size);
    return taken.map((record) => auditRowOf(record, this.source, ++this.sequence));
  }

  private async openSpool(): Promise<void> {
    mkdirSync(dirname(this.options.spoolPath), { recursive: true });
    this.spool = await open(this.options.spoolPath, 'a+');
    // Rows a previous process could not write are replayed first.
    this.spoolBytes = (await stat(this.options.spoolPath)).size;
    await this.setAsideTornTail();
  }

  /**
   * A process that died mid-append leaves a last line without its newline. New rows appended
   * after it would be glued onto it, and the replay never gets past it: keep those bytes in the
   * set-aside file and cut the spool back to its last whole line.
   */
  private async setAsideTornTail(): Promise<void> {
    if (!this.spool || this.spoolBytes === 0) return;
    const tailLength = Math.min(this.spoolBytes, SPOOL_READ_BYTES);
    let end = this.spoolBytes;
    for (let start = this.spoolBytes - tailLength; ; start = Math.max(0, start - SPOOL_READ_BYTES)) {
      const buffer = Buffer.alloc(end - start);
      await this.spool.read(buffer, 0, buffer.length, start);
      const newline = buffer.lastIndexOf(0x0a);
      if (newline >= 0) {
        end = start + newline + 1;
        break;
      }
      if (start === 0) {
        end = 0;
        break;
      }
    }
    if (end === this.spoolBytes) return;
    const torn = Buffer.alloc(this.spoolBytes - end);
    await this.spool.read(torn, 0, torn.length, end);
    await this.setAside([torn.toString('utf8')], 'its last line was cut short (the process writing it stopped mid-line)');
    await truncate(this.options.spoolPath, end);
    this.spoolBytes = end;
  }

  /** Keeps unreadable spool lines in a file of their own, counts them and says so. */
  private async setAside(lines: readonly string[], why: string): Promise<void> {
    await appendFile(this.setAsidePath, lines.map((line) => line + '\n').join(''));
    this.setAsideCount += lines.length;
    const message = `audit spool: ${lines.length} line${lines.length === 1 ? '' : 's'} could not be read back (${why}); kept in ${this.setAsidePath}, the rest replays`;
    this.lastError = message;
    this.options.onWarning?.(message);
  }

  private async appendToSpool(rows: readonly AuditRow[]): Promise<void> {
    if (!this.spool || rows.length === 0) return;
    let text = '';
    for (const row of rows) text += JSON.stringify(row) + '\n';
    const bytes = Buffer.from(text);
    try {
      await this.spool.write(bytes, 0, bytes.length, this.spoolBytes);
      await this.spool.sync();
    } catch (error) {
      // Hold the rows in memory, ahead of the queue: nothing is lost while memory lasts.
      this.held = rows.concat(this.held);
      throw error;
    }
    this.spoolBytes += bytes.length;
    this.spooledCount += rows.length;
  }

  /** Replays the spool from where it stopped, batch by batch; stops at the first failure. */
  private async replay(): Promise<void> {
    if (!this.spool) return;
    let window = SPOOL_READ_BYTES;
    while (this.replayedBytes < this.spoolBytes) {
      const length = Math.min(window, this.spoolBytes - this.replayedBytes);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await this.spool.read(buffer, 0, length, this.replayedBytes);
      const chunk = buffer.subarray(0, bytesRead);
      const end = chunk.lastIndexOf(0x0a) + 1;
      if (end === 0) {
        // One line longer than the window (a huge chat text): read a larger window.
        if (length < this.spoolBytes - this.replayedBytes) window *= 2;
        else break;
        continue;
      }
      window = SPOOL_READ_BYTES;
      const lines = chunk.subarray(0, end).toString('utf8').split('\n');
      lines.pop();
      await new Promise((resolve) => setImmediate(resolve));
      // Each readable row keeps the file offset just past its line, so progress stays exact.
      const rows: { row: AuditRow; endOffset: number }[] = [];
      const unreadable: string[] = [];
      let offset = this.replayedBytes;
      for (const line of lines) {
        offset += Buffer.byteLength(line) + 1;
        const row = parseSpoolLine(line);
        if (row) rows.push({ row, endOffset: offset });
        // A line already set aside (before a failed batch) is not set aside twice.
        else if (line.length > 0 && offset > this.setAsideThroughBytes) unreadable.push(line);
      }
      if (unreadable.length > 0) {
        await this.setAside(unreadable, 'not a whole audit row');
        this.setAsideThroughBytes = offset;
      }
      for (let start = 0; start < rows.length; start += this.batchSize) {
        const entries = rows.slice(start, start + this.batchSize);
        const batch = entries.map((entry) => entry.row);
        try {
          await withTimeout(this.options.writer.write(batch, true), this.writeTimeoutMs, 'an audit replay');
        } catch (error) {
          this.noteError(error);
          this.options.writer.reset?.();
          this.retryAtMs = Date.now() + this.retryIntervalMs;
          return;
        }
        this.replayedBytes = entries[entries.length - 1]!.endOffset;
        this.replayedCount += batch.length;
      }
      // Every line of the window is done (written, or set aside): move past all of it.
      this.replayedBytes = offset;
    }
    if (this.replayedBytes === this.spoolBytes && this.spoolBytes > 0) {
      // All replayed: start the file afresh so it does not grow without end.
      await truncate(this.options.spoolPath, 0);
      this.spoolBytes = 0;
      this.replayedBytes = 0;
      this.setAsideThroughBytes = 0;
    }
    this.lastError = null;
  }

  private noteError(error: unknown): void {
    this.lastError = error instanceof Error ? error.message : String(error);
  }
}

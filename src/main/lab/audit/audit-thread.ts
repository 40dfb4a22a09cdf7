import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RigConfig } from '../../../shared/rig';
import type { AuditBatch } from '../common/audit-batch';
import type { OutcomeRecord } from '../common/outcome-record';
import type { AuditLogCounters } from './audit-log';
import type { AuditThreadData, AuditThreadReply, AuditThreadRequest } from './audit-thread-protocol';

/** What a run needs of its audit log, wherever it does its work. */
export interface RunAuditLog {
  /** Names this process's rows (with a sequence number each). */
  readonly source: string;
  record(entry: OutcomeRecord): void;
  batches?(rig: RigConfig, wallClockOffsetMs: number): ((batch: AuditBatch) => void) | undefined;
  counters(): AuditLogCounters;
  drain(timeoutMs?: number): Promise<boolean>;
  close(timeoutMs?: number): Promise<void>;
}

export interface AuditThreadOptions extends AuditThreadData {
  readonly onWarning?: (message: string) => void;
  /** Called once the thread has closed (releases the spool's lock). */
  readonly onClosed?: () => void;
}

/**
 * How to start audit-worker: the built file next to the bundle (out/main/audit-worker.js), or,
 * from TypeScript source (vitest, tsx), the .ts module through tsx's loader registered inside
 * the new thread.
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (/\.ts($|\?)/.test(here)) {
    const source = new URL('./audit-worker.ts', here).href;
    const tsxApi = pathToFileURL(createRequire(here).resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
    return { entry: `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`, eval: true };
  }
  // Bundled: this code sits in out/main/ or in a chunk under out/main/chunks/.
  for (const candidate of ['./audit-worker.js', '../audit-worker.js']) {
    const url = new URL(candidate, here);
    if (existsSync(fileURLToPath(url))) return { entry: url, eval: false };
  }
  throw new Error(`the audit log's thread module (audit-worker.js) is missing next to ${fileURLToPath(here)}: rebuild cvlab (npm run build)`);
}

const zeroCounters = (spoolPath: string, setAsidePath: string | undefined): AuditLogCounters => ({
  queued: 0,
  written: 0,
  spooled: 0,
  replayed: 0,
  dropped: 0,
  pending: 0,
  spoolBacklogBytes: 0,
  lastError: null,
  setAside: 0,
  setAsidePath: setAsidePath ?? `${spoolPath.replace(/\.jsonl$/, '')}.set-aside.jsonl`,
});

/**
 * The audit log on a thread of its own (audit-worker.ts), at the host's nice value: the engine's
 * audit batches are handed over whole (their buffers transferred), and the decoding, the rows'
 * encoding, the COPY into PostgreSQL, the spool and its replay all run there. This thread only
 * posts. Same guarantees as AuditLog, which runs inside: spooled when the database is slow or
 * gone, replayed in order, nothing lost while the process lives.
 */
export class AuditThread implements RunAuditLog {
  readonly source: string;
  private readonly worker: Worker;
  private latest: AuditLogCounters;
  /** Records handed to record() (an engine on this thread), posted together once per turn. */
  private outgoing: OutcomeRecord[] = [];
  private runs = 0;
  private drains = 0;
  private onThreadClosed: (() => void) | undefined;
  /** Records that came after close (or after the thread ended). */
  private droppedHere = 0;
  private readonly waiting = new Map<number, (drained: boolean) => void>();
  private closing: Promise<void> | undefined;
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(private readonly options: AuditThreadOptions) {
    const { onWarning: _onWarning, onClosed: _onClosed, ...given } = options;
    // Chosen here, as AuditLog would, so it is known before the thread starts.
    this.source = given.options.source ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const data: AuditThreadData = { ...given, options: { ...given.options, source: this.source } };
    this.latest = zeroCounters(options.spoolPath, options.options.setAsidePath);
    const { entry, eval: isEval } = workerEntry();
    this.worker = new Worker(entry, { eval: isEval, workerData: data, name: 'cvlab-audit' });
    this.exit = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.exited = true;
        for (const settle of this.waiting.values()) settle(false);
        this.waiting.clear();
        resolve();
      }),
    );
    this.worker.on('error', (error) => {
      this.latest = { ...this.latest, lastError: `the audit log's thread failed: ${error.message}` };
      options.onWarning?.(this.latest.lastError as string);
    });
    this.worker.on('message', (message: AuditThreadReply) => {
      switch (message.type) {
        case 'counters':
          this.latest = message.counters;
          return;
        case 'closed':
          this.latest = message.counters;
          this.onThreadClosed?.();
          return;
        case 'drained':
          this.latest = message.counters;
          this.waiting.get(message.id)?.(message.drained);
          this.waiting.delete(message.id);
          return;
        case 'warning':
          options.onWarning?.(message.message);
          return;
        case 'ready':
          return;
      }
    });
  }

  private post(request: AuditThreadRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.exited) this.worker.postMessage(request, transfer);
  }

  record(entry: OutcomeRecord): void {
    // As AuditLog does once closed: counted, not kept.
    if (this.closing !== undefined || this.exited) return void this.droppedHere++;
    if (this.outgoing.length === 0) setImmediate(this.flushRecords);
    this.outgoing.push(entry);
  }

  private readonly flushRecords = (): void => {
    if (this.outgoing.length === 0) return;
    const records = this.outgoing;
    this.outgoing = [];
    this.post({ type: 'records', records });
  };

  batches(rig: RigConfig, wallClockOffsetMs: number): (batch: AuditBatch) => void {
    const run = ++this.runs;
    this.post({ type: 'run', run, rig, wallClockOffsetMs });
    return (batch) => this.post({ type: 'batch', run, batch }, [batch.records.buffer, batch.changes.buffer, batch.text.buffer]);
  }

  /** The latest counters the thread sent (every 100 ms, and with each drain). */
  counters(): AuditLogCounters {
    return this.droppedHere === 0 ? this.latest : { ...this.latest, dropped: this.latest.dropped + this.droppedHere };
  }

  drain(timeoutMs = 30_000): Promise<boolean> {
    this.flushRecords();
    if (this.exited) return Promise.resolve(false);
    const id = ++this.drains;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ type: 'drain', id, timeoutMs });
    });
  }

  close(timeoutMs = 5_000): Promise<void> {
    this.closing ??= (async () => {
      this.flushRecords();
      const closed = new Promise<void>((resolve) => (this.onThreadClosed = resolve));
      this.post({ type: 'close', timeoutMs });
      // The thread ends on its own once its log has closed; should anything keep it alive (or the
      // close hang), it is ended: what it had not written by then is in its spool, fsync'd.
      const limit = setTimeout(() => void this.worker.terminate(), timeoutMs + 10_000);
      await Promise.race([this.exit, closed.then(() => new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref()))]);
      clearTimeout(limit);
      if (!this.exited) await this.worker.terminate();
      await this.exit;
      this.options.onClosed?.();
    })();
    return this.closing;
  }
}

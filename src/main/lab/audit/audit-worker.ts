// The audit log's own thread (started by audit-thread.ts): decodes the engine's audit batches,
// encodes the rows, COPYs them into PostgreSQL and keeps the spool, so none of that work, nor a
// locked table's spooling and replay, runs on the host's thread.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { AuditBatchReader } from '../common/audit-batch';
import { AuditLog } from './audit-log';
import { PgCopyAuditWriter } from './pg-copy-audit-writer';
import type { AuditThreadData, AuditThreadReply, AuditThreadRequest } from './audit-thread-protocol';

const port = parentPort;
if (!port) throw new Error('audit-worker.ts runs as a worker thread (audit-thread.ts starts it)');
const data = workerData as AuditThreadData;

/** Takes the nice value asked for (Linux: per thread; only ever lowered), so the engine's thread comes first. */
function lowerOwnPriority(nice: number): void {
  if (process.platform !== 'linux') return;
  try {
    const thread = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(thread) && thread > 0 && getPriority(thread) < nice) setPriority(thread, nice);
  } catch {
    // A system that refuses setpriority leaves the thread as it is.
  }
}
lowerOwnPriority(data.nice);

const reply = (message: AuditThreadReply): void => port.postMessage(message);
const log = new AuditLog({
  writer: new PgCopyAuditWriter({ connectionString: data.databaseUrl, ...(data.schema ? { schema: data.schema } : {}) }),
  spoolPath: data.spoolPath,
  ...data.options,
  onWarning: (message) => reply({ type: 'warning', message }),
});
reply({ type: 'ready', source: log.source });

// The host reads counters synchronously: it keeps the latest it was sent.
const sendCounters = (): void => reply({ type: 'counters', counters: log.counters() });
const countersTimer = setInterval(sendCounters, 100);
const readers = new Map<number, AuditBatchReader>();
const record = log.record.bind(log);

port.on('message', (request: AuditThreadRequest) => {
  switch (request.type) {
    case 'records':
      for (const entry of request.records) log.record(entry);
      return;
    case 'run':
      // Runs follow one another: the one before may still send its last batch, older ones are done.
      for (const run of readers.keys()) if (run < request.run - 1) readers.delete(run);
      readers.set(request.run, new AuditBatchReader(request.rig, request.wallClockOffsetMs));
      return;
    case 'batch':
      readers.get(request.run)?.read(request.batch, record);
      return;
    case 'drain':
      void log.drain(request.timeoutMs).then((drained) => reply({ type: 'drained', id: request.id, drained, counters: log.counters() }));
      return;
    case 'close':
      clearInterval(countersTimer);
      void log
        .close(request.timeoutMs)
        .catch(() => undefined)
        .then(() => {
          reply({ type: 'closed', counters: log.counters() });
          port.close();
        });
      return;
  }
});

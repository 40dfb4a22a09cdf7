// Audit-log benchmark (issue 5). In one run, against the real PostgreSQL ($DATABASE_URL):
//  1. end-to-end p99 of the real pipeline at a steady open-model rate with the audit log off,
//     on, and on while another connection holds LOCK TABLE audit_messages for 5 s — as cvlab
//     runs it: the engine in its thread, the audit log on the host's (the ratios); and, for
//     reference, with both on one thread (`inThread`: what a run whose engine shares the host's
//     thread gets);
//  2. audit write throughput (rows/s) by COPY batches, against the floor of one INSERT per row,
//     and the embedded (PGlite, unnest) path for reference.
// Prints one JSON line. Targets: p99 on ≤ 1.1× off, also while locked; ≥ 50,000 rows/s.
// BENCH_AUDIT_ONLY=latency: the engine-thread phases alone.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import pg from 'pg';
import { RigSchema, type RigConfig } from '../src/shared/rig';
import { AuditLog } from '../src/main/lab/audit/audit-log';
import { AuditThread } from '../src/main/lab/audit/audit-thread';
import type { AuditBatch } from '../src/main/lab/common/audit-batch';
import { hostNice } from '../src/main/lab/run/host-thread-priority';
import { PgCopyAuditWriter } from '../src/main/lab/audit/pg-copy-audit-writer';
import { QueryAuditWriter } from '../src/main/lab/audit/query-audit-writer';
import { createPipeline } from '../src/main/lab/engine/pipeline/chat-pipeline';
import { createHistogram, initHistograms } from '../src/main/lab/common/create-histogram';
import { RunController } from '../src/main/lab/run/run-controller';
import type { ScenarioInput } from '../src/shared/scenario';
import type { OutcomeRecord, OutcomeSink } from '../src/main/lab/common/outcome-record';
import { loadRig } from '../src/main/lab/files/rig-file';
import { PgliteDatabase } from '../src/main/lab/store/pglite-database';
import { quoteIdentifier } from '../src/main/lab/store/pg-database';
import { Store } from '../src/main/lab/store/store';
import { freePort } from '../test/setup/global-services';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const RATE = Number(process.env['BENCH_RATE'] ?? 2_000);
const PHASE_MS = Number(process.env['BENCH_PHASE_MS'] ?? 7_000);
const LOCK_MS = 5_000;
const THROUGHPUT_ROWS = Number(process.env['BENCH_ROWS'] ?? 200_000);
const FLOOR_ROWS = Number(process.env['BENCH_FLOOR_ROWS'] ?? 3_000);

const schema = `cvlab_bench_${Math.random().toString(36).slice(2, 10)}`;
const folder = mkdtempSync(join(tmpdir(), 'cvlab-bench-audit-'));
const texts = ['hue=0.4', 'sat=80%', 'bright=0.25', 'zoom=-0.5', 'shape=sine', 'hue=0.1 sat=0.9', 'rotate=45', 'nonsense=1'];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(sql);
  await client.end();
}

/** CPU time of this process's main thread (the host's) so far, ms (Linux /proc; 10 ms ticks), else NaN. */
function hostThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name: state is field 3, utime 14 and stime 15 (clock ticks of 10 ms).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** A switchable sink: the pipeline keeps one, the phases swap what is behind it. */
class SwitchSink implements OutcomeSink {
  target: OutcomeSink | undefined;
  record(entry: OutcomeRecord): void {
    this.target?.record(entry);
  }
  batches(rig: RigConfig, wallClockOffsetMs: number): ((batch: AuditBatch) => void) | undefined {
    return this.target?.batches?.(rig, wallClockOffsetMs);
  }
}

/** Sends RATE messages per second for `durationMs`, each due at its planned time; returns e2e ns. */
const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });

async function drive(pipeline: Awaited<ReturnType<typeof createPipeline>>, durationMs: number, during?: () => Promise<void>): Promise<hdr.Histogram> {
  const histogram = newHistogram();
  const total = Math.round((RATE * durationMs) / 1000);
  const intervalNs = 1e9 / RATE;
  const start = process.hrtime.bigint();
  const pending: Promise<void>[] = [];
  const side = during?.();
  let sent = 0;
  while (sent < total) {
    const elapsed = Number(process.hrtime.bigint() - start);
    while (sent < total && sent * intervalNs <= elapsed) {
      const dueNs = start + BigInt(Math.round(sent * intervalNs));
      const index = sent++;
      pending.push(
        pipeline.process({ user: `viewer${index % 2_000}`, text: texts[index % texts.length]!, dueNs }).then((outcome) => {
          if (outcome.timings.e2e !== undefined) histogram.recordValue(Math.max(1, Math.round(outcome.timings.e2e)));
        }),
      );
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(pending);
  await side;
  return histogram;
}

/** Holds LOCK TABLE audit_messages for LOCK_MS from another connection, a second after it is called. */
async function lockTableAWhile(): Promise<void> {
  const locker = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${quoteIdentifier(schema)}` });
  await locker.connect();
  try {
    await sleep(1_000);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_messages IN ACCESS EXCLUSIVE MODE');
    await sleep(LOCK_MS);
    await locker.query('COMMIT');
  } finally {
    await locker.end();
  }
}

/** The phases' figures: e2e off / on / locked, and what became of the log's rows (drained, then counted in the table). */
async function phaseFigures(log: AuditLog | AuditThread, source: string, spooledBeforeLock: number, phases: { off: hdr.Histogram; on: hdr.Histogram; locked: hdr.Histogram }): Promise<Record<string, unknown>> {
  const { off, on, locked } = phases;
  const drained = await log.drain(60_000);
  const counters = log.counters();
  const pool = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${quoteIdentifier(schema)}`, max: 1 });
  const [row] = (await pool.query<{ count: number }>('SELECT count(*)::integer AS count FROM audit_messages WHERE source = $1', [source])).rows;
  await pool.end();
  const p99 = (histogram: hdr.Histogram): number => histogram.getValueAtPercentile(99);
  return {
    e2eP99Ms: { off: ms(p99(off)), on: ms(p99(on)), locked: ms(p99(locked)) },
    e2eP50Ms: { off: ms(off.getValueAtPercentile(50)), on: ms(on.getValueAtPercentile(50)), locked: ms(locked.getValueAtPercentile(50)) },
    samples: { off: off.totalCount, on: on.totalCount, locked: locked.totalCount },
    p99RatioOn: Math.round((p99(on) / p99(off)) * 100) / 100,
    p99RatioLocked: Math.round((p99(locked) / p99(off)) * 100) / 100,
    audit: {
      recorded: counters.queued,
      rowsInTable: row?.count ?? -1,
      spooledDuringLock: counters.spooled - spooledBeforeLock,
      replayed: counters.replayed,
      dropped: counters.dropped,
      drained,
    },
  };
}

async function inThreadPhases(): Promise<Record<string, unknown>> {
  const demo = await loadRig();
  // Generous limits so most messages reach the OSC send (the audited path is the same for both).
  const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: await freePort() }, limiter: { userRate: 100, userBurst: 100, globalRate: 100_000, globalBurst: 10_000 } });
  const sink = new SwitchSink();
  const pipeline = await createPipeline(rig, { namespace: `cvlab-bench-audit-${process.pid}`, redisUrl: null, sink, tap: false });
  const log = new AuditLog({ writer: new PgCopyAuditWriter({ connectionString: DATABASE_URL, schema }), spoolPath: join(folder, 'spool.jsonl'), source: 'bench-latency' });

  await drive(pipeline, 1_500); // warm-up, not measured
  // Off and on alternate in one-second segments, so drift in machine load hits both alike.
  const off = newHistogram();
  const on = newHistogram();
  for (let round = 0; round < Math.max(1, Math.round(PHASE_MS / 1000)); round++) {
    sink.target = undefined;
    off.add(await drive(pipeline, 1_000));
    sink.target = log;
    on.add(await drive(pipeline, 1_000));
  }
  await log.drain(30_000);
  const beforeLock = log.counters();
  const locked = await drive(pipeline, PHASE_MS, lockTableAWhile);
  const figures = await phaseFigures(log, 'bench-latency', beforeLock.spooled, { off, on, locked });
  await log.close();
  await pipeline.close();
  return figures;
}

/**
 * The same phases as cvlab runs them: the engine in its own thread (RunController), its audit
 * rows decoded and written either on this thread (the host's: `host`, as before) or on the audit
 * log's own thread (`thread`: the batches handed over whole, as cvlab runs now), in the same run.
 * Off, host and thread alternate run by run (the engine collects audit rows only for a run whose
 * sink takes them); each run's e2e comes from its interval histograms. Then the table is locked
 * for 5 s under each arrangement in turn.
 */
async function engineThreadPhases(): Promise<Record<string, unknown>> {
  await initHistograms();
  const demo = await loadRig();
  const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: await freePort() }, limiter: { userRate: 100, userBurst: 100, globalRate: 100_000, globalBurst: 10_000 } });
  const hostLog = new AuditLog({ writer: new PgCopyAuditWriter({ connectionString: DATABASE_URL, schema }), spoolPath: join(folder, 'engine-spool.jsonl'), source: 'bench-engine' });
  const threadLog = new AuditThread({ databaseUrl: DATABASE_URL, schema, spoolPath: join(folder, 'thread-spool.jsonl'), nice: hostNice(), options: { source: 'bench-thread' } });
  const sink = new SwitchSink();
  let target: hdr.Histogram | undefined;
  const runs = new RunController({ sink, wantsOutcomes: () => sink.target !== undefined, warmUpMessages: 1_000 });
  runs.onDidRecordInterval(({ histogram }) => {
    const e2e = histogram('e2e');
    if (target && e2e.totalCount > 0) target.add(e2e);
  });
  const run = async (log: OutcomeSink | undefined, durationMs: number, into: hdr.Histogram | undefined, during?: () => Promise<void>): Promise<void> => {
    sink.target = log;
    target = into;
    const scenario: ScenarioInput = { name: 'bench-audit', executor: { type: 'constant-arrival-rate', rate: RATE, duration: durationMs }, traffic: { users: 2_000 }, seed: 7 };
    const cpuBefore = hostThreadCpuMs();
    await runs.start({ scenario, rig });
    const side = during?.();
    const summary = await runs.finished();
    await side;
    target = undefined;
    if (into) (hostCpuMs.get(into) ?? hostCpuMs.set(into, []).get(into)!).push(hostThreadCpuMs() - cpuBefore);
    // The host thread's own event-loop delay: what the audit log's work costs the host (frames, tap, IPC).
    const delay = summary?.resources.hostEventLoopDelayP99;
    if (into && delay !== undefined) (hostDelayUs.get(into) ?? hostDelayUs.set(into, []).get(into)!).push(Math.round(delay / 1e3));
  };
  const hostDelayUs = new Map<hdr.Histogram, number[]>();
  const hostCpuMs = new Map<hdr.Histogram, number[]>();
  await run(hostLog, 1_500, undefined); // warm-up, not measured
  await run(threadLog, 1_500, undefined);
  const off = createHistogram();
  const onHost = createHistogram();
  const onThread = createHistogram();
  for (let round = 0; round < Math.max(1, Math.round(PHASE_MS / 2000)); round++) {
    await run(undefined, 2_000, off);
    await run(hostLog, 2_000, onHost);
    await run(threadLog, 2_000, onThread);
  }
  await hostLog.drain(30_000);
  await threadLog.drain(30_000);
  const hostBeforeLock = hostLog.counters();
  const threadBeforeLock = threadLog.counters();
  const lockedHost = createHistogram();
  const lockedThread = createHistogram();
  await run(hostLog, PHASE_MS, lockedHost, lockTableAWhile);
  await run(threadLog, PHASE_MS, lockedThread, lockTableAWhile);
  const host = await phaseFigures(hostLog, 'bench-engine', hostBeforeLock.spooled, { off, on: onHost, locked: lockedHost });
  const thread = await phaseFigures(threadLog, 'bench-thread', threadBeforeLock.spooled, { off, on: onThread, locked: lockedThread });
  const delays = (histogram: hdr.Histogram): number[] => hostDelayUs.get(histogram) ?? [];
  const hostLoopDelayP99Us = (on: hdr.Histogram, locked: hdr.Histogram): Record<string, number[]> => ({ off: delays(off), on: delays(on), locked: delays(locked) });
  host['hostEventLoopDelayP99UsPerRun'] = hostLoopDelayP99Us(onHost, lockedHost);
  thread['hostEventLoopDelayP99UsPerRun'] = hostLoopDelayP99Us(onThread, lockedThread);
  // The host thread's CPU per run (the off runs are the same for both): the work the audit log leaves on it.
  const cpu = (histogram: hdr.Histogram): number[] => hostCpuMs.get(histogram) ?? [];
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
  host['hostThreadCpuMsPerRun'] = { off: cpu(off), on: cpu(onHost), locked: cpu(lockedHost) };
  thread['hostThreadCpuMsPerRun'] = { off: cpu(off), on: cpu(onThread), locked: cpu(lockedThread) };
  const hostCpuOverOff = (on: hdr.Histogram): number => Math.round((sum(cpu(on)) / Math.max(1, sum(cpu(off)))) * 100) / 100;
  await hostLog.close();
  await threadLog.close();
  for (const histogram of [off, onHost, onThread, lockedHost, lockedThread]) histogram.destroy();
  const ratio = (after: number, before: number): number => Math.round((after / before) * 100) / 100;
  return {
    ...thread,
    hostThread: host,
    hostThreadCpuOnOverOff: { host: hostCpuOverOff(onHost), thread: hostCpuOverOff(onThread) },
    threadOverHost: {
      p99On: ratio(thread['p99RatioOn'] as number, host['p99RatioOn'] as number),
      p99Locked: ratio(thread['p99RatioLocked'] as number, host['p99RatioLocked'] as number),
    },
  };
}

function syntheticRecord(index: number): OutcomeRecord {
  const timings = { validate: 1500, limit: 900, encode: 300, send: 4000, e2e: 50_000 + index };
  return index % 4 === 0
    ? { user: `viewer${index % 1000}`, text: 'hue=7', atMs: Date.now(), outcome: { status: 'rejected', rejection: { code: 'out_of_range', detail: 'expected a value between 0 and 1' }, timings } }
    : { user: `viewer${index % 1000}`, text: 'hue=0.4', atMs: Date.now(), outcome: { status: 'accepted', changes: [{ variable: 'hue', value: 0.4, version: index, writer: `viewer${index % 1000}` }], packet: { bundle: false, messages: [], bytes: 24 }, timings } };
}

async function rowsPerSecond(log: AuditLog, rows: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < rows; index++) {
    log.record(syntheticRecord(index));
    // Let the pump run between chunks, as a live pipeline would.
    if (index % 5_000 === 4_999) await new Promise((resolve) => setImmediate(resolve));
  }
  if (!(await log.drain(120_000))) throw new Error('the audit log did not drain within 2 minutes');
  return Math.round(rows / (Number(process.hrtime.bigint() - started) / 1e9));
}

async function throughput(): Promise<Record<string, unknown>> {
  // Default batch size and timeouts: the figure is what the pipeline gets.
  const copyLog = new AuditLog({ writer: new PgCopyAuditWriter({ connectionString: DATABASE_URL, schema }), spoolPath: join(folder, 'copy.jsonl'), source: 'bench-copy' });
  const copy = await rowsPerSecond(copyLog, THROUGHPUT_ROWS);
  const copyCounters = copyLog.counters();
  await copyLog.close();

  // The floor: one INSERT statement per row, one round trip each (what a naive logger does).
  const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${quoteIdentifier(schema)}` });
  await client.connect();
  const started = process.hrtime.bigint();
  for (let index = 0; index < FLOOR_ROWS; index++) {
    await client.query(
      `INSERT INTO audit_messages (source, seq, at, user_name, text, status, code, detail, changes, e2e_ns) VALUES ('bench-floor', $1, now(), $2, 'hue=0.4', 'accepted', NULL, NULL, $3::jsonb, 50000)`,
      [index, `viewer${index % 1000}`, JSON.stringify([{ variable: 'hue', value: 0.4, version: index, writer: 'viewer' }])],
    );
  }
  const single = Math.round(FLOOR_ROWS / (Number(process.hrtime.bigint() - started) / 1e9));
  await client.end();

  const pglite = await Store.over(new PgliteDatabase(undefined));
  const pgliteLog = new AuditLog({ writer: new QueryAuditWriter(pglite.database), spoolPath: join(folder, 'pglite.jsonl'), source: 'bench-pglite', writeTimeoutMs: 30_000 });
  const embedded = await rowsPerSecond(pgliteLog, Math.min(THROUGHPUT_ROWS, 50_000));
  await pgliteLog.close();
  await pglite.close();

  return {
    copyRowsPerSecond: copy,
    singleInsertRowsPerSecond: single,
    copyVsSingleInsert: Math.round((copy / single) * 10) / 10,
    pgliteRowsPerSecond: embedded,
    throughputRows: THROUGHPUT_ROWS,
    copySpooled: copyCounters.spooled,
  };
}

const loadBefore = loadavg()[0]!;
await admin(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
try {
  const migrated = await Store.open({ databaseUrl: DATABASE_URL, schema });
  await migrated.close();
  const latency = await engineThreadPhases();
  const only = process.env['BENCH_AUDIT_ONLY'] === 'latency';
  const inThread = only ? undefined : await inThreadPhases();
  const writes: Record<string, unknown> = only ? {} : await throughput();
  const p99On = latency['p99RatioOn'] as number;
  const p99Locked = latency['p99RatioLocked'] as number;
  console.log(
    JSON.stringify({
      bench: 'audit',
      rate: RATE,
      // Latency ratios only mean something on a quiet machine: the load is printed with them.
      loadAverage: Math.round(loadavg()[0]! * 100) / 100,
      loadAverageBefore: Math.round(loadBefore * 100) / 100,
      cores: cpus().length,
      phaseMs: PHASE_MS,
      lockMs: LOCK_MS,
      arrangement: 'engine thread + audit log on a thread of its own, as cvlab runs (hostThread: the audit log on the host thread, as before, in the same run)',
      ...latency,
      inThread,
      ...writes,
      targets: { p99Ratio: 1.1, rowsPerSecond: 50_000 },
      met: { p99On: p99On <= 1.1, p99Locked: p99Locked <= 1.1, ...(only ? {} : { rowsPerSecond: (writes['copyRowsPerSecond'] as number) >= 50_000 }) },
    }),
  );
} finally {
  await admin(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  rmSync(folder, { recursive: true, force: true });
}
process.exit(0);

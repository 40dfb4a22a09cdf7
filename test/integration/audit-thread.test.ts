// The audit log on a thread of its own against the real PostgreSQL (private schema): a measured
// run's audit batches go over whole and every outcome lands once with its fields; records handed
// to record() land too; a locked table sends rows to the spool and they come back; the spool's
// lock is released when it closes.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { AuditThread } from '../../src/main/lab/audit/audit-thread';
import { createAuditLog } from '../../src/main/lab/audit/create-audit-log';
import { RunController } from '../../src/main/lab/run/run-controller';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { quoteIdentifier } from '../../src/main/lab/store/pg-database';
import { Store } from '../../src/main/lab/store/store';
import { databaseUrl, freePort } from '../setup/services';

const folder = mkdtempSync(join(tmpdir(), 'cvlab-audit-thread-'));
const schema = `cvlab_test_${Math.random().toString(36).slice(2, 10)}`;

async function query<Row extends object>(sql: string, params: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${quoteIdentifier(schema)}` });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  await admin.end();
  await (await Store.open({ databaseUrl: databaseUrl(), schema })).close();
});

afterAll(async () => {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
  rmSync(folder, { recursive: true, force: true });
});

describe('the audit log on a thread of its own', () => {
  it("takes a run's audit batches whole and writes every outcome once, with its fields", async () => {
    const log = createAuditLog({ databaseUrl: databaseUrl(), schema, spoolDir: join(folder, 'spool-run'), threadNice: 0 });
    expect(log).toBeInstanceOf(AuditThread);
    const demo = await loadRig();
    const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: await freePort() } });
    const runs = new RunController({ sink: log, warmUpMessages: 0 });
    await runs.start({ scenario: { name: 'audit-thread', executor: { type: 'constant-arrival-rate', rate: 400, duration: 1_500 }, traffic: { users: 50 }, seed: 3 }, rig });
    const summary = await runs.finished();
    expect(await log.drain(30_000)).toBe(true);
    const outcomes = summary!.outcomes.accepted + summary!.outcomes.rejected + summary!.outcomes.failed;
    expect(outcomes).toBeGreaterThan(300);
    const [tally] = await query<{ rows: number; seqs: number; top: number; accepted: number; users: number }>(
      "SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS seqs, max(seq)::int AS top, count(*) FILTER (WHERE status = 'accepted')::int AS accepted, count(*) FILTER (WHERE user_name <> '')::int AS users FROM audit_messages WHERE source = $1",
      [log.source],
    );
    expect(tally).toEqual({ rows: outcomes, seqs: outcomes, top: outcomes, accepted: summary!.outcomes.accepted, users: outcomes });
    expect(log.counters()).toMatchObject({ queued: outcomes, written: outcomes, dropped: 0, pending: 0 });
    await log.close();
  }, 60_000);

  it('spools while the table is locked, replays after, and releases the spool when closed', async () => {
    const spoolDir = join(folder, 'spool-locked');
    const log = createAuditLog({ databaseUrl: databaseUrl(), schema, spoolDir, threadNice: 0, writeTimeoutMs: 300, retryIntervalMs: 100, flushIntervalMs: 20 });
    const locker = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${quoteIdentifier(schema)}` });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_messages IN ACCESS EXCLUSIVE MODE');
    const timings = { validate: 1000, limit: 500, e2e: 9000 };
    for (let index = 0; index < 1_000; index++) log.record({ user: `viewer${index % 20}`, text: `hue=0.${index}`, atMs: Date.now(), outcome: { status: 'rejected', rejection: { code: 'rate_limited_user', detail: 'wait' }, timings } });
    // Wait on the condition: the thread sends its counters every 100 ms.
    await expect.poll(() => log.counters().spooled, { timeout: 20_000 }).toBeGreaterThan(0);
    await locker.query('COMMIT');
    await locker.end();
    expect(await log.drain(30_000)).toBe(true);
    const [tally] = await query<{ rows: number; seqs: number }>('SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS seqs FROM audit_messages WHERE source = $1', [log.source]);
    expect(tally).toEqual({ rows: 1_000, seqs: 1_000 });
    expect(log.counters()).toMatchObject({ queued: 1_000, dropped: 0, pending: 0, spoolBacklogBytes: 0 });
    expect(log.counters().written + log.counters().replayed).toBe(1_000);
    await log.close();
    // A record after close is counted as dropped, as AuditLog counts it.
    log.record({ user: 'late', text: 'hue=0.5', atMs: Date.now(), outcome: { status: 'rejected', rejection: { code: 'rate_limited_user', detail: 'wait' }, timings } });
    expect(log.counters().dropped).toBe(1);
    // The pid lock of the spool is gone once the log has closed.
    const locks = readdirSync(spoolDir, { recursive: true }).filter((name) => String(name).endsWith('.lock'));
    expect(locks).toEqual([]);
    expect(existsSync(spoolDir)).toBe(true);
  }, 60_000);
});

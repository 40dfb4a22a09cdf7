// AuditLog against the real PostgreSQL (COPY, private schema) and PGlite (unnest inserts):
// every record lands once, in order; a locked table sends batches to the spool and they come back.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/main/lab/audit/audit-log';
import { PgCopyAuditWriter } from '../../src/main/lab/audit/pg-copy-audit-writer';
import { QueryAuditWriter } from '../../src/main/lab/audit/query-audit-writer';
import type { OutcomeRecord } from '../../src/main/lab/common/outcome-record';
import { PgliteDatabase } from '../../src/main/lab/store/pglite-database';
import { quoteIdentifier } from '../../src/main/lab/store/pg-database';
import { Store } from '../../src/main/lab/store/store';
import { databaseUrl } from '../setup/services';
import { waitFor } from '../setup/wait-for';

const folder = mkdtempSync(join(tmpdir(), 'cvlab-audit-'));
const schema = `cvlab_test_${Math.random().toString(36).slice(2, 10)}`;
let pgStore: Store;
let pgliteStore: Store;

function outcome(index: number): OutcomeRecord {
  const timings = { validate: 1500, limit: 900, encode: 300, send: 4000, e2e: 50_000 + index };
  if (index % 3 === 0) return { user: `viewer${index % 50}`, text: `hue=\t"${index}"\\`, atMs: Date.now(), outcome: { status: 'rejected', rejection: { code: 'bad_value', detail: 'expected a number\nlike 0.4' }, timings } };
  return {
    user: `viewer${index % 50}`,
    text: `hue=0.${index}`,
    atMs: Date.now(),
    outcome: { status: 'accepted', changes: [{ variable: 'hue', value: 0.5, version: index, writer: `viewer${index % 50}` }], packet: { bundle: false, messages: [], bytes: 24 }, timings },
  };
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  await admin.end();
  pgStore = await Store.open({ databaseUrl: databaseUrl(), schema });
  pgliteStore = await Store.over(new PgliteDatabase(undefined));
});

afterAll(async () => {
  await pgStore?.close();
  await pgliteStore?.close();
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
  rmSync(folder, { recursive: true, force: true });
});

describe.each([
  { name: 'PostgreSQL by COPY', store: () => pgStore, writer: () => new PgCopyAuditWriter({ connectionString: databaseUrl(), schema }) },
  { name: 'PGlite by unnest', store: () => pgliteStore, writer: () => new QueryAuditWriter(pgliteStore.database) },
])('AuditLog on $name', ({ name, store, writer }) => {
  it('writes every record once, with its fields intact', async () => {
    const log = new AuditLog({ writer: writer(), spoolPath: join(folder, `${name}-1.jsonl`), source: `${name}-1`, batchSize: 500 });
    for (let index = 0; index < 2_345; index++) log.record(outcome(index));
    expect(await log.drain(20_000)).toBe(true);
    expect(await store().audit.count(`${name}-1`)).toBe(2_345);
    expect(log.counters()).toMatchObject({ queued: 2_345, written: 2_345, spooled: 0, replayed: 0, dropped: 0, pending: 0 });
    const rows = await store().database.query<{ seq: string | number; text: string; code: string | null; detail: string | null; changes: unknown; e2e_ns: string | number }>(
      'SELECT seq, text, code, detail, changes, e2e_ns FROM audit_messages WHERE source = $1 AND seq IN (1, 2) ORDER BY seq',
      [`${name}-1`],
    );
    // seq follows record order: the first record (index 0) is a rejection with awkward characters.
    expect(rows[0]).toMatchObject({ text: 'hue=\t"0"\\', code: 'bad_value', detail: 'expected a number\nlike 0.4', changes: null });
    expect(Number(rows[0]?.e2e_ns)).toBe(50_000);
    expect(rows[1]).toMatchObject({ code: null, changes: [{ variable: 'hue', value: 0.5, version: 1, writer: 'viewer1' }] });
    await log.close();
  });

  it('replays a spool left by an earlier process, skipping rows already written', async () => {
    const spoolPath = join(folder, `${name}-2.jsonl`);
    const first = new AuditLog({ writer: writer(), spoolPath, source: `${name}-2` });
    for (let index = 0; index < 100; index++) first.record(outcome(index));
    await first.drain();
    await first.close();
    // As if the last 40 rows' commit had been lost and spooled, plus 20 never written.
    const lines = Array.from({ length: 60 }, (_unused, offset) => {
      const seq = 61 + offset;
      return JSON.stringify({ source: `${name}-2`, seq, atMs: Date.now(), user: 'v', text: `t${seq}`, status: 'accepted', code: null, detail: null, changes: null, validateNs: null, limitNs: null, storeNs: null, encodeNs: null, sendNs: null, e2eNs: null });
    });
    writeFileSync(spoolPath, lines.join('\n') + '\n');
    const second = new AuditLog({ writer: writer(), spoolPath, source: `${name}-2b` });
    expect(await second.drain()).toBe(true);
    expect(second.counters()).toMatchObject({ replayed: 60, dropped: 0, spoolBacklogBytes: 0 });
    expect(await store().audit.count(`${name}-2`)).toBe(120);
    expect(readFileSync(spoolPath, 'utf8')).toBe('');
    await second.close();
  });

  it('keeps a NUL character that chat spam can carry (PostgreSQL text cannot hold it raw)', async () => {
    const log = new AuditLog({ writer: writer(), spoolPath: join(folder, `${name}-nul.jsonl`), source: `${name}-nul` });
    const spam = outcome(1);
    log.record({ ...spam, user: 'nul\u0000user', text: 'hue=0.1\u0000' });
    log.record({ ...outcome(2), outcome: { ...(outcome(2).outcome as Extract<OutcomeRecord['outcome'], { status: 'accepted' }>), changes: [{ variable: 'hue', value: 1, version: 1, writer: 'a\u0000b' }] } });
    expect(await log.drain()).toBe(true);
    const rows = await store().database.query<{ user_name: string; text: string; changes: unknown }>('SELECT user_name, text, changes FROM audit_messages WHERE source = $1 ORDER BY seq', [`${name}-nul`]);
    expect(rows.map((row) => row.text)).toEqual(['hue=0.1\\u0000', 'hue=0.2']);
    expect(rows[0]?.user_name).toBe('nul\\u0000user');
    expect(rows[1]?.changes).toEqual([{ variable: 'hue', value: 1, version: 1, writer: 'a\\u0000b' }]);
    await log.close();
  });

  it('retention removes old rows only', async () => {
    const log = new AuditLog({ writer: writer(), spoolPath: join(folder, `${name}-3.jsonl`), source: `${name}-3` });
    const old = outcome(1);
    log.record({ ...old, atMs: Date.now() - 10 * 86_400_000 });
    log.record(outcome(2));
    await log.drain();
    expect(await log.cleanup(7 * 86_400_000)).toBeGreaterThanOrEqual(1);
    expect(await store().audit.count(`${name}-3`)).toBe(1);
    // The retention job does the same on its own, on an interval.
    log.record({ ...old, atMs: Date.now() - 10 * 86_400_000 });
    await log.drain();
    expect(await store().audit.count(`${name}-3`)).toBe(2);
    log.startRetention(7 * 86_400_000, 50);
    await waitFor(async () => (await store().audit.count(`${name}-3`)) <= 1, 'the retention job to remove the old row');
    expect(await store().audit.count(`${name}-3`)).toBe(1);
    await log.close();
  });
});

describe('AuditLog while the table is locked', () => {
  it('spools batches during the lock, never blocks record(), and replays in order after', async () => {
    const source = 'locked';
    const log = new AuditLog({
      writer: new PgCopyAuditWriter({ connectionString: databaseUrl(), schema, statementTimeoutMs: 300 }),
      spoolPath: join(folder, 'locked.jsonl'),
      source,
      batchSize: 200,
      writeTimeoutMs: 300,
      retryIntervalMs: 200,
    });
    const locker = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${quoteIdentifier(schema)}` });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_messages IN ACCESS EXCLUSIVE MODE');
    for (let index = 0; index < 3_000; index++) {
      log.record(outcome(index));
      if (index % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 40));
    }
    // The lock is still held, yet batches move on: to the spool, not stuck behind the lock.
    await waitFor(() => log.counters().spooled > 0, 'a batch to reach the spool while the table is locked');
    const during = log.counters();
    expect(during.spooled).toBeGreaterThan(0);
    expect(during.pending).toBeLessThan(3_000);
    expect(during.dropped).toBe(0);
    await locker.query('COMMIT');
    await locker.end();
    expect(await log.drain(20_000)).toBe(true);
    const after = log.counters();
    expect(after.written + after.replayed).toBeGreaterThanOrEqual(3_000);
    expect(await pgStore.audit.count(source)).toBe(3_000);
    // Order kept: seq follows record order, and seq 1..3000 are all there exactly once.
    const [range] = await pgStore.database.query<{ min: number; max: number; distinct: number }>(
      'SELECT min(seq)::integer AS min, max(seq)::integer AS max, count(DISTINCT seq)::integer AS distinct FROM audit_messages WHERE source = $1',
      [source],
    );
    expect(range).toEqual({ min: 1, max: 3_000, distinct: 3_000 });
    await log.close();
  });
});

// The same repository suite against the real PostgreSQL (a private schema) and embedded PGlite (a temp folder).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase, quoteIdentifier } from '../../src/main/lab/store/pg-database';
import { PgliteDatabase } from '../../src/main/lab/store/pglite-database';
import { applyMigrations } from '../../src/main/lab/store/migrations';
import { Store } from '../../src/main/lab/store/store';
import type { Database } from '../../src/main/lab/store/database';
import type { AuditRow } from '../../src/main/lab/store/audit-repository';
import { databaseUrl } from '../setup/services';

interface Backend {
  name: string;
  create(): Promise<Database>;
  destroy(): Promise<void>;
}

function postgresBackend(): Backend {
  const schema = `cvlab_test_${Math.random().toString(36).slice(2, 10)}`;
  return {
    name: 'PostgreSQL',
    async create() {
      const admin = new pg.Client({ connectionString: databaseUrl() });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
      await admin.end();
      return new PgDatabase({ connectionString: databaseUrl(), schema });
    },
    async destroy() {
      const admin = new pg.Client({ connectionString: databaseUrl() });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      await admin.end();
    },
  };
}

function pgliteBackend(): Backend {
  const folder = mkdtempSync(join(tmpdir(), 'cvlab-pglite-'));
  return {
    name: 'PGlite',
    create: async () => new PgliteDatabase(join(folder, 'db')),
    destroy: async () => rmSync(folder, { recursive: true, force: true }),
  };
}

const auditRow = (seq: number, atMs: number): AuditRow => ({
  source: 'test', seq, atMs, user: `viewer${seq}`, text: `hue=0.${seq}`, status: seq % 2 ? 'accepted' : 'rejected',
  code: seq % 2 ? null : 'out_of_range', detail: seq % 2 ? null : 'expected 0–1', changes: seq % 2 ? JSON.stringify([{ variable: 'hue', value: 0.5, version: seq, writer: 'v' }]) : null,
  validateNs: 1200, limitNs: 800, storeNs: null, encodeNs: 300, sendNs: 5000, e2eNs: 90_000 + seq,
});

describe.each([postgresBackend(), pgliteBackend()])('store on $name', (backend) => {
  let store: Store;
  const t0 = Date.UTC(2026, 10, 1, 12, 0, 0);

  beforeAll(async () => {
    store = await Store.over(await backend.create());
  });
  afterAll(async () => {
    await store?.close();
    await backend.destroy();
  });

  it('records its migrations and applies each once', async () => {
    const versions = await store.database.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((row) => row.version)).toEqual([1, 2]);
    expect(await applyMigrations(store.database)).toEqual([]);
  });

  it('saves a run from running to passed with intervals, histograms, alerts and loop-back', async () => {
    await store.runs.insert({ id: 'run-a', rig: 'demo', scenario: 'burst', startedAtMs: t0, info: { seed: 7 }, environment: null });
    let run = await store.runs.get('run-a');
    expect(run?.status).toBe('running');
    expect(run?.startedAtMs).toBe(t0);
    expect(run?.info).toEqual({ seed: 7 });

    await store.intervals.append('run-a', [
      { seq: 0, atMs: t0 + 100, frame: { e2e: { p99: 1.5 } } },
      { seq: 1, atMs: t0 + 200, frame: { e2e: { p99: 2.5 } } },
    ]);
    // A batch sent twice (retry after a lost acknowledgement) does not double the rows.
    await store.intervals.append('run-a', [{ seq: 1, atMs: t0 + 200, frame: { e2e: { p99: 99 } } }, { seq: 2, atMs: t0 + 300, frame: {} }]);
    const intervals = await store.intervals.list('run-a');
    expect(intervals.map((interval) => interval.seq)).toEqual([0, 1, 2]);
    expect(intervals[1]?.frame).toEqual({ e2e: { p99: 2.5 } });
    expect(intervals[1]?.atMs).toBe(t0 + 200);

    await store.histograms.save('run-a', [{ name: 'e2e', totalCount: 12345678901, encoded: 'HISTFAAAA' }]);
    expect(await store.histograms.list('run-a')).toEqual([{ name: 'e2e', totalCount: 12345678901, encoded: 'HISTFAAAA' }]);

    await store.alerts.add('run-a', { atMs: t0 + 150, severity: 'warning', metric: 'e2e.p99', message: 'p99 above 2 ms' });
    expect(await store.alerts.list('run-a')).toEqual([{ atMs: t0 + 150, severity: 'warning', metric: 'e2e.p99', message: 'p99 above 2 ms' }]);

    await store.loopback.save({ id: 'loop-1', runId: 'run-a', rig: 'demo', startedAtMs: t0, summary: { p50Ms: 1.2 } });
    expect(await store.loopback.listForRun('run-a')).toEqual([{ id: 'loop-1', startedAtMs: t0, summary: { p50Ms: 1.2 } }]);

    await store.runs.finish('run-a', { status: 'passed', endedAtMs: t0 + 1000, summary: { total: 3 }, e2eP99Ms: 2.5, intervalCount: 3 });
    run = await store.runs.get('run-a');
    expect(run).toMatchObject({ status: 'passed', endedAtMs: t0 + 1000, summary: { total: 3 }, e2eP99Ms: 2.5, intervalCount: 3, baseline: false });
  });

  it('marks a stale running run as aborted, keeping its intervals, and leaves a live one alone', async () => {
    const now = Date.now();
    await store.runs.insert({ id: 'run-dead', rig: 'demo', scenario: 'burst', startedAtMs: now - 60_000, info: {}, environment: null });
    await store.runs.heartbeat('run-dead', now - 10_000, 1);
    await store.intervals.append('run-dead', [{ seq: 0, atMs: now - 10_000, frame: {} }]);
    await store.runs.insert({ id: 'run-live', rig: 'demo', scenario: 'burst', startedAtMs: now - 2_000, info: {}, environment: null });
    await store.runs.heartbeat('run-live', now - 500, 0);
    expect(await store.runs.abortStale(now, 5_000)).toEqual(['run-dead']);
    expect((await store.runs.get('run-dead'))?.status).toBe('aborted');
    expect((await store.runs.get('run-live'))?.status).toBe('running');
    expect(await store.intervals.count('run-dead')).toBe(1);
  });

  it('lists runs newest first, filters, and marks one baseline per rig and scenario', async () => {
    await store.runs.insert({ id: 'run-b', rig: 'demo', scenario: 'burst', startedAtMs: t0 + 5_000, info: {}, environment: null });
    await store.runs.insert({ id: 'run-c', rig: 'other', scenario: 'soak', startedAtMs: t0 + 6_000, info: {}, environment: null });
    const burst = await store.runs.list({ rig: 'demo', scenario: 'burst' });
    expect(burst.map((run) => run.id).slice(-2)).toEqual(['run-b', 'run-a']);
    expect((await store.runs.list({ rig: 'other' })).map((run) => run.id)).toEqual(['run-c']);
    expect((await store.runs.list({ status: 'passed' })).map((run) => run.id)).toEqual(['run-a']);
    expect(await store.runs.list({ limit: 1 })).toHaveLength(1);

    expect(await store.baselines.mark('run-a')).toEqual({ rig: 'demo', scenario: 'burst' });
    expect(await store.baselines.get('demo', 'burst')).toBe('run-a');
    await store.baselines.mark('run-b');
    expect(await store.baselines.get('demo', 'burst')).toBe('run-b');
    expect((await store.runs.get('run-b'))?.baseline).toBe(true);
    expect((await store.runs.get('run-a'))?.baseline).toBe(false);
    await expect(store.baselines.mark('no-such-run')).rejects.toThrow(/No saved run has the id "no-such-run"/);
  });

  it('writes audit batches without doubling a replayed batch, and removes old rows', async () => {
    const old = Date.now() - 40 * 86_400_000;
    await store.audit.insertBatch([auditRow(1, old), auditRow(2, old), auditRow(3, Date.now())]);
    await store.audit.insertBatch([auditRow(3, Date.now()), auditRow(4, Date.now())]);
    expect(await store.audit.count('test')).toBe(4);
    const rows = await store.database.query<{ user_name: string; code: string | null; e2e_ns: string | number; changes: unknown }>(
      'SELECT user_name, code, e2e_ns, changes FROM audit_messages WHERE seq = 1 OR seq = 2 ORDER BY seq',
    );
    expect(rows[0]).toMatchObject({ user_name: 'viewer1', code: null, changes: [{ variable: 'hue', value: 0.5, version: 1, writer: 'v' }] });
    expect(Number(rows[0]?.e2e_ns)).toBe(90_001);
    expect(rows[1]).toMatchObject({ code: 'out_of_range', changes: null });
    expect(await store.audit.deleteOlderThan(Date.now() - 30 * 86_400_000)).toBe(2);
    expect(await store.audit.count()).toBe(2);
  });

  it('deletes a run with everything hanging off it', async () => {
    expect(await store.runs.delete('run-a')).toBe(true);
    expect(await store.intervals.count('run-a')).toBe(0);
    expect(await store.histograms.list('run-a')).toEqual([]);
    expect(await store.runs.delete('run-a')).toBe(false);
  });
});

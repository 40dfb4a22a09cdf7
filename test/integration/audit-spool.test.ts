// The audit spool on disk: a torn line is set aside (kept, counted, reported) and the rest
// replays; each database and each process has a spool of its own, and a dead process's spool
// is taken over by the next one, for the same database only. Real PostgreSQL behind the writer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, auditRowOf } from '../../src/main/lab/audit/audit-log';
import { createAuditLog } from '../../src/main/lab/audit/create-audit-log';
import { PgCopyAuditWriter } from '../../src/main/lab/audit/pg-copy-audit-writer';
import { claimSpool } from '../../src/main/lab/audit/spool-claim';
import { spoolKeyOf } from '../../src/main/lab/store/database-key';
import type { OutcomeRecord } from '../../src/main/lab/common/outcome-record';
import { quoteIdentifier } from '../../src/main/lab/store/pg-database';
import { Store } from '../../src/main/lab/store/store';
import { databaseUrl } from '../setup/services';

const folder = mkdtempSync(join(tmpdir(), 'cvlab-spool-'));
const schema = `cvlab_test_${Math.random().toString(36).slice(2, 10)}`;
let store: Store;

function record(index: number): OutcomeRecord {
  return { user: `viewer${index % 7}`, text: `hue=0.${index}`, atMs: Date.now(), outcome: { status: 'rejected', rejection: { code: 'cooldown', detail: 'too soon' }, timings: { validate: 1000 } } };
}

function spoolLines(source: string, from: number, to: number): string {
  let text = '';
  for (let seq = from; seq <= to; seq++) text += JSON.stringify(auditRowOf(record(seq), source, seq)) + '\n';
  return text;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  await admin.end();
  store = await Store.open({ databaseUrl: databaseUrl(), schema });
});

afterAll(async () => {
  await store?.close();
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
  rmSync(folder, { recursive: true, force: true });
});

describe('a torn spool line', () => {
  it('is set aside in a file of its own and counted; every whole row replays and new rows reach the table', async () => {
    const spoolPath = join(folder, 'torn.jsonl');
    const whole = spoolLines('torn-old', 1, 300);
    const cut = JSON.stringify(auditRowOf(record(301), 'torn-old', 301)).slice(0, 40);
    // A crash mid-append: the last line has no end.
    writeFileSync(spoolPath, whole + cut);
    const warnings: string[] = [];
    const log = new AuditLog({ writer: new PgCopyAuditWriter({ connectionString: databaseUrl(), schema }), spoolPath, source: 'torn-new', onWarning: (message) => warnings.push(message) });
    for (let index = 0; index < 500; index++) log.record(record(index));
    expect(await log.drain(20_000)).toBe(true);
    const counters = log.counters();
    expect(counters).toMatchObject({ setAside: 1, replayed: 300, written: 500, pending: 0, spoolBacklogBytes: 0 });
    expect(readFileSync(counters.setAsidePath, 'utf8')).toBe(cut + '\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/1 line could not be read back .*cut short.*kept in .*set-aside\.jsonl/);
    expect(await store.audit.count('torn-old')).toBe(300);
    expect(await store.audit.count('torn-new')).toBe(500);
    await log.close();
  });

  it('sets aside a garbage line in the middle and replays the rows on both sides of it', async () => {
    const spoolPath = join(folder, 'middle.jsonl');
    writeFileSync(spoolPath, spoolLines('middle', 1, 100) + '{"source":"middle","seq":\n' + 'not json at all\n' + spoolLines('middle', 101, 250));
    const log = new AuditLog({ writer: new PgCopyAuditWriter({ connectionString: databaseUrl(), schema }), spoolPath, source: 'middle-new', batchSize: 64 });
    log.record(record(1));
    expect(await log.drain(20_000)).toBe(true);
    expect(log.counters()).toMatchObject({ setAside: 2, replayed: 250, written: 1 });
    expect(await store.audit.count('middle')).toBe(250);
    expect(readFileSync(spoolPath, 'utf8')).toBe('');
    await log.close();
  });
});

describe('spools per database and per process', () => {
  it('keys the folder by the database without its password, and by schema', () => {
    expect(spoolKeyOf('postgres://bench:secret@db.local:5432/cvlab')).toBe(spoolKeyOf('postgres://bench:other@db.local:5432/cvlab'));
    expect(spoolKeyOf('postgres://bench@db.local:5432/cvlab')).not.toBe(spoolKeyOf('postgres://bench@db.local:5432/other'));
    expect(spoolKeyOf('postgres://bench@db.local/cvlab', 'a')).not.toBe(spoolKeyOf('postgres://bench@db.local/cvlab', 'b'));
    expect(spoolKeyOf(undefined)).not.toContain('secret');
  });

  it('gives two live claimants two spools, and a dead process’s spool to the next one', () => {
    const dir = join(folder, 'claims');
    const first = claimSpool(dir, 'db-a');
    const second = claimSpool(dir, 'db-a');
    expect(first.spoolPath).not.toBe(second.spoolPath);
    // A lock left by a process that has exited: its pid is dead.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, 'db-a', 'audit-spool-7.lock'), `${dead} 1\n`);
    const orphanRows = spoolLines('orphan', 1, 3);
    writeFileSync(join(dir, 'db-a', 'audit-spool-7.jsonl'), orphanRows);
    second.release();
    const third = claimSpool(dir, 'db-a');
    expect(third.spoolPath).toBe(second.spoolPath);
    expect(third.adopted).toEqual([join(dir, 'db-a', 'audit-spool-7.jsonl')]);
    expect(readFileSync(third.spoolPath, 'utf8')).toBe(orphanRows);
    expect(existsSync(join(dir, 'db-a', 'audit-spool-7.lock'))).toBe(false);
    // Another database's folder is never touched.
    const other = claimSpool(dir, 'db-b');
    expect(other.adopted).toEqual([]);
    first.release();
    third.release();
    other.release();
    expect(readdirSync(join(dir, 'db-a')).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });

  it('replays a spool only into the database it was written for', async () => {
    const spoolDir = join(folder, 'per-db');
    const unreachable = 'postgres://postgres:pw@127.0.0.1:1/nowhere';
    const down = createAuditLog({ databaseUrl: unreachable, spoolDir, retryIntervalMs: 50, writeTimeoutMs: 500 });
    for (let index = 0; index < 40; index++) down.record(record(index));
    expect(await down.drain(1_500)).toBe(false);
    await down.close(200);
    const downSpool = join(spoolDir, spoolKeyOf(unreachable), 'audit-spool-1.jsonl');
    expect(readFileSync(downSpool, 'utf8').trim().split('\n')).toHaveLength(40);
    // A log for the live database starts with an empty spool of its own and leaves the other alone.
    const live = createAuditLog({ databaseUrl: databaseUrl(), schema, spoolDir });
    live.record(record(1));
    expect(await live.drain(10_000)).toBe(true);
    expect(live.counters()).toMatchObject({ replayed: 0, written: 1 });
    await live.close();
    expect(readFileSync(downSpool, 'utf8').trim().split('\n')).toHaveLength(40);
    expect(await store.audit.count(down.source)).toBe(0);
  });
});

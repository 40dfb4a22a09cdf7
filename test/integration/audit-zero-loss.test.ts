// Zero audit loss: the project's own PostgreSQL (started here in a temp folder) is stopped in
// the middle of a run and started again; every outcome of the real pipeline ends up in the
// table exactly once (rows = accepted + rejected).
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import type { Outcome } from '../../src/shared/message';
import { AuditLog } from '../../src/main/lab/audit/audit-log';
import { PgCopyAuditWriter } from '../../src/main/lab/audit/pg-copy-audit-writer';
import { createPipeline } from '../../src/main/lab/engine/pipeline/chat-pipeline';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { Store } from '../../src/main/lab/store/store';
import { freePort } from '../setup/services';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'cvlab-zero-loss-'));
const dataDir = join(folder, 'data');
const asRoot = process.getuid?.() === 0;
let port = 0;
let url = '';

/** Runs a PostgreSQL tool, as the postgres user when this process is root (initdb refuses root). */
function command(tool: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', tool, ...args]] : [tool, args];
}

async function serverStart(): Promise<void> {
  const [file, args] = command('pg_ctl', ['-D', dataDir, '-l', join(folder, 'server.log'), '-o', `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start']);
  await run(file, args);
}

async function serverStop(): Promise<void> {
  const [file, args] = command('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  await run(file, args);
}

beforeAll(async () => {
  if (asRoot) {
    chmodSync(folder, 0o777);
    execFileSync('chown', ['postgres', folder]);
  }
  const [file, args] = command('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
  execFileSync(file, args, { stdio: 'ignore' });
  port = await freePort();
  await serverStart();
  url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const store = await Store.open({ databaseUrl: url });
  await store.close();
}, 60_000);

afterAll(async () => {
  await serverStop().catch(() => undefined);
  rmSync(folder, { recursive: true, force: true });
});

it('loses no audit row when the database stops and starts mid-run', async () => {
  const demo = await loadRig();
  const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: await freePort() } });
  const log = new AuditLog({
    writer: new PgCopyAuditWriter({ connectionString: url, statementTimeoutMs: 1_000 }),
    spoolPath: join(folder, 'spool.jsonl'),
    source: 'zero-loss',
    batchSize: 250,
    retryIntervalMs: 200,
  });
  const pipeline = await createPipeline(rig, { namespace: `cvlab-test-zero-loss-${process.pid}`, redisUrl: null, sink: log, tap: false });

  const total = 4_000;
  const outcomes: Promise<Outcome>[] = [];
  const phases: Promise<void>[] = [];
  const texts = ['hue=0.4', 'sat=80%', 'zoom=+0.1', 'hue=7', 'nonsense=1', 'shape=sine bright=0.2', '', 'invert=on'];
  for (let index = 0; index < total; index++) {
    outcomes.push(pipeline.process({ user: `viewer${index % 400}`, text: texts[index % texts.length]!, dueNs: process.hrtime.bigint() }));
    if (index === 1_200) phases.push(serverStop());
    if (index === 2_800) {
      await phases[0];
      expect(log.counters().spooled).toBeGreaterThan(0);
      phases.push(serverStart());
    }
    if (index % 40 === 39) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const results = await Promise.all(outcomes);
  await Promise.all(phases);
  const accepted = results.filter((outcome) => outcome.status === 'accepted').length;
  const rejected = results.filter((outcome) => outcome.status === 'rejected').length;
  expect(accepted).toBeGreaterThan(0);
  expect(rejected).toBeGreaterThan(0);

  expect(await log.drain(30_000)).toBe(true);
  const counters = log.counters();
  expect(counters).toMatchObject({ queued: total, dropped: 0, pending: 0, spoolBacklogBytes: 0 });
  expect(counters.spooled).toBeGreaterThan(0);
  expect(counters.replayed).toBe(counters.spooled);

  const store = await Store.open({ databaseUrl: url });
  const [row] = await store.database.query<{ rows: number; distinct: number; max: number }>(
    `SELECT count(*)::integer AS rows, count(DISTINCT seq)::integer AS distinct, max(seq)::integer AS max FROM audit_messages WHERE source = 'zero-loss'`,
  );
  expect(row).toEqual({ rows: accepted + rejected, distinct: accepted + rejected, max: total });
  await store.close();
  await pipeline.close();
  await log.close();
}, 60_000);

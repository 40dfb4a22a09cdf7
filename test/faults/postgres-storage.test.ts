// Storage faults against a private PostgreSQL (never the machine's own): crashed under an open
// transaction, crashed mid-run under an audited `cvlab run`, down at a run's end, down for 5 s
// under two audited runs at once, and a run's process SIGKILLed. Each asserts what was kept.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnreachableError } from '../../src/shared/exit-codes';
import type { RunSummary } from '../../src/shared/run';
import { createSyntheticRun } from '../fixtures/synthetic-run';
import { PgDatabase } from '../../src/main/lab/store/pg-database';
import { RunRecorder } from '../../src/main/lab/store/run-recorder';
import { Store } from '../../src/main/lab/store/store';
import { freePort } from '../setup/services';
import { startPrivatePostgres, waitFor, type PrivatePostgres } from '../setup/private-services';
import { CVLAB_CLI } from '../setup/cvlab-run';

const ROOT = resolve(__dirname, '../..');
const folder = mkdtempSync(join(tmpdir(), 'cvlab-fault-storage-'));
let server: PrivatePostgres;

interface CliResult {
  code: number | null;
  output: string;
}

/** `cvlab <args>` from the sources (what this commit does, not a stale build), with its own data folder. */
function cvlab(args: string[], dataFolder: string, onLine?: (line: string) => void): { done: Promise<CliResult>; pid: number } {
  const child = spawn(process.execPath, [join(ROOT, CVLAB_CLI), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_DATA_HOME: dataFolder, DATABASE_URL: '', FORCE_COLOR: '0' },
  });
  let output = '';
  const take = (chunk: Buffer): void => {
    const text = chunk.toString();
    output += text;
    if (onLine) for (const line of text.split('\n')) if (line) onLine(line);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return { pid: child.pid!, done: new Promise((done) => child.once('exit', (code) => done({ code, output }))) };
}

/** The demo rig on OSC ports of its own, so runs at once (and other tests) never share a port. */
async function writeRig(name: string): Promise<void> {
  const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as { osc: Record<string, unknown> };
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${name}-rig.json`), JSON.stringify({ ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() } }));
}

/** An audited run of `seconds` at `rate` messages/s into the private server; resolves with its summary. */
function auditedRun(name: string, seconds: number, rate: number, onLine?: (line: string) => void, sharedFolder?: string): { done: Promise<CliResult & { summary?: RunSummary }>; pid: number; dataFolder: string } {
  const dataFolder = join(folder, sharedFolder ?? name);
  const json = join(folder, `${name}-summary.json`);
  const rig = join(folder, `${name}-rig.json`);
  const run = cvlab(
    ['run', join(ROOT, 'resources/scenarios/sustained.json'), '--rig', rig, '--duration', `${seconds}s`, '--rate', String(rate), '--users', '500', '--database-url', server.url, '--audit', '--data-dir', join(dataFolder, 'cvlab', 'db'), '--json', json],
    dataFolder,
    onLine,
  );
  return {
    pid: run.pid,
    dataFolder,
    done: run.done.then((result) => {
      try {
        return { ...result, summary: JSON.parse(readFileSync(json, 'utf8')) as RunSummary };
      } catch {
        return result;
      }
    }),
  };
}

interface AuditTally {
  rows: number;
  distinct: number;
  maxSeq: number;
}

/** Rows, distinct seqs and the highest seq of each source in the audit table. */
function auditTally(): Map<string, AuditTally> {
  const text = server.psql('SELECT source, count(*), count(DISTINCT seq), max(seq) FROM audit_messages GROUP BY source');
  const tally = new Map<string, AuditTally>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [source = '', rows, distinct, maxSeq] = line.split('|');
    tally.set(source, { rows: Number(rows), distinct: Number(distinct), maxSeq: Number(maxSeq) });
  }
  return tally;
}

function runRow(id: string): { status: string; hasSummary: boolean; intervals: number } | undefined {
  const line = server.psql(`SELECT status, summary IS NOT NULL, (SELECT count(*) FROM run_intervals WHERE run_id = '${id}') FROM runs WHERE id = '${id}'`);
  if (!line) return undefined;
  const [status = '', hasSummary, intervals] = line.split('|');
  return { status, hasSummary: hasSummary === 't', intervals: Number(intervals) };
}

beforeAll(async () => {
  server = await startPrivatePostgres();
  // Tables first, so a crash never lands in the middle of the migrations.
  const store = await Store.open({ databaseUrl: server.url, journalDir: null });
  await store.close();
}, 120_000);

afterAll(async () => {
  await server?.remove();
  rmSync(folder, { recursive: true, force: true });
});

describe('PostgreSQL faults', () => {
  it('a transaction open when PostgreSQL crashes rejects in plain words; the process goes on', async () => {
    const database = new PgDatabase({ connectionString: server.url });
    const inFlight = database.transaction((transaction) => transaction.query('SELECT pg_sleep(20)'));
    const outcome = inFlight.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await waitFor(() => server.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") === '1', 'the sleeping transaction');
    await server.crash();
    const error = await outcome;
    expect(error).toBeInstanceOf(ServiceUnreachableError);
    expect((error as Error).message).toMatch(/^PostgreSQL at 127\.0\.0\.1:\d+ did not answer: /);
    await server.start();
    // The pool serves again once the server is back.
    expect(await database.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await database.close();
  }, 60_000);

  it('an audited run through a crash mid-run keeps every row: rows == messages, seq without gaps, summary saved', async () => {
    let progressLines = 0;
    await writeRig('crash-mid-run');
    const run = auditedRun('crash-mid-run', 8, 400, (line) => {
      if (/msg\/s/.test(line)) progressLines++;
    });
    await waitFor(() => progressLines >= 2, 'the run to be two seconds in', 60_000);
    await server.crash();
    // The outage lasts while the run goes on: a second of it with the database gone.
    const atCrash = progressLines;
    await waitFor(() => progressLines >= atCrash + 1, 'a second of the run with the database down', 60_000);
    await server.start();
    const result = await run.done;
    expect(result.output).not.toMatch(/Unhandled|Connection terminated unexpectedly\n\s+at /);
    expect(result.code === 0 || result.code === 1).toBe(true);
    const summary = result.summary!;
    expect(summary.completed).toBeGreaterThan(2_000);
    const tally = [...auditTally().values()];
    expect(tally).toHaveLength(1);
    expect(tally[0]).toEqual({ rows: summary.completed, distinct: summary.completed, maxSeq: summary.completed });
    expect(runRow(summary.run.id)).toMatchObject({ status: summary.passed ? 'passed' : 'failed', hasSummary: true });
    server.psql('TRUNCATE audit_messages');
  }, 120_000);

  it('PostgreSQL down at the end of a run: exit 3 in plain words, the summary kept and written once the database is back', async () => {
    let progressLines = 0;
    await writeRig('down-at-end');
    const run = auditedRun('down-at-end', 4, 200, (line) => {
      if (/msg\/s/.test(line)) progressLines++;
    });
    await waitFor(() => progressLines >= 2, 'the run to be two seconds in', 60_000);
    await server.stop();
    const result = await run.done;
    expect(result.code).toBe(3);
    expect(result.output).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+ did not answer/);
    expect(result.output).not.toMatch(/ECONNREFUSED/);
    expect(result.output).toMatch(/kept in .*journal.*run-.*\.json/);
    const summary = result.summary!;
    await server.start();
    // Not yet written: the process that ran it has gone.
    expect(runRow(summary.run.id)?.hasSummary ?? false).toBe(false);
    // The next open of this database (here `cvlab runs`) writes it before looking for dead runs.
    const listing = cvlab(['runs', '--database-url', server.url, '--data-dir', join(run.dataFolder, 'cvlab', 'db')], run.dataFolder);
    const listed = await listing.done;
    expect(listed.code, listed.output).toBe(0);
    expect(runRow(summary.run.id)).toMatchObject({ status: summary.passed ? 'passed' : 'failed', hasSummary: true });
    const journalFiles = readdirSync(join(run.dataFolder, 'cvlab', 'journal'), { recursive: true }).filter((name) => String(name).endsWith('.json'));
    expect(journalFiles).toEqual([]);
    // Rows of the run's last seconds waited in the spool; the audited rows are all there now or
    // still in the spool of this database, none lost: replay them with the next audited run.
    server.psql('TRUNCATE audit_messages');
  }, 120_000);

  it('the end of a run while the database is down is retried in-process and lands once it is back; never marked aborted', async () => {
    const store = await Store.open({ databaseUrl: server.url, journalDir: join(folder, 'retry-journal'), staleRunMs: 0 });
    const recorder = new RunRecorder(store, { finishRetryMs: 200 });
    const run = createSyntheticRun({ id: 'journaled-end', intervals: 8, messagesPerInterval: 10 });
    await recorder.start(run.info);
    for (const frame of run.frames.slice(0, 4)) recorder.frame(frame);
    await recorder.flush();
    await server.stop();
    for (const frame of run.frames.slice(4)) recorder.frame(frame);
    const outcome = await recorder.finish(run.summary);
    expect(outcome.saved).toBe(false);
    if (outcome.saved) return;
    expect(outcome.error).toBeInstanceOf(ServiceUnreachableError);
    expect(JSON.parse(readFileSync(outcome.journalPath!, 'utf8'))).toMatchObject({ runId: 'journaled-end', intervals: { length: 4 } });
    await server.start();
    await waitFor(() => recorder.unsavedRuns === 0, 'the journaled end to be written', 30_000);
    expect(runRow('journaled-end')).toEqual({ status: 'passed', hasSummary: true, intervals: 8 });
    // And an open with staleRunMs 0 leaves it as it is.
    const reopened = await Store.open({ databaseUrl: server.url, journalDir: join(folder, 'retry-journal'), staleRunMs: 0 });
    expect((await reopened.runs.get('journaled-end'))?.status).toBe('passed');
    await reopened.close();
    recorder.dispose();
    await store.close();
  }, 60_000);

  it('two audited runs at once through an outage of seconds: each source complete, no gaps in seq', async () => {
    server.psql('TRUNCATE audit_messages');
    // Each run's progress lines (one a second of its run), counted apart.
    const progress = { a: 0, b: 0 };
    const counter = (which: 'a' | 'b') => (line: string): void => {
      if (/msg\/s/.test(line)) progress[which]++;
    };
    await writeRig('concurrent-a');
    await writeRig('concurrent-b');
    // One data folder for both, as two terminals on one bench would have.
    const first = auditedRun('concurrent-a', 10, 300, counter('a'), 'concurrent');
    const second = auditedRun('concurrent-b', 10, 300, counter('b'), 'concurrent');
    await waitFor(() => progress.a >= 2 && progress.b >= 2, 'both runs to be under way', 60_000);
    await server.stop();
    // The outage lasts while both runs go on: two seconds of each with the database gone.
    const atStop = { ...progress };
    await waitFor(() => progress.a >= atStop.a + 2 && progress.b >= atStop.b + 2, 'two seconds of both runs with the database down', 120_000);
    await server.start();
    const [a, b] = await Promise.all([first.done, second.done]);
    for (const result of [a, b]) expect(result.summary, result.output).toBeDefined();
    const tally = auditTally();
    expect(tally.size).toBe(2);
    expect([...tally.values()].map((entry) => entry.rows).sort()).toEqual([a.summary!.completed, b.summary!.completed].sort());
    for (const entry of tally.values()) expect(entry).toEqual({ rows: entry.maxSeq, distinct: entry.maxSeq, maxSeq: entry.maxSeq });
    server.psql('TRUNCATE audit_messages');
  }, 180_000);

  it('a SIGKILLed run is marked aborted at the next open, its saved frames kept', async () => {
    let progress = 0;
    await writeRig('sigkill');
    const run = auditedRun('sigkill', 30, 200, (line) => {
      if (/msg\/s/.test(line)) progress++;
    });
    await waitFor(() => progress >= 3, 'the run to be three seconds in', 60_000);
    const runId = server.psql("SELECT id FROM runs WHERE status = 'running' ORDER BY started_at DESC LIMIT 1");
    expect(runId).not.toBe('');
    await waitFor(() => (runRow(runId)?.intervals ?? 0) >= 10, 'frames saved as the run goes', 30_000);
    process.kill(run.pid, 'SIGKILL');
    await run.done;
    const framesBeforeOpen = runRow(runId)!.intervals;
    const store = await Store.open({ databaseUrl: server.url, journalDir: null, staleRunMs: 0 });
    const saved = await store.runs.get(runId);
    expect(saved?.status).toBe('aborted');
    expect(await store.intervals.count(runId)).toBe(framesBeforeOpen);
    await store.close();
  }, 120_000);

  it('a database that does not answer at the start: exit 3 naming the server; a bad host names --database-url', async () => {
    const dataFolder = join(folder, 'unreachable');
    const refused = await cvlab(['runs', '--database-url', 'postgres://postgres@127.0.0.1:1/none', '--data-dir', join(dataFolder, 'db')], dataFolder).done;
    expect(refused.code).toBe(3);
    expect(refused.output).toMatch(/PostgreSQL at 127\.0\.0\.1:1 did not answer: nothing is listening on that port/);
    expect(refused.output).not.toMatch(/ECONNREFUSED/);
    const unknownHost = await cvlab(['runs', '--database-url', 'postgres://postgres@base.invalid/none', '--data-dir', join(dataFolder, 'db')], dataFolder).done;
    expect(unknownHost.code).toBe(3);
    expect(unknownHost.output).toMatch(/the host name "base\.invalid" does not resolve.*--database-url/);
    expect(unknownHost.output).not.toMatch(/getaddrinfo|ENOTFOUND/);
  }, 60_000);
});

// RunRecorder against the real store: a whole run saved as it goes, and a run whose process is
// SIGKILLed mid-run left saved as aborted with its intervals.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emitter } from '../../src/shared/emitter';
import type { RunFrame, RunInfo, RunSummary } from '../../src/shared/run';
import { createSyntheticRun } from '../fixtures/synthetic-run';
import { quoteIdentifier } from '../../src/main/lab/store/pg-database';
import { RunRecorder } from '../../src/main/lab/store/run-recorder';
import { Store, type StoreOptions } from '../../src/main/lab/store/store';
import { databaseUrl } from '../setup/services';
import { waitFor } from '../setup/wait-for';

const source = resolve(__dirname, '../../src');
const folder = mkdtempSync(join(tmpdir(), 'cvlab-recorder-'));
const schema = `cvlab_test_${Math.random().toString(36).slice(2, 10)}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  await client.query(sql);
  await client.end();
}

beforeAll(() => admin(`CREATE SCHEMA ${quoteIdentifier(schema)}`));
afterAll(async () => {
  await admin(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  rmSync(folder, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

describe('RunRecorder', () => {
  it('saves a run as it goes and closes it with summary, histograms and status', async () => {
    const store = await Store.open({ databaseUrl: databaseUrl(), schema });
    const start = new Emitter<RunInfo>();
    const frames = new Emitter<RunFrame>();
    const finish = new Emitter<RunSummary>();
    const recorder = new RunRecorder(store, { flushIntervalMs: 100 });
    const errors: Error[] = [];
    recorder.onDidFail((error) => errors.push(error));
    const subscription = recorder.attach({ onDidStartRun: start.event, onDidRunFrame: frames.event, onDidFinishRun: finish.event });
    const run = createSyntheticRun({ id: 'recorded', intervals: 12, messagesPerInterval: 50 });

    // The first frame can beat the start notice (controller.start resolves after it begins).
    frames.fire(run.frames[0]!);
    start.fire(run.info);
    for (const frame of run.frames.slice(1, 6)) frames.fire(frame);
    // Written progressively: half the frames are in before the run ends.
    await waitFor(async () => (await store.intervals.count('recorded')) >= 6, 'the first six frames to be saved');
    expect(await store.intervals.count('recorded')).toBe(6);
    expect((await store.runs.get('recorded'))?.status).toBe('running');

    for (const frame of run.frames.slice(6)) frames.fire(frame);
    // The controller's finish event starts the write; the caller awaits the same one.
    finish.fire(run.summary);
    await recorder.finish(run.summary);
    const saved = await store.runs.get('recorded');
    expect(saved).toMatchObject({ status: 'passed', intervalCount: 12, rig: 'demo', scenario: 'sustained' });
    expect(saved?.e2eP99Ms).toBeCloseTo(run.summary.stages.e2e!.p99 / 1e6, 6);
    expect(saved?.summary?.['histograms']).toBeUndefined();
    expect((await store.histograms.list('recorded')).map((histogram) => histogram.name)).toEqual(['e2e', 'validate']);
    expect(errors).toEqual([]);
    subscription.dispose();
    recorder.dispose();
    await store.close();
  });

  const backends: [string, StoreOptions][] = [
    ['PostgreSQL', { databaseUrl: databaseUrl(), schema }],
    ['PGlite', { dataDir: join(folder, 'pglite') }],
  ];

  it.each(backends)('leaves a SIGKILLed run saved as aborted with its intervals (%s)', async (_name, options) => {
    const child = join(folder, `child-${_name}.mts`);
    writeFileSync(
      child,
      `import { Store } from ${JSON.stringify(join(source, 'main/lab/store/store.ts'))};
import { RunRecorder } from ${JSON.stringify(join(source, 'main/lab/store/run-recorder.ts'))};
import { createSyntheticRun } from ${JSON.stringify(resolve(__dirname, '../fixtures/synthetic-run.ts'))};
const store = await Store.open(${JSON.stringify(options)});
const run = createSyntheticRun({ id: 'killed', intervals: 600, messagesPerInterval: 20 });
const recorder = new RunRecorder(store);
await recorder.start(run.info);
let next = 0;
setInterval(() => {
  const frame = run.frames[next];
  if (!frame) return;
  recorder.frame(frame);
  process.stdout.write('frame ' + next++ + '\\n');
}, 100);
`,
    );
    // node with tsx's loader directly: npx would add seconds of start-up on a busy machine.
    const process_ = spawn(process.execPath, ['--import', 'tsx', child], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DATABASE_URL: '' } });
    let lastFrame = -1;
    process_.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const match of chunk.matchAll(/frame (\d+)/g)) lastFrame = Number(match[1]);
    });
    let running = true;
    const exited = new Promise<void>((done) => process_.once('exit', () => done()));
    void exited.then(() => (running = false));
    // Wait for the condition (frames flowing and saved), never for a fixed time.
    const deadline = Date.now() + 90_000;
    while (running && Date.now() < deadline) {
      if (lastFrame >= 25) break;
      await sleep(100);
    }
    expect(lastFrame).toBeGreaterThanOrEqual(25);
    process_.kill('SIGKILL');
    await exited;
    const framesSent = lastFrame + 1;

    // An open that counts no heartbeat as stale leaves it `running`: a live run is never taken for dead.
    const store = await Store.open({ ...options, staleRunMs: 3_600_000 });
    expect((await store.runs.get('killed'))?.status).toBe('running');
    // The sweep an open runs, with every heartbeat counted as stale: aborted, intervals kept.
    // (Here on the same store: a second PGlite open costs many seconds on a busy machine.)
    expect(await store.runs.abortStale(Date.now(), 0)).toContain('killed');
    const aborted = await store.runs.get('killed');
    expect(aborted?.status).toBe('aborted');
    const saved = await store.intervals.count('killed');
    // Frames are flushed every 500 ms: only the last few before the kill can be missing
    // (a generous bound for a busy machine; the saved count can never exceed what was sent).
    expect(saved).toBeGreaterThanOrEqual(Math.max(1, framesSent - 30));
    expect(saved).toBeLessThanOrEqual(framesSent + 1);
    expect((await store.runs.list({ status: 'aborted' })).map((run) => run.id)).toContain('killed');
    await store.close();
  }, 150_000);
});

// ReportService over the real store (PostgreSQL in a private schema, and PGlite): what the
// Reports page and the CLI rely on.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportService } from '../../src/main/lab/report/report-service';
import { createSyntheticRun } from '../fixtures/synthetic-run';
import { quoteIdentifier } from '../../src/main/lab/store/pg-database';
import { RunRecorder } from '../../src/main/lab/store/run-recorder';
import { Store, type StoreOptions } from '../../src/main/lab/store/store';
import { databaseUrl } from '../setup/services';

const schema = `cvlab_test_${Math.random().toString(36).slice(2, 10)}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  await client.query(sql);
  await client.end();
}

beforeAll(() => admin(`CREATE SCHEMA ${quoteIdentifier(schema)}`));
afterAll(() => admin(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`));

describe.each<[string, () => StoreOptions]>([
  ['PostgreSQL', () => ({ databaseUrl: databaseUrl(), schema })],
  ['PGlite', () => ({ dataDir: 'memory' })],
])('ReportService on %s', (_name, options) => {
  let store: Store;
  let service: ReportService;
  const t0 = Date.now() - 3_600_000;

  async function save(id: string, scale: number, minutes: number, scenario = 'sustained'): Promise<void> {
    const run = createSyntheticRun({ id, scale, seed: minutes + 1, scenario, startedAtMs: t0 + minutes * 60_000, intervals: 60, messagesPerInterval: 100 });
    const recorder = new RunRecorder(store);
    await recorder.start(run.info);
    for (const frame of run.frames) recorder.frame(frame);
    await recorder.finish(run.summary);
    recorder.dispose();
  }

  beforeAll(async () => {
    store = await Store.open(options());
    service = new ReportService({ get: async () => store });
    await save('week-ago', 1, 0);
    await save('tonight', 1.3, 10);
    await save('other-scenario', 1, 5, 'burst');
  });
  afterAll(() => store?.close());

  it('lists and filters runs, newest first, and resolves "latest"', async () => {
    expect((await service.listRuns()).map((run) => run.id)).toEqual(['tonight', 'other-scenario', 'week-ago']);
    expect((await service.listRuns({ scenario: 'burst' })).map((run) => run.id)).toEqual(['other-scenario']);
    expect(await service.resolveRunId('latest')).toBe('tonight');
    await expect(service.getReport('nope')).rejects.toThrow(/No saved run has the id "nope"/);
  });

  it('keeps the lab notebook: notes and tags on runs and loop-back measurements, found by tag and words, in comparisons and exports', async () => {
    await service.addNote('run', 'latest', 'moved Redis to the NUC', ['redis-nuc']);
    await service.addNote('run', 'week-ago', 'old converter firmware', ['fw-1.0']);
    expect((await service.listRuns({ tag: 'redis-nuc' })).map((run) => run.id)).toEqual(['tonight']);
    expect((await service.listRuns({ text: 'FIRMWARE' })).map((run) => run.id)).toEqual(['week-ago']);
    expect((await service.listRuns({ text: '100%_' })).map((run) => run.id)).toEqual([]);
    const tonight = (await service.listRuns()).find((run) => run.id === 'tonight');
    expect(tonight?.notes?.map((note) => [note.text, note.tags])).toEqual([['moved Redis to the NUC', ['redis-nuc']]]);
    const comparison = await service.compare('tonight', 'week-ago');
    expect(comparison.candidate.notes?.[0]?.text).toBe('moved Redis to the NUC');
    expect(comparison.baseline.notes?.[0]?.text).toBe('old converter firmware');
    expect(JSON.parse(await service.exportJson('tonight')).notes[0].tags).toEqual(['redis-nuc']);
    await expect(service.addNote('run', 'nope', 'x')).rejects.toThrow(/No saved run "nope"/);
    await expect(service.addNote('run', 'tonight', '   ')).rejects.toThrow(/expected the note's text/);
    await expect(service.addNote('run', 'tonight', 'x', ['two words'])).rejects.toThrow(/expected a tag like/);
    // A loop-back measurement made alone, attached to a run later, with a note of its own.
    await store.loopback.save({ id: 'loopback-1', runId: null, rig: 'demo', startedAtMs: t0, summary: { sent: 10, matched: 10 } });
    await service.addNote('loopback', 'loopback-1', 'cable B', ['cable-b']);
    expect((await service.attachLoopback('loopback-1', 'tonight')).runId).toBe('tonight');
    const listed = (await service.listLoopback()).find((entry) => entry.id === 'loopback-1');
    expect(listed?.notes?.[0]?.text).toBe('cable B');
    const report = await service.getReport('tonight');
    expect(report.loopback.map((entry) => entry.id)).toContain('loopback-1');
    expect(report.notes?.map((note) => note.text)).toEqual(['moved Redis to the NUC', 'cable B']);
    await expect(service.attachLoopback('loopback-1', 'nope')).rejects.toThrow(/No saved run "nope"/);
  });

  it('exports JSON, CSV and HTML of a run', async () => {
    const json = JSON.parse(await service.exportJson('tonight')) as { run: { id: string }; intervals: unknown[]; histograms: { name: string; encoded: string }[] };
    expect(json.run.id).toBe('tonight');
    expect(json.intervals).toHaveLength(60);
    expect(json.histograms.map((histogram) => histogram.name)).toEqual(['e2e', 'validate']);
    expect((await service.exportCsv('tonight')).trimEnd().split('\n')).toHaveLength(61);
    expect(await service.exportHtml('tonight')).not.toContain('class="comparison"');
  });

  it('compares with the marked baseline: tonight is 30% slower than last week', async () => {
    await expect(service.compare('tonight')).rejects.toThrow(/No baseline is marked for rig "demo" and scenario "sustained"/);
    expect(await service.markBaseline('week-ago')).toEqual({ runId: 'week-ago', rig: 'demo', scenario: 'sustained' });
    const comparison = await service.compare('tonight');
    expect(comparison.baseline.id).toBe('week-ago');
    expect(comparison.verdict).toBe('regressed');
    expect(comparison.test.medianRatio).toBeGreaterThan(1.2);
    expect(await service.exportHtml('tonight')).toContain('class="comparison"');
    expect((await service.compare('week-ago', 'tonight')).verdict).toBe('improved');
  });

  it('gives the trend of a percentile over the last runs, oldest first', async () => {
    const trend = await service.trend({ rig: 'demo', scenario: 'sustained', percentile: 'p99' });
    expect(trend.map((point) => point.runId)).toEqual(['week-ago', 'tonight']);
    expect(trend[0]!.baseline).toBe(true);
    expect(trend[1]!.valueMs! / trend[0]!.valueMs!).toBeGreaterThan(1.15);
    expect(trend[0]!.samples).toBe(6_000);
    // What changed sits beside what moved: each point carries its run's notes (added above).
    expect(trend.map((point) => point.notes?.map((note) => note.text))).toEqual([['old converter firmware'], ['moved Redis to the NUC']]);
    expect(await service.trend({ rig: 'demo', scenario: 'sustained', limit: 1 })).toHaveLength(1);
  });

  it('deletes a run', async () => {
    expect(await service.deleteRun('other-scenario')).toBe(true);
    expect((await service.listRuns()).map((run) => run.id)).not.toContain('other-scenario');
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { freePort } from '../setup/services';
import { cvlabRun } from '../setup/cvlab-run';

let folder: string;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-run-cli-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify({ ...demo, osc: { host: '127.0.0.1', port: await freePort(), tapPort: await freePort() } }));
});
afterAll(() => rm(folder, { recursive: true, force: true }));


describe('cvlab run', () => {
  it('exits 1 on an impossible threshold and says which broke by how much', async () => {
    const scenarioPath = join(folder, 'impossible.json');
    const jsonPath = join(folder, 'impossible-summary.json');
    await writeFile(
      scenarioPath,
      JSON.stringify({ name: 'impossible', executor: { type: 'constant-arrival-rate', rate: 200, duration: '1s' }, thresholds: { 'e2e.p99': '<1us', 'errors.rate': '<1%' }, seed: 3 }),
    );
    const result = await cvlabRun([scenarioPath, '--rig', rigPath, '--json', jsonPath]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/threshold e2e\.p99 <1us FAILED: measured [\d.]+ (µs|ms), over the limit by [\d.]+ (µs|ms) \([\d.]+× the limit\), on \d+ samples/);
    expect(result.stdout).not.toMatch(/errors\.rate <1% FAILED/);
    expect(result.stdout).toMatch(/^FAILED$/m);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(summary.sent).toBe(200);
    expect(summary.thresholds.find((verdict) => verdict.key === 'e2e.p99')?.passed).toBe(false);
  });

  it('stops cleanly on Ctrl-C and still prints and writes the summary', async () => {
    const jsonPath = join(folder, 'interrupted.json');
    const result = await cvlabRun(['resources/scenarios/sustained.json', '--rig', rigPath, '--rate', '300', '--duration', '60s', '--json', jsonPath], 1000);
    expect(result.stderr).toMatch(/stopping: waiting for messages in flight/);
    expect(result.stdout).toMatch(/— stopped/);
    expect(result.stdout).toMatch(/^e2e\s+\d+/m);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(summary.stopReason).toBe('stopped');
    expect(summary.sent).toBeGreaterThan(100);
    expect(summary.sent).toBeLessThan(18_000);
    expect(summary.unaccounted).toBe(0);
    expect(summary.histograms.e2e).toMatch(/^[A-Za-z0-9+/=]+$/);
  });

  it('names each bad flag', async () => {
    const result = await cvlabRun(['resources/scenarios/burst.json', '--rig', rigPath, '--duration', 'soon', '--users', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--duration: expected a duration/);
    expect(result.stderr).toMatch(/--users: expected a whole number of at least 1/);
  });
});

// A run's report says where it was started: the Electron window, a browser console (cvlab serve)
// or the command line. The host comes from the Lab (or `cvlab run`), never from the request, so
// a browser console cannot pass itself off as the Electron window.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { RunStartOptions, RunSummary } from '../../src/shared/run';
import type { ScenarioInput } from '../../src/shared/scenario';
import { Lab } from '../../src/main/lab/lab';
import { cvlabRun } from '../setup/cvlab-run';
import { freePort } from '../setup/services';
import { waitFor } from '../setup/wait-for';

let folder: string;
let rig: RigConfig;
const scenario: ScenarioInput = { name: 'where-from', executor: { type: 'constant-arrival-rate', rate: 100, duration: '1s' }, seed: 5 };

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-run-host-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: await freePort() } });
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** Runs the scenario through a Lab of that host (with whatever the request claims) and returns its saved HTML. */
async function htmlOfLabRun(host: 'serve' | 'electron', request: Partial<RunStartOptions> = {}): Promise<string> {
  const lab = new Lab({ host, dataDir: join(folder, host) });
  try {
    const finished = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
    const info = await lab.startRun({ scenario, rig, ...request });
    await finished;
    // The console hears the end before the saving ends.
    await waitFor(async () => (await lab.listReports({})).some((entry) => entry.id === info.id && entry.status !== 'running'), 'the run saved', 60_000);
    return (await lab.exportReport(info.id, 'html')).text;
  } finally {
    await lab.dispose();
  }
}

describe('where a run was started', () => {
  it('says "a browser console (cvlab serve)" for a run started through serve, even when the request claims to be Electron', async () => {
    const html = await htmlOfLabRun('serve', { host: 'electron' } as Partial<RunStartOptions>);
    expect(html).toContain('<td>Started from</td><td>a browser console (cvlab serve)</td>');
    expect(html).toMatch(/ · from a browser console \(cvlab serve\)<\/div><\/header>/);
    expect(html).not.toMatch(/Electron/);
  }, 120_000);

  it('says "the Electron window" for a run the Electron shell started', async () => {
    const html = await htmlOfLabRun('electron');
    expect(html).toContain('<td>Started from</td><td>the Electron window');
  }, 120_000);

  it('says "the command line (cvlab run)" for cvlab run', async () => {
    const rigPath = join(folder, 'rig.json');
    const scenarioPath = join(folder, 'scenario.json');
    const htmlPath = join(folder, 'cli.html');
    await writeFile(rigPath, JSON.stringify(rig));
    await writeFile(scenarioPath, JSON.stringify(scenario));
    const { code, stderr } = await cvlabRun([scenarioPath, '--rig', rigPath, '--data-dir', join(folder, 'cli-db'), '--report', htmlPath]);
    expect(code, stderr).toBe(0);
    expect(await readFile(htmlPath, 'utf8')).toContain('<td>Started from</td><td>the command line (cvlab run)</td>');
  }, 120_000);
});

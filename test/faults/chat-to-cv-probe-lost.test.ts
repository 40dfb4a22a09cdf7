import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { EmulatorChild } from '../../src/main/lab/loopback/emulator-child';
import { spawnCvlab } from '../setup/cvlab-run';
import { freePort } from '../setup/services';
import { waitFor } from '../setup/wait-for';

// The probe's cable is pulled (its socat killed) while a load run times chat → CV: the load run
// goes on to its end, and the CV edges measured up to then are kept, marked partial.

let folder: string;
let emulator: EmulatorChild;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-cv-lost-'));
});
afterAll(async () => {
  await emulator?.close();
  await rm(folder, { recursive: true, force: true });
});

describe('chat → CV when the probe goes away mid-run', () => {
  it('finishes the load run and keeps the edges measured before, saying why the rest are missing', async () => {
    const oscPort = await freePort();
    emulator = await EmulatorChild.start({ oscPort, address: '/lzx/proc/invert', link: join(folder, 'probe'), delayMs: 2, serialJitterMs: 1 });
    const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
    const rigPath = join(folder, 'rig.json');
    await writeFile(rigPath, JSON.stringify({ ...demo, name: 'cv-lost', osc: { host: '127.0.0.1', port: oscPort } }));
    const scenarioPath = join(folder, 'scenario.json');
    await writeFile(scenarioPath, JSON.stringify({ name: 'cv-lost', executor: { type: 'constant-arrival-rate', rate: 100, duration: '8s' }, probe: { rateHz: 4 }, seed: 3 }));
    const jsonPath = join(folder, 'summary.json');
    const run = spawnCvlab(['run', scenarioPath, '--rig', rigPath, '--serial', emulator.hostPath, '--no-save', '--json', jsonPath]);
    // Pull the cable once a few edges are in.
    await waitFor(() => /CV edges [3-9]\d* matched/.test(run.stderr()), 'a few CV edges matched', 60_000);
    process.kill(emulator.linkPid, 'SIGTERM');
    const { code, stdout } = await run.exited;
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(code).toBe(summary.passed ? 0 : 1);
    expect(summary.stopReason).toBe('completed');
    expect(summary.sent).toBe(800 + 32);
    const cv = summary.chatToCv;
    expect(cv?.problem).toMatch(/closed|disappeared|silent/);
    expect(cv?.matched).toBeGreaterThanOrEqual(3);
    expect(cv?.matched).toBeLessThan(32);
    expect(summary.stages.cv?.count).toBe(cv?.matched);
    expect(stdout).toMatch(/PARTIAL: .*; the edges up to then are kept/);
  }, 120_000);
});

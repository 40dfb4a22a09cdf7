// What a multi-instance and a fan-out run tell a console while they go on: the instances (share,
// counts, state) and the propagation stage so far; the subscribers and the fan-out stage so far.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { RunProgress, RunSummary } from '../../src/shared/run';
import type { ScenarioInput } from '../../src/shared/scenario';
import { Lab } from '../../src/main/lab/lab';
import { freePort, redisUrl } from '../setup/services';

let folder: string;
let rig: RigConfig;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-run-kind-progress-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as { variables: Record<string, unknown>[] } & Record<string, unknown>;
  rig = RigSchema.parse({
    ...demo,
    osc: { host: '127.0.0.1', port: await freePort() },
    limiter: { userRate: 1e6, userBurst: 1e6, globalRate: 1e6, globalBurst: 1e6 },
    variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
  });
});
afterAll(() => rm(folder, { recursive: true, force: true }));

const scenario: ScenarioInput = {
  name: 'live-kind',
  executor: { type: 'constant-arrival-rate', rate: 200, duration: '3s' },
  traffic: { users: 100, mix: { valid: 100 } },
  seed: 3,
};

/** Runs a scenario through a console's Lab and keeps every progress event. */
async function runCollecting(input: ScenarioInput, runRig: RigConfig): Promise<{ progress: RunProgress[]; summary: RunSummary }> {
  const lab = new Lab({ host: 'serve', dataDir: join(folder, input.name), stores: null });
  const progress: RunProgress[] = [];
  try {
    lab.onDidRunProgress((event) => progress.push(event));
    const finished = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
    await lab.startRun({ scenario: input, rig: runRig });
    return { progress, summary: await finished };
  } finally {
    await lab.dispose();
  }
}

describe('a run kind, live', () => {
  it('multi-instance: each instance with its share, counts and state, and the propagation so far', async () => {
    const { progress, summary } = await runCollecting({ ...scenario, name: 'live-multi', multiInstance: { instances: 2, heartbeatTimeout: '5s' } }, { ...rig, redisUrl: redisUrl() });
    const withInstances = progress.filter((event) => event.instances && event.instances.length === 2);
    expect(withInstances.length).toBeGreaterThan(0);
    const last = withInstances.at(-1) as RunProgress;
    expect(last.instances?.map((instance) => `${instance.index}/${instance.count}`).sort()).toEqual(['0/2', '1/2']);
    expect(last.instances?.filter((instance) => instance.sendsOsc)).toHaveLength(1);
    expect(last.instances?.reduce((total, instance) => total + instance.sent, 0)).toBeGreaterThan(0);
    expect(progress.some((event) => (event.propagation?.count ?? 0) > 0)).toBe(true);
    expect(summary.passed === true || summary.passed === false).toBe(true);
  }, 120_000);

  it('fan-out: the subscribers and the fan-out stage so far', async () => {
    const { progress } = await runCollecting({ ...scenario, name: 'live-fanout', fanout: { subscribers: 20 } }, rig);
    const withFanout = progress.filter((event) => event.fanout !== undefined);
    expect(withFanout.length).toBeGreaterThan(0);
    expect(withFanout.at(-1)?.fanout?.subscribers).toBe(20);
    expect(withFanout.some((event) => (event.fanout?.latency?.count ?? 0) > 0)).toBe(true);
  }, 120_000);
});

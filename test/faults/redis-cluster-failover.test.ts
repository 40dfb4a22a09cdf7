// The master that serves a run's slot is killed while two instances commit: with a replica, the
// replica takes over; without one, the slot is down until the master is started again. Either
// way every message gets exactly one outcome, the store says in plain words which node and slot
// failed, says when the slot is served again, and no commit is applied after it was decided in
// process (lateApplied).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Assignment } from '../../src/shared/message';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import { namespaceKeys } from '../../src/main/lab/engine/pipeline/redis-state-store';
import { createStateStore, type CommitResult, type DegradedState, type StateStore } from '../../src/main/lab/engine/pipeline/state-store';
import { slotOfKey } from '../../src/main/lab/common/redis-target';
import { startPrivateCluster, type PrivateCluster } from '../setup/private-cluster';
import { waitFor } from '../setup/wait-for';
import { freePort } from '../setup/services';
import { CVLAB_CLI } from '../setup/cvlab-run';
import type { RunSummary } from '../../src/shared/run';

const ROOT = resolve(__dirname, '../..');

const set = (variable: string, value: number): Assignment => ({ variable, spec: { kind: 'absolute', value }, raw: String(value) });

const rig: RigConfig = RigSchema.parse({
  name: 'cluster-failover',
  osc: { port: 9000 },
  limiter: { userRate: 1000, userBurst: 1000, globalRate: 100_000, globalBurst: 100_000 },
  variables: [{ name: 'hue', address: '/hue', kind: 'float', min: 0, max: 1, default: 0.5, out: { min: 0, max: 1, unit: 'V' } }],
});

let cluster: PrivateCluster | undefined;
afterEach(async () => {
  await cluster?.remove();
  cluster = undefined;
});

/** Two instances commit in small batches until stopped; every result is kept. */
function drive(stores: readonly StateStore[]): { results: CommitResult[]; sent: () => number; stop: () => Promise<void> } {
  const results: CommitResult[] = [];
  let sent = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const batch = Array.from({ length: 8 }, (_unused, index) => (stores[index % stores.length] as StateStore).commit(`viewer${sent + index}`, [set('hue', ((sent + index) % 100) / 100)]));
      sent += batch.length;
      results.push(...(await Promise.all(batch)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    results,
    sent: () => sent,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function openStores(url: string, namespace: string): Promise<{ stores: StateStore[]; states: DegradedState[][] }> {
  const stores = [await createStateStore(rig, { redisUrl: url, namespace, instanceId: 'a' }), await createStateStore(rig, { redisUrl: url, namespace, instanceId: 'b' })];
  const states = stores.map((store) => {
    const seen: DegradedState[] = [];
    store.onDidChangeDegraded?.((state) => seen.push(state));
    return seen;
  });
  return { stores, states };
}

describe('Redis Cluster: the run slot master is killed mid-run', () => {
  it('with a replica: degraded naming the node and slot, recovered once the replica serves the slot, every message accounted for', async () => {
    cluster = await startPrivateCluster({ masters: 3, replicas: 1 });
    const namespace = `failover-${randomUUID()}`;
    const stateKey = namespaceKeys(namespace).state;
    const slot = slotOfKey(stateKey);
    const master = await cluster.masterOf(stateKey);
    const { stores, states } = await openStores(cluster.url, namespace);
    const load = drive(stores);
    try {
      await waitFor(() => load.results.filter((result) => result.ok).length >= 100, '100 commits through Redis before the kill');
      expect(stores.map((store) => store.counters().fallbacks)).toEqual([0, 0]);
      await cluster.kill(master);
      await waitFor(() => states.some((seen) => seen.some((state) => state.degraded)), 'a store to say it is degraded', 30_000);
      await waitFor(async () => (await cluster?.masterOf(stateKey).catch(() => master)) !== master, 'the replica to take over the slot', 60_000, 200);
      const promoted = await cluster.masterOf(stateKey);
      await waitFor(() => states.every((seen) => seen.length > 0 && seen[seen.length - 1]?.degraded === false), 'both stores to say the slot is served again', 60_000);
      const afterRecovery = load.results.length;
      await waitFor(() => load.results.length >= afterRecovery + 100, '100 more commits after the recovery');
      await load.stop();

      const degradedWords = states.flatMap((seen) => seen.filter((state) => state.degraded).map((state) => state.reason));
      for (const words of degradedWords) {
        expect(words).toMatch(new RegExp(`(${master.replace(/\./g, '\\.')}.*slot ${slot}|slot ${slot}.*${master.replace(/\./g, '\\.')}|Redis Cluster at .* is not connected)`));
        expect(words).not.toMatch(/did not answer in time/);
      }
      expect(states.flatMap((seen) => seen.filter((state) => !state.degraded).map((state) => state.reason))).toContain(`slot ${slot} (the run's keys) is served again, by ${promoted}`);
      // Every message has exactly one outcome; none was applied by Redis after it was decided in process.
      expect(load.results).toHaveLength(load.sent());
      for (const store of stores) expect(store.counters().lateApplied).toBe(0);
      // After the recovery the commits go to Redis again (the last ones are not fallbacks).
      const fallbacks = stores.map((store) => store.counters().fallbacks);
      const more = await Promise.all(stores.map((store, index) => store.commit(`late${index}`, [set('hue', 0.5)])));
      expect(more.every((result) => result.ok)).toBe(true);
      expect(stores.map((store) => store.counters().fallbacks)).toEqual(fallbacks);
    } finally {
      await load.stop();
      await Promise.all(stores.map((store) => store.close({ purge: true })));
    }
  }, 180_000);

  it('without a replica: degraded until the master is started again, then back on Redis', async () => {
    cluster = await startPrivateCluster({ masters: 3, replicas: 0 });
    const namespace = `down-${randomUUID()}`;
    const stateKey = namespaceKeys(namespace).state;
    const slot = slotOfKey(stateKey);
    const master = await cluster.masterOf(stateKey);
    const { stores, states } = await openStores(cluster.url, namespace);
    const load = drive(stores);
    try {
      await waitFor(() => load.results.filter((result) => result.ok).length >= 100, '100 commits through Redis before the kill');
      await cluster.kill(master);
      await waitFor(() => states.every((seen) => seen.some((state) => state.degraded)), 'both stores to say they are degraded', 30_000);
      // Degraded for a while: messages are decided in process (the slot has no server).
      const whileDown = stores.map((store) => store.counters().fallbacks);
      await waitFor(() => stores.every((store, index) => store.counters().fallbacks > (whileDown[index] ?? 0) + 20), 'messages decided in process while the slot is down');
      await cluster.restart(master);
      await cluster.waitHealthy(60_000);
      await waitFor(() => states.every((seen) => seen[seen.length - 1]?.degraded === false), 'both stores to say the slot is served again', 60_000);
      const afterRecovery = load.results.length;
      await waitFor(() => load.results.length >= afterRecovery + 100, '100 more commits after the recovery');
      await load.stop();

      const degradedWords = states.flatMap((seen) => seen.filter((state) => state.degraded).map((state) => state.reason));
      for (const words of degradedWords) {
        expect(words).toMatch(new RegExp(`slot ${slot}|Redis Cluster at .* is not connected`));
        expect(words).not.toMatch(/did not answer in time/);
      }
      expect(degradedWords.some((words) => words.includes(master))).toBe(true);
      expect(load.results).toHaveLength(load.sent());
      for (const store of stores) expect(store.counters().lateApplied).toBe(0);
      const fallbacks = stores.map((store) => store.counters().fallbacks);
      const more = await Promise.all(stores.map((store, index) => store.commit(`late${index}`, [set('hue', 0.5)])));
      expect(more.every((result) => result.ok)).toBe(true);
      expect(stores.map((store) => store.counters().fallbacks)).toEqual(fallbacks);
    } finally {
      await load.stop();
      await Promise.all(stores.map((store) => store.close({ purge: true })));
    }
  }, 180_000);

  it('under `cvlab run`: the master of the run slot killed mid-run is survived and reported in plain words', async () => {
    cluster = await startPrivateCluster({ masters: 3, replicas: 1 });
    const folder = mkdtempSync(join(tmpdir(), 'cvlab-fault-cluster-'));
    try {
      const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as { osc: Record<string, unknown> };
      const rigPath = join(folder, 'rig.json');
      writeFileSync(rigPath, JSON.stringify({ ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() } }));
      const scenarioPath = join(folder, 'cluster-failover.json');
      writeFileSync(scenarioPath, JSON.stringify({ name: 'cluster-failover', executor: { type: 'constant-arrival-rate', rate: 200, duration: '10s' }, seed: 5 }));
      const jsonPath = join(folder, 'summary.json');
      const child = spawn(process.execPath, [join(ROOT, CVLAB_CLI), 'run', scenarioPath, '--rig', rigPath, '--redis', cluster.url, '--no-save', '--json', jsonPath], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      });
      let output = '';
      let master: Promise<string> | undefined;
      let killed: Promise<void> | undefined;
      const take = (chunk: Buffer): void => {
        output += chunk.toString();
        // The run's id names its namespace (run-<id>), whose hash tag names its slot.
        const runId = /cvlab run (\S+):/.exec(output)?.[1];
        if (runId && !master) master = (cluster as PrivateCluster).masterOf(`cvlab:{run-${runId}}:state`);
        if (master && !killed && /^\d+\.\ds\//m.test(output)) killed = master.then((address) => (cluster as PrivateCluster).kill(address));
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const code = await new Promise<number | null>((done) => child.once('exit', done));
      await killed;
      const killedMaster = await master;
      expect(killed).toBeDefined();
      const summary = JSON.parse(readFileSync(jsonPath, 'utf8')) as RunSummary;
      const slot = slotOfKey(`cvlab:{${summary.run.namespace}}:state`);
      expect(output).toMatch(new RegExp(`DEGRADED at \\d+\\.\\d s: Redis Cluster node ${killedMaster?.replace(/\./g, '\\.')}, master of slot ${slot} \\(the run's keys\\), (does not answer|did not answer within)`));
      expect(output).toMatch(new RegExp(`recovered at \\d+\\.\\d s: slot ${slot} \\(the run's keys\\) is served again, by 127\\.0\\.0\\.1:\\d+`));
      expect(output).not.toMatch(/did not answer in time/);
      expect(summary.degradedIntervals?.[0]?.reason).toContain(`slot ${slot}`);
      expect(summary.degradedIntervals?.[0]?.toMs).toBeGreaterThan(summary.degradedIntervals?.[0]?.fromMs ?? Infinity);
      // Survived: every planned message was sent and has its outcome.
      expect(summary.sent).toBe(2000);
      expect(summary.unaccounted).toBe(0);
      expect(code === 0 || code === 1).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 180_000);
});

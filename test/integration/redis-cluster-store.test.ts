// The Redis state store on a private 3-master Redis Cluster: the commit script, the lease and the
// global cap on the run's slot whichever master serves it, sharded pub/sub between instances, a
// plain redis:// URL of a node detected as a Cluster, and ioredis's own words replaced by plain ones.
import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Assignment } from '../../src/shared/message';
import { RigSchema, type RigConfig, type RigInput } from '../../src/shared/rig';
import { namespaceKeys } from '../../src/main/lab/engine/pipeline/redis-state-store';
import { createStateStore, type RemoteChange, type StateStore } from '../../src/main/lab/engine/pipeline/state-store';
import { describeRedisFailure, parseRedisTarget, resolveRedisTarget } from '../../src/main/lab/common/redis-target';
import { checkRedisAnswers } from '../../src/main/lab/session/redis-preflight';
import { runDoctor } from '../../src/main/lab/doctor';
import { ResourceUnavailableError } from '../../src/shared/exit-codes';
import { startPrivateCluster, type PrivateCluster } from '../setup/private-cluster';
import { waitFor } from '../setup/wait-for';

const set = (variable: string, value: number): Assignment => ({ variable, spec: { kind: 'absolute', value }, raw: String(value) });

function rigWith(limiter: RigInput['limiter']): RigConfig {
  return RigSchema.parse({
    name: 'cluster-test',
    osc: { port: 9000 },
    limiter,
    variables: [
      { name: 'hue', address: '/hue', kind: 'float', min: 0, max: 1, default: 0.5, out: { min: 0, max: 1, unit: 'V' } },
      { name: 'rotate', address: '/rotate', kind: 'int', min: -10, max: 10, default: 0, out: { min: -1, max: 1, unit: 'V' } },
    ],
  } satisfies RigInput);
}
const GENEROUS = { userRate: 1000, userBurst: 1000, globalRate: 10_000, globalBurst: 10_000 };

let cluster: PrivateCluster;
/** One namespace whose slot each master serves: the run's slot may land on any of them. */
const namespaceOnMaster = new Map<string, string>();

beforeAll(async () => {
  cluster = await startPrivateCluster({ masters: 3 });
  for (let attempt = 0; namespaceOnMaster.size < 3 && attempt < 200; attempt++) {
    const namespace = `cluster-${randomUUID()}`;
    const master = await cluster.masterOf(namespaceKeys(namespace).state);
    if (![...namespaceOnMaster.values()].includes(master)) namespaceOnMaster.set(namespace, master);
  }
});
afterAll(async () => {
  await cluster?.remove();
});

async function open(rig: RigConfig, namespace: string, url = cluster.url, instanceId: string = randomUUID()): Promise<StateStore> {
  return createStateStore(rig, { redisUrl: url, namespace, instanceId });
}

describe('RedisStateStore on a Redis Cluster', () => {
  it('finds a namespace on each of the three masters', () => {
    expect(new Set(namespaceOnMaster.values()).size).toBe(3);
  });

  it('commits, publishes by sharded pub/sub and holds the global cap on the run slot whichever master serves it', async () => {
    for (const [namespace, master] of namespaceOnMaster) {
      const rig = rigWith({ userRate: 1000, userBurst: 1000, globalRate: 0.01, globalBurst: 20 });
      const stores = [await open(rig, namespace, cluster.url, 'a'), await open(rig, namespace, cluster.url, 'b')];
      const received: RemoteChange[] = [];
      stores[1]?.onDidChange((change) => received.push(change));
      try {
        let accepted = 0;
        let refusedGlobal = 0;
        const results = await Promise.all(Array.from({ length: 60 }, (_unused, index) => (stores[index % 2] as StateStore).commit(`viewer${index}`, [set('hue', (index % 10) / 10)])));
        for (const result of results) {
          if (result.ok) accepted++;
          else if (result.rejection.code === 'rate_limited_global') refusedGlobal++;
        }
        // The global bucket holds 20 and refills once in 100 s: exactly 20 across both instances.
        expect({ master, accepted, refusedGlobal }).toEqual({ master, accepted: 20, refusedGlobal: 40 });
        for (const store of stores) expect(store.counters()).toEqual({ fallbacks: 0, redisErrors: 0, lateApplied: 0 });
        const fromA = results.filter((result, index) => result.ok && index % 2 === 0).length;
        await waitFor(() => received.length >= fromA, `the ${fromA} changes of instance a at instance b (sharded pub/sub)`, 10_000, 10);
        expect(received.every((change) => change.instanceId === 'a')).toBe(true);
        const versions = results.flatMap((result) => (result.ok ? result.changes.map((change) => change.version) : []));
        expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_unused, index) => index + 1));
      } finally {
        await stores[0]?.close({ purge: true });
        await stores[1]?.close({ purge: true });
      }
      // Nothing of the namespace is left on its master.
      const [host, port] = master.split(':') as [string, string];
      const node = new Redis({ host, port: Number(port) });
      expect(await node.keys(`${namespaceKeys(namespace).prefix}*`)).toEqual([]);
      node.disconnect();
    }
  });

  it("sends the commits of one event-loop turn to the run slot's master in one write", async () => {
    const [namespace] = [...namespaceOnMaster.keys()] as [string];
    const store = await open(rigWith({ userRate: 1000, userBurst: 1000, globalRate: 10_000, globalBurst: 10_000 }), namespace);
    try {
      // The first commit reads TIME from the slot's master; the ones below go out in the turn they are made.
      expect(await store.commit('warm', [set('hue', 0.1)])).toMatchObject({ ok: true });
      const gathered = vi.spyOn(Socket.prototype, '_writev');
      const single = vi.spyOn(Socket.prototype, '_write');
      try {
        const commits = Promise.all(Array.from({ length: 10 }, (_unused, index) => store.commit(`viewer${index}`, [set('hue', index / 10)])));
        await new Promise((resolve) => setImmediate(resolve));
        expect({ gathered: gathered.mock.calls.length, single: single.mock.calls.length }).toEqual({ gathered: 1, single: 0 });
        expect((await commits).every((result) => result.ok)).toBe(true);
      } finally {
        gathered.mockRestore();
        single.mockRestore();
      }
    } finally {
      await store.close({ purge: true });
    }
  });

  it('detects a plain redis:// URL of a node as a Cluster and just works, on a slot that node does not serve', async () => {
    const [namespace, master] = [...namespaceOnMaster.entries()][0] as [string, string];
    const other = cluster.nodes.find((node) => node.address !== master)?.address as string;
    const target = await resolveRedisTarget(`redis://${other}`);
    expect(target).toMatchObject({ cluster: true, url: `redis+cluster://${other}`, shardedPubSub: true });
    const store = await open(rigWith(GENEROUS), namespace, `redis://${other}`);
    try {
      expect(await store.commit('alice', [set('hue', 0.25)])).toMatchObject({ ok: true, changes: [{ variable: 'hue', version: 1 }] });
      expect(store.counters().fallbacks).toBe(0);
      expect(await store.roundTripMs()).toBeGreaterThan(0);
    } finally {
      await store.close({ purge: true });
    }
  });

  it('says in plain words what a MOVED reply means, never "did not answer"', async () => {
    const [namespace, master] = [...namespaceOnMaster.entries()][0] as [string, string];
    const other = cluster.nodes.find((node) => node.address !== master)?.address as string;
    const [host, port] = other.split(':') as [string, string];
    const plain = new Redis({ host, port: Number(port), maxRetriesPerRequest: 0 });
    const error = await plain.get(namespaceKeys(namespace).state).catch((caught: unknown) => caught);
    plain.disconnect();
    const words = describeRedisFailure(error, { target: parseRedisTarget(`redis://${other}`) });
    expect(words).toBe(`${other} is a Redis Cluster node (it sent slot ${/MOVED (\d+)/.exec(String(error))?.[1]} to ${master}); use redis+cluster://${other}`);
  });

  it('reads redis+cluster:// URLs with several seeds, credentials and TLS, and refuses bad ones by name', () => {
    expect(parseRedisTarget('redis+cluster://user:p%40ss@10.0.0.1:7000,10.0.0.2:7001')).toMatchObject({
      cluster: true,
      seeds: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
      nodeOptions: { username: 'user', password: 'p@ss' },
      address: '10.0.0.1:7000,10.0.0.2:7001',
    });
    expect(parseRedisTarget('rediss+cluster://h:7000').nodeOptions.tls).toEqual({});
    expect(parseRedisTarget('redis://127.0.0.1:6380/2')).toMatchObject({ cluster: false, nodeOptions: { db: 2 }, address: '127.0.0.1:6380' });
    expect(() => parseRedisTarget('redis://a:1,b:2')).toThrow(/several hosts are only for a Redis Cluster/);
    expect(() => parseRedisTarget('redis+cluster://h:99999')).toThrow(/"h:99999" is not host:port/);
    expect(() => parseRedisTarget('redis+cluster://h:7000/3')).toThrow(/only database 0/);
  });

  it('doctor reports the Cluster: masters with their slots, replicas, slots served, where announcements go', async () => {
    const checks = await runDoctor({ ...rigWith(GENEROUS), redisUrl: cluster.url });
    const redis = checks.find((check) => check.name === 'Redis');
    expect(redis?.ok).toBe(true);
    expect(redis?.detail).toContain('16384 of 16384 slots served, 3 masters and 0 replicas');
    expect(redis?.detail).toContain('cluster_state:ok');
    expect(redis?.detail).toMatch(/multi-instance announcements use slot \d+ on 127\.0\.0\.1:\d+/);
    for (const node of cluster.nodes) expect(redis?.detail).toContain(node.address);
    const preflight = await checkRedisAnswers(`redis://${cluster.nodes[1]?.address}`);
    expect(preflight).toMatchObject({ cluster: true, shardedPubSub: true });
  });

  // Last: it leaves the Cluster without a master.
  it('a Cluster that serves not every slot is refused before a run, and doctor says how many slots are served', async () => {
    const victim = cluster.nodes[2]?.address as string;
    await cluster.kill(victim);
    const survivor = cluster.nodes[0]?.address as string;
    await waitFor(async () => (await cluster.cli(survivor, 'cluster', 'info')).includes('cluster_state:fail'), 'the Cluster to notice the lost master', 30_000, 100);
    const refused = await checkRedisAnswers(cluster.url).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ResourceUnavailableError);
    expect((refused as Error).message).toMatch(/answers but is not serving \(cluster_state:fail, \d+ of 16384 slots served, as 127\.0\.0\.1:\d+ says\)/);
    const redis = (await runDoctor({ ...rigWith(GENEROUS), redisUrl: `redis://${survivor}` })).find((check) => check.name === 'Redis');
    expect(redis?.ok).toBe(false);
    expect(redis?.detail).toMatch(/cluster_state:fail/);
    expect(redis?.detail).toContain('Not every slot is served');
  });
});

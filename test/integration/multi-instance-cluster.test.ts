// Three instances (agents in processes of their own) on a private 3-master Redis Cluster: the run's
// slot is put on each master in turn (the run id decides the namespace, and so the slot), and the
// global cap holds exactly across the instances every time; state changes reach the other
// instances by sharded pub/sub; the run's keys are removed from whichever master held them.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { ScenarioSchema } from '../../src/shared/scenario';
import { controlChannel } from '../../src/main/lab/multi/agent-protocol';
import { runMultiInstance } from '../../src/main/lab/multi/multi-instance-run';
import { startPrivateCluster, type PrivateCluster } from '../setup/private-cluster';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown> & { variables: Record<string, unknown>[] };

let cluster: PrivateCluster;
beforeAll(async () => {
  cluster = await startPrivateCluster({ masters: 3 });
});
afterAll(async () => {
  await cluster?.remove();
});

describe('three instances on a Redis Cluster', () => {
  it('hold the global cap exactly whichever master serves the run slot, and leave no key behind', async () => {
    // One run id per master: the namespace multi-<run id> hashes to a slot that master serves.
    const runIds = new Map<string, string>();
    for (let attempt = 0; runIds.size < 3 && attempt < 300; attempt++) {
      const runId = `cluster-${randomBytes(4).toString('hex')}`;
      const master = await cluster.masterOf(controlChannel(`multi-${runId}`));
      if (![...runIds.values()].includes(master)) runIds.set(runId, master);
    }
    expect(runIds.size).toBe(3);
    const globalBurst = 200;
    const scenario = ScenarioSchema.parse({
      name: 'multi-cluster-cap',
      executor: { type: 'constant-arrival-rate', rate: 600, duration: '1s' },
      traffic: { users: 300, mix: { valid: 100 } },
      seed: 12,
      multiInstance: { instances: 3 },
    });
    let first = true;
    for (const [runId, master] of runIds) {
      // The first run names one node by a plain redis:// URL: it is detected as a Cluster node.
      const url = first ? `redis://${cluster.nodes[0]?.address}` : cluster.url;
      first = false;
      const rig = RigSchema.parse({
        ...demo,
        osc: { host: '127.0.0.1', port: 9 },
        redisUrl: url,
        limiter: { userRate: 1000, userBurst: 1000, globalRate: 0.01, globalBurst },
        variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
      });
      const lines: string[] = [];
      const summary = await runMultiInstance({ scenario, rig, runId, log: (line) => lines.push(line) });
      expect(lines[0]).toContain('on the Redis Cluster at');
      expect(lines[0]).toContain('state changes by sharded pub/sub');
      expect({ master, lost: summary.lost, instances: summary.perInstance.length }).toEqual({ master, lost: [], instances: 3 });
      expect(summary.completed).toBe(600);
      // The bucket holds 200 and refills once in 100 s: exactly 200 accepted across the three
      // instances when the Cluster decided every message. A commit that overran its timeout on
      // this busy machine is decided by that process's own limiter (counted as a fallback), which
      // may accept one message more each.
      const fallbacks = summary.pipeline.limiterFallbacks;
      if (fallbacks === 0) expect({ master, accepted: summary.outcomes.accepted, global: summary.outcomes.byCode['rate_limited_global'] }).toEqual({ master, accepted: globalBurst, global: 600 - globalBurst });
      else {
        expect(summary.outcomes.accepted).toBeGreaterThanOrEqual(globalBurst);
        expect(summary.outcomes.accepted).toBeLessThanOrEqual(globalBurst + fallbacks);
      }
      // The instances saw (nearly) every change the others made, by sharded pub/sub. (On a busy
      // machine one instance may take nearly every token; a last change may come after it stopped listening.)
      const expected = summary.perInstance.reduce((total, part) => total + summary.outcomes.accepted - part.summary.outcomes.accepted, 0);
      const seen = summary.perInstance.reduce((total, part) => total + part.remoteChanges, 0);
      expect(seen).toBeGreaterThanOrEqual(expected * 0.95);
      expect(seen).toBeLessThanOrEqual(expected);
      expect(summary.multiInstance.keysRemoved).toBeGreaterThan(0);
      const [host, port] = master.split(':') as [string, string];
      const node = new Redis({ host, port: Number(port) });
      expect(await node.keys(`cvlab:{${summary.multiInstance.namespace}}:*`)).toEqual([]);
      node.disconnect();
    }
  }, 240_000);
});

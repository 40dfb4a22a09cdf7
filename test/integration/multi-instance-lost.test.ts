import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { ScenarioSchema } from '../../src/shared/scenario';
import { runMultiInstance } from '../../src/main/lab/multi/multi-instance-run';
import { redisUrl } from '../setup/services';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('an instance that dies mid-run', () => {
  const redis = new Redis(redisUrl());
  afterAll(() => redis.quit());

  it('is reported lost while the other instances results are kept and merged', async () => {
    const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: 9 }, redisUrl: redisUrl() });
    const scenario = ScenarioSchema.parse({ name: 'multi-lost', executor: { type: 'constant-arrival-rate', rate: 300, duration: '3s' }, traffic: { users: 500 }, seed: 5, multiInstance: { instances: 3, heartbeatTimeout: 1_500 } });
    let victim: string | undefined;
    const kill = new Map<string, () => void>();
    const summary = await runMultiInstance({
      scenario,
      rig,
      onInstanceStarted: (agentId, child) => kill.set(agentId, () => child.kill('SIGKILL')),
      onFrame: (agentId, frame) => {
        // Halfway through its share, the second instance's process is killed.
        if (victim === undefined && agentId.endsWith('-i2') && frame.atMs > 1_000) {
          victim = agentId;
          kill.get(agentId)?.();
        }
      },
    });

    expect(victim).toBeDefined();
    expect(summary.lost).toEqual([{ agentId: victim, local: true, reason: 'its process was killed (SIGKILL) before handing in its result' }]);
    expect(summary.perInstance.map((part) => part.agentId).sort()).toEqual([...kill.keys()].filter((agentId) => agentId !== victim).sort());
    expect(summary.completed).toBe(summary.perInstance.reduce((total, part) => total + part.summary.completed, 0));
    expect(summary.completed).toBeGreaterThan(0);
    expect(summary.passed).toBe(false);
    expect(summary.reason).toMatch(/1 of 3 instances were lost/);
    let cursor = '0';
    const left: string[] = [];
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `cvlab:{${summary.multiInstance.namespace}}:*`, 'COUNT', 1000);
      cursor = next;
      left.push(...keys);
    } while (cursor !== '0');
    expect(left).toEqual([]);
  }, 60_000);
});

import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { ScenarioSchema } from '../../src/shared/scenario';
import { ANNOUNCE_CHANNEL } from '../../src/main/lab/multi/agent-protocol';
import { runMultiInstance } from '../../src/main/lab/multi/multi-instance-run';
import { redisUrl } from '../setup/services';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('an instance that dies mid-run', () => {
  const redis = new Redis(redisUrl());
  // No client name: ioredis's CLIENT SETINFO gap lets SUBSCRIBE race its ready check (redis/ioredis#2037).
  const listener = new Redis(redisUrl(), { disableClientInfo: true });
  afterAll(async () => {
    await redis.quit();
    listener.disconnect();
  });

  it('is reported lost, its share counted as lost, OSC taken over by a survivor; the announcement carries no secrets', async () => {
    // The converter: a UDP socket that counts datagrams, and when they came.
    const converter = createSocket('udp4');
    const arrivals: number[] = [];
    converter.on('message', () => arrivals.push(Date.now()));
    await new Promise<void>((resolve) => converter.bind(0, '127.0.0.1', () => resolve()));
    const announcements: string[] = [];
    listener.on('message', (_channel: string, text: string) => announcements.push(text));
    await listener.subscribe(ANNOUNCE_CHANNEL);

    const secret = 'postgres://cvlab:s3cret-password@db.example:5432/cvlab';
    const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: converter.address().port }, redisUrl: redisUrl(), databaseUrl: secret });
    const scenario = ScenarioSchema.parse({
      name: 'multi-lost',
      executor: { type: 'constant-arrival-rate', rate: 300, duration: '4s' },
      traffic: { users: 500, mix: { valid: 100 } },
      thresholds: { 'lost.count': '<1' },
      seed: 5,
      multiInstance: { instances: 3, heartbeatTimeout: '4s' },
    });
    let sender: string | undefined;
    let killedAt: number | undefined;
    const kill = new Map<string, () => void>();
    try {
      const summary = await runMultiInstance({
        scenario,
        rig,
        onAssigned: (shares) => (sender = shares.find((share) => share.sendsOsc)?.agentId),
        onInstanceStarted: (agentId, child) => kill.set(agentId, () => child.kill('SIGKILL')),
        onFrame: (agentId, frame) => {
          // A second into its share, the instance that drives the converter is killed.
          if (killedAt === undefined && agentId === sender && frame.atMs > 1_000) {
            killedAt = Date.now();
            kill.get(agentId)?.();
          }
        },
      });

      expect(killedAt).toBeDefined();
      expect(summary.lost.map((item) => item.agentId)).toEqual([sender]);
      expect(summary.perInstance).toHaveLength(2);
      // OSC went on from a survivor after the sender died.
      expect(summary.multiInstance.oscTakenOverBy).toBeDefined();
      expect(summary.multiInstance.oscTakenOverBy).not.toBe(sender);
      // Half a second after the kill nothing of the dead sender can still be on its way.
      expect(arrivals.filter((at) => at > (killedAt ?? 0) + 500).length).toBeGreaterThan(0);
      // The plan stays the whole scenario's; the dead share counts as lost.
      expect(summary.run.plannedMessages).toBe(1200);
      expect(summary.multiInstance.lostMessages).toBe(400);
      expect(summary.unaccounted).toBeGreaterThanOrEqual(400);
      const lost = summary.thresholds.find((verdict) => verdict.key === 'lost.count');
      expect(lost?.passed).toBe(false);
      expect(lost?.actual).toBeGreaterThanOrEqual(400);
      expect(summary.completed).toBe(summary.perInstance.reduce((total, part) => total + part.summary.completed, 0));
      expect(summary.passed).toBe(false);
      expect(summary.reason).toMatch(/1 of 3 instances were lost/);

      // Anyone on the Redis hears the announcement: no database or Redis URL in it.
      const announced = announcements.map((text) => JSON.parse(text) as { runId: string; rig: Record<string, unknown> }).filter((message) => message.runId === summary.run.id);
      expect(announced.length).toBeGreaterThan(0);
      for (const message of announced) {
        expect(message.rig['databaseUrl']).toBeUndefined();
        expect(message.rig['redisUrl']).toBeUndefined();
      }
      expect(announcements.join('\n')).not.toContain('s3cret-password');

      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `cvlab:{${summary.multiInstance.namespace}}:*`, 'COUNT', 1000);
        cursor = next;
        left.push(...keys);
      } while (cursor !== '0');
      expect(left).toEqual([]);
    } finally {
      converter.close();
    }
  }, 90_000);
});

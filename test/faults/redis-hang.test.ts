// Redis frozen (SIGSTOP) under a stream of messages: every accepted message bumps exactly one
// version, whether Redis or the in-process stand-in decided it, and nothing is refused as
// "global" because scripts queued on the frozen Redis ran when it woke.
// Runs its own redis-server (a private one on a free port, in a temp dir), never the shared one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/shared/message';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import { createPipeline } from '../../src/main/lab/engine/pipeline/chat-pipeline';
import type { DegradedState, LabPipeline } from '../../src/main/lab/engine/pipeline/pipeline-types';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { freePort } from '../setup/services';
import { waitFor } from '../setup/wait-for';

/** A private redis-server: no persistence, its own directory, killed at the end. */
async function startRedis(): Promise<{ url: string; server: ChildProcess; stop: () => void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cvlab-redis-hang-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  await waitFor(
    async () => {
      try {
        await probe.connect();
        await probe.ping();
        return true;
      } catch {
        probe.disconnect();
        return false;
      }
    },
    `the private redis-server on port ${port}`,
    15_000,
  );
  probe.disconnect();
  return {
    url,
    server,
    stop: () => {
      server.kill('SIGCONT');
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const until = (condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> => waitFor(condition, what, timeoutMs, 20);

describe('Redis frozen under load', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let converter: Socket;
  let rig: RigConfig;

  beforeAll(async () => {
    redis = await startRedis();
    converter = createSocket('udp4');
    converter.on('message', () => undefined);
    await new Promise<void>((resolve) => converter.bind(0, '127.0.0.1', () => resolve()));
    const demo = await loadRig();
    rig = RigSchema.parse({
      ...demo,
      osc: { host: '127.0.0.1', port: converter.address().port },
      redisUrl: redis.url,
      // Limits far above the traffic: any refusal would be a spurious one.
      limiter: { userRate: 1e6, userBurst: 1e6, globalRate: 1e6, globalBurst: 1e6 },
      variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
    });
  });

  afterAll(() => {
    redis?.stop();
    converter?.close();
  });

  it('applies every accepted message exactly once, through the freeze and after it', async () => {
    // A 1 s timeout: on a busy machine a merely slow Redis must not pass for a frozen one.
    const pipeline: LabPipeline = await createPipeline(rig, { namespace: `hang-${process.pid}`, tap: false, keepState: true, redisCommandTimeoutMs: 1000 });
    const degradedStates: DegradedState[] = [];
    pipeline.onDidChangeDegraded((state) => degradedStates.push(state));
    const outcomes: Outcome[] = [];
    let sent = 0;
    // Bursts of 8 concurrent messages every 5 ms: several commits are always in flight.
    const sendBurst = (): void => {
      for (let index = 0; index < 8; index++) {
        const user = `viewer${sent % 40}`;
        const text = sent % 2 === 0 ? 'hue=+0.001' : `hue=${(sent % 100) / 100}`;
        sent++;
        void pipeline.process({ user, text }).then((outcome) => outcomes.push(outcome));
      }
    };
    const stream = setInterval(sendBurst, 5);
    try {
      await until(() => outcomes.length >= 200, '200 outcomes before the freeze');
      redis.server.kill('SIGSTOP');
      // Frozen long enough for many commits to time out and the stand-in to take over.
      await until(() => degradedStates.some((state) => state.degraded), 'the in-process limiter to stand in');
      const sentAtFreeze = sent;
      await until(() => sent >= sentAtFreeze + 400, '400 more messages sent while Redis is frozen');
      redis.server.kill('SIGCONT');
      await until(() => degradedStates.at(-1)?.degraded === false, 'Redis to answer again');
      const sentAtThaw = sent;
      await until(() => sent >= sentAtThaw + 200, '200 more messages after Redis came back');
    } finally {
      clearInterval(stream);
    }
    await until(() => outcomes.length === sent, 'every outcome');

    const counters = pipeline.counters();
    expect(counters.limiterFallbacks).toBeGreaterThan(0);
    expect(counters.lateApplied).toBe(0);
    expect(degradedStates[0]?.degraded).toBe(true);
    expect(degradedStates.at(-1)?.degraded).toBe(false);
    expect(outcomes.filter((outcome) => outcome.status !== 'accepted')).toEqual([]);

    // Each accepted message bumped the version of hue exactly once: versions 1..N, each once.
    const versions = outcomes.flatMap((outcome) => (outcome.status === 'accepted' ? outcome.changes.map((change) => change.version) : []));
    expect(versions).toHaveLength(sent);
    expect(new Set(versions).size).toBe(sent);
    expect(Math.min(...versions)).toBe(1);
    expect(Math.max(...versions)).toBe(sent);

    // Redis holds the last of them: no script run after the thaw applied anything twice.
    await until(() => pipeline.counters().degraded === false, 'the pipeline to see Redis again');
    const admin = new Redis(redis.url);
    try {
      expect(Number(await admin.hget(`cvlab:{hang-${process.pid}}:state`, 'hue:v'))).toBe(sent);
    } finally {
      admin.disconnect();
    }
    await pipeline.close();
  }, 120_000);
});

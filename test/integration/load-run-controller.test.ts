import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { RunFrame, RunProgress } from '../../src/shared/run';
import type { ScenarioInput } from '../../src/shared/scenario';
import { decodeHistogram } from '../../src/main/lab/common/create-histogram';
import { RunController } from '../../src/main/lab/run/run-controller';
import { createPipeline } from '../../src/main/lab/engine/pipeline/chat-pipeline';
import { freePort, redisUrl } from '../setup/services';
import { waitFor } from '../setup/wait-for';

const demo = JSON.parse(readFileSync('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;

/** The demo rig on free loopback ports; a generous limiter so most messages are accepted and timed end to end. */
async function testRig(overrides: Partial<RigConfig> = {}): Promise<RigConfig> {
  const [port, tapPort] = [await freePort(), await freePort()];
  return RigSchema.parse({
    ...demo,
    osc: { host: '127.0.0.1', port, tapPort },
    limiter: { userRate: 1000, userBurst: 1000, globalRate: 100_000, globalBurst: 10_000 },
    variables: (demo['variables'] as Record<string, unknown>[]).map((variable) => ({ ...variable, cooldownMs: 0 })),
    ...overrides,
  });
}

const constantRate = (rate: number, duration: string, extra: Partial<ScenarioInput> = {}): ScenarioInput => ({
  name: 'constant-test',
  executor: { type: 'constant-arrival-rate', rate, duration },
  traffic: { users: 200, mix: { valid: 90, multi: 10 } },
  seed: 17,
  ...extra,
});

let redis: Redis;
beforeAll(() => {
  redis = new Redis(redisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

describe('RunController against the real pipeline', () => {
  it('sends the planned count of a 3 s constant-rate run within 1%, every message accounted for', async () => {
    const controller = new RunController();
    const frames: RunFrame[] = [];
    const progress: RunProgress[] = [];
    controller.onDidRunFrame((frame) => frames.push(frame));
    controller.onDidRunProgress((event) => progress.push(event));
    const info = await controller.start({ scenario: constantRate(1000, '3s'), rig: await testRig() });
    expect(info.plannedMessages).toBe(3000);
    expect(controller.current()?.id).toBe(info.id);
    const summary = await controller.finished();
    expect(summary?.stopReason).toBe('completed');
    expect(Math.abs((summary?.sent ?? 0) - 3000) / 3000).toBeLessThanOrEqual(0.01);
    const outcomes = summary?.outcomes;
    expect((outcomes?.accepted ?? 0) + (outcomes?.rejected ?? 0) + (outcomes?.failed ?? 0)).toBe(summary?.sent);
    expect(summary?.unaccounted).toBe(0);
    expect(summary?.stages.e2e?.count).toBe(outcomes?.accepted);
    expect(summary?.stages.slip?.count).toBe(summary?.sent);
    // Frames every 100 ms on the run's time grid (a late one, on a loaded machine, covers those it
    // missed), spanning the whole run, their counts adding up to the run's.
    expect(frames.length).toBeGreaterThanOrEqual(15);
    expect(frames.at(-1)?.atMs).toBeGreaterThanOrEqual(2900);
    expect(frames.reduce((sum, frame) => sum + frame.intervalMs, 0)).toBeCloseTo(frames.at(-1)?.atMs ?? 0, 0);
    expect(frames.reduce((sum, frame) => sum + frame.completed, 0)).toBe(summary?.completed);
    expect(frames.every((frame, index) => frame.sequence === index)).toBe(true);
    expect(frames.some((frame) => (frame.stages.e2e?.count ?? 0) > 0 && frame.heapUsedBytes > 0 && frame.rssBytes > 0)).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(decodeHistogram(summary?.histograms.e2e ?? '').totalCount).toBe(outcomes?.accepted);
    expect(controller.current()).toBeUndefined();
  });

  it('shows a stall in the end-to-end p99: messages due during it count from their due time', async () => {
    const stallFromMs = 500;
    const stallMs = 200;
    let firstHookNs: number | undefined;
    let stalled = false;
    let stallEndNs = 0;
    const stageHook = (stage: string): void => {
      const now = Number(process.hrtime.bigint());
      firstHookNs ??= now;
      if (stage !== 'validate' || stalled || now - firstHookNs < stallFromMs * 1e6) return;
      // Hold the event loop, as a long GC pause or a blocking call would: nothing is sent meanwhile.
      stalled = true;
      stallEndNs = now + stallMs * 1e6;
      while (Number(process.hrtime.bigint()) < stallEndNs);
    };
    const observed: { dueNs: number; e2e: number }[] = [];
    const controller = new RunController({
      stageHook,
      // The real pipeline, watched from outside: each message's due time and its end-to-end time.
      createPipeline: async (rig, options) => {
        const pipeline = await createPipeline(rig, options);
        return {
          ...pipeline,
          onDidTap: pipeline.onDidTap.bind(pipeline),
          onDidChangeState: pipeline.onDidChangeState.bind(pipeline),
          counters: pipeline.counters.bind(pipeline),
          roundTripMs: pipeline.roundTripMs.bind(pipeline),
          snapshot: pipeline.snapshot.bind(pipeline),
          close: pipeline.close.bind(pipeline),
          process: async (message) => {
            const outcome = await pipeline.process(message);
            if (outcome.timings.e2e !== undefined) observed.push({ dueNs: message.dueAtNs ?? Number(message.dueNs), e2e: outcome.timings.e2e });
            return outcome;
          },
        };
      },
    });
    await controller.start({ scenario: constantRate(1000, '2s'), rig: await testRig() });
    const summary = await controller.finished();
    expect(stalled).toBe(true);
    const stallStartNs = stallEndNs - stallMs * 1e6;
    const during = observed.filter((entry) => entry.dueNs >= stallStartNs && entry.dueNs < stallEndNs);
    expect(during.length).toBeGreaterThan(100);
    // Nothing due during the stall could go out before it ended, and its latency says so.
    for (const entry of during) expect(entry.e2e).toBeGreaterThanOrEqual(stallEndNs - entry.dueNs);
    // ~10% of the run waited up to 200 ms: the run's p99 sits well inside the stall.
    expect(summary?.stages.e2e?.p99).toBeGreaterThan(100e6);
    expect(summary?.stages.slip?.p99).toBeGreaterThan(100e6);
    expect(summary?.slip.late).toBeGreaterThan(100);
    expect(summary?.unaccounted).toBe(0);
  });

  it('runs one run at a time, stops cleanly with a summary, and purges the run\'s Redis keys', async () => {
    const controller = new RunController();
    const rig = await testRig({ redisUrl: redisUrl() });
    const info = await controller.start({ scenario: constantRate(500, '30s'), rig });
    expect(info.store).toBe('redis');
    await expect(controller.start({ scenario: constantRate(500, '1s'), rig })).rejects.toThrow(/already going on/);
    let sent = 0;
    controller.onDidRunProgress((progress) => (sent = progress.sent));
    await waitFor(() => sent > 100, 'the run to send its first hundred messages');
    expect(await redis.keys(`cvlab:{${info.namespace}}:*`)).not.toEqual([]);
    const summary = await controller.stop();
    expect(summary?.stopReason).toBe('stopped');
    expect(summary?.sent).toBeGreaterThan(100);
    expect(summary?.sent).toBeLessThan(15_000);
    expect(summary?.unaccounted).toBe(0);
    expect((summary?.outcomes.accepted ?? 0) + (summary?.outcomes.rejected ?? 0) + (summary?.outcomes.failed ?? 0)).toBe(summary?.sent);
    expect(await redis.keys(`cvlab:{${info.namespace}}:*`)).toEqual([]);
    expect(await controller.stop()).toBeUndefined();
  });

  it('aborts on an impossible threshold with abortOnFail, and says which broke', async () => {
    const controller = new RunController();
    await controller.start({ scenario: constantRate(500, '20s', { thresholds: { 'e2e.p99': '<1us' }, abortOnFail: true, abortGrace: '300ms' }), rig: await testRig() });
    const summary = await controller.finished();
    expect(summary?.stopReason).toBe('aborted');
    expect(summary?.reason).toMatch(/e2e\.p99 <1us/);
    expect(summary?.elapsedMs).toBeLessThan(10_000);
    expect(summary?.passed).toBe(false);
    expect(summary?.thresholds[0]).toMatchObject({ key: 'e2e.p99', passed: false });
  });

  it('finds the knee of a capacity search where a threshold breaks', async () => {
    // The rig's global cap (300/s, burst 30) holds 200 msg/s and breaks at 400: the knee is 200.
    const rig = await testRig();
    const capped = RigSchema.parse({ ...rig, limiter: { ...rig.limiter, globalRate: 300, globalBurst: 30 } });
    const controller = new RunController();
    await controller.start({
      scenario: {
        name: 'stress-test',
        executor: { type: 'constant-arrival-rate', rate: 200, duration: '3s' },
        traffic: { users: 100, mix: { valid: 1 } },
        capacitySearch: { startRate: 200, stepRate: 200, maxRate: 1000, stepDuration: '500ms' },
        thresholds: { 'rejected.rate_limited_global.rate': '<5%' },
        seed: 5,
      },
      rig: capped,
    });
    const summary = await controller.finished();
    expect(summary?.capacity?.steps.map((step) => [step.rate, step.passed])).toEqual([
      [200, true],
      [400, false],
    ]);
    expect(summary?.capacity?.knee).toBe(200);
    expect(summary?.capacity?.brokeAt).toBe(400);
    expect(summary?.passed).toBe(true);
    expect(summary?.elapsedMs).toBeLessThan(2900);
  });
});

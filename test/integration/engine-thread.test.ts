// The measured engine runs in a worker thread: the host's stalls show in the host's event-loop
// delay and leave the engine's message accounting whole; the OSC tap (on the host) still times
// every datagram from its due time; the audit sink gets one record per message from the
// engine's per-interval batches.
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { RunFrame } from '../../src/shared/run';
import type { ScenarioInput } from '../../src/shared/scenario';
import { RunController } from '../../src/main/lab/run/run-controller';
import type { OutcomeRecord } from '../../src/main/lab/common/outcome-record';
import { freePort } from '../setup/services';

const demo = JSON.parse(readFileSync('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;

async function testRig(): Promise<RigConfig> {
  const [port, tapPort] = [await freePort(), await freePort()];
  return RigSchema.parse({
    ...demo,
    osc: { host: '127.0.0.1', port, tapPort },
    limiter: { userRate: 1000, userBurst: 1000, globalRate: 100_000, globalBurst: 10_000 },
    variables: (demo['variables'] as Record<string, unknown>[]).map((variable) => ({ ...variable, cooldownMs: 0 })),
  });
}

const scenario = (rate: number, duration: string, mix: Record<string, number> = { valid: 90, multi: 10 }): ScenarioInput => ({
  name: 'engine-thread-test',
  executor: { type: 'constant-arrival-rate', rate, duration },
  traffic: { users: 200, mix },
  seed: 23,
});

describe('the measured engine in its own thread', () => {
  it('runs off the host thread: a 300 ms host stall shows in the host loop delay, not in the engine accounting', async () => {
    const controller = new RunController();
    const frames: RunFrame[] = [];
    let stalled = false;
    controller.onDidRunFrame((frame) => {
      frames.push(frame);
      if (!stalled && frame.sequence === 5) {
        // Hold the host's event loop as a slow save, a long GC or a busy console would.
        stalled = true;
        const until = Date.now() + 300;
        while (Date.now() < until);
      }
    });
    const info = await controller.start({ scenario: scenario(1000, '3s'), rig: await testRig() });
    expect(info.engineThreadId).toBeDefined();
    expect(info.engineThreadId).not.toBe(threadId);
    const summary = await controller.finished();
    expect(stalled).toBe(true);
    expect(summary?.stopReason).toBe('completed');
    expect(summary?.sent).toBe(3000);
    expect(summary?.unaccounted).toBe(0);
    const outcomes = summary?.outcomes;
    expect((outcomes?.accepted ?? 0) + (outcomes?.rejected ?? 0) + (outcomes?.failed ?? 0)).toBe(3000);
    expect(frames.reduce((sum, frame) => sum + frame.completed, 0)).toBe(summary?.completed);
    expect(frames.reduce((sum, frame) => sum + frame.sent, 0)).toBe(3000);
    expect(summary?.stages.e2e?.count).toBe(outcomes?.accepted);
    // The host saw its own stall; the engine's loop did not wait on it.
    const hostMax = Math.max(...frames.map((frame) => frame.hostEventLoopDelay?.max ?? 0));
    expect(hostMax).toBeGreaterThanOrEqual(250e6);
    expect(summary?.resources.hostEventLoopDelayMax).toBeGreaterThanOrEqual(250e6);
    // The tap listens on the host and still finds each datagram's due time.
    expect(summary?.pipeline.tapMatched).toBeGreaterThan(0);
    expect(summary?.stages.tap?.count).toBe(summary?.pipeline.tapMatched);
    expect(summary?.stages.tap?.min).toBeGreaterThan(0);
  });

  it('feeds the outcome sink one record per message, decoded on the host', async () => {
    const records: OutcomeRecord[] = [];
    const controller = new RunController({ sink: { record: (record) => records.push(record) }, warmUpMessages: 0 });
    const startedAtMs = Date.now();
    await controller.start({ scenario: scenario(500, '1s', { valid: 60, multi: 20, bad_value: 10, unknown_variable: 10 }), rig: await testRig() });
    const summary = await controller.finished();
    expect(records).toHaveLength(summary?.sent ?? -1);
    const accepted = records.filter((record) => record.outcome.status === 'accepted');
    expect(accepted).toHaveLength(summary?.outcomes.accepted ?? -1);
    for (const record of records) {
      expect(record.user).toMatch(/^viewer-\d{5}$/);
      expect(record.text.length).toBeGreaterThan(0);
      expect(record.atMs).toBeGreaterThanOrEqual(startedAtMs - 1000);
      expect(record.atMs).toBeLessThanOrEqual(Date.now() + 1000);
    }
    for (const record of accepted) {
      if (record.outcome.status !== 'accepted') continue;
      expect(record.outcome.changes.length).toBeGreaterThan(0);
      expect(record.outcome.changes.every((change) => record.text.includes(change.variable))).toBe(true);
      expect(record.outcome.timings.e2e).toBeGreaterThan(0);
      expect(record.outcome.packet.bytes).toBeGreaterThan(0);
    }
    const rejected = records.filter((record) => record.outcome.status === 'rejected');
    expect(rejected.length).toBe(summary?.outcomes.rejected);
    // Grammar rejections' prose is written on the host from the text: the validator's own words.
    for (const record of rejected) {
      if (record.outcome.status !== 'rejected') continue;
      expect(record.outcome.rejection.detail.length).toBeGreaterThan(0);
      expect(record.outcome.rejection.detail).not.toMatch(/judged the text otherwise/);
    }
    expect(new Set(rejected.map((record) => (record.outcome.status === 'rejected' ? record.outcome.rejection.code : '')))).toEqual(new Set(['bad_value', 'unknown_variable']));
  });
});

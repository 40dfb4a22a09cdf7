import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { ScenarioSchema } from '../../src/shared/scenario';
import { isFanoutSummary } from '../../src/shared/run';
import { RunService } from '../../src/main/lab/session/run-service';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const websocketScaling = JSON.parse(readFileSync(new URL('../../resources/scenarios/websocket-scaling.json', import.meta.url), 'utf8')) as Record<string, unknown> & { fanout: Record<string, unknown> };

describe('websocket-scaling scenario', () => {
  it('runs the pipeline with the fan-out stage: every reading subscriber gets every accepted change, in order', async () => {
    const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: 9 } });
    const scenario = ScenarioSchema.parse({ ...websocketScaling, executor: { type: 'constant-arrival-rate', rate: 50, duration: '1s' }, fanout: { ...websocketScaling.fanout, subscribers: 200, stalledSubscribers: 1 } });
    // Through the engine session, as every host starts it.
    const service = new RunService({ stores: null, log: () => undefined });
    let outcome;
    try {
      await service.start({ scenario, rig });
      outcome = await service.finished();
    } finally {
      await service.dispose();
    }
    const summary = outcome?.summary;
    if (!summary || !isFanoutSummary(summary)) throw new Error('expected a fan-out summary');
    const accepted = summary.outcomes.accepted;
    expect(accepted).toBeGreaterThan(0);
    // One change per accepted assignment; multi-assignment messages publish several.
    const published = summary.fanout.counters.published;
    expect(published).toBeGreaterThanOrEqual(accepted);
    expect(summary.fanout.latency?.count).toBe(published * 200);
    expect(summary.fanout.subscribersWithGaps).toBe(0);
    expect(summary.fanout.subscribersOutOfOrder).toBe(0);
    expect(summary.fanout.counters.clients).toBe(201);
    // The pipeline and the fan-out server it pushes to run on the engine's thread, not the host's.
    expect(summary.run.engineThreadId).toBeDefined();
    expect(summary.run.engineThreadId).not.toBe(threadId);
  }, 60_000);
});

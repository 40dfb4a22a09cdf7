import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { ScenarioSchema } from '../../src/shared/scenario';
import { InstanceAgent } from '../../src/main/lab/multi/instance-agent';
import { runMultiInstance } from '../../src/main/lab/multi/multi-instance-run';
import { redisUrl } from '../setup/services';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('an agent elsewhere', () => {
  it('joins a run announced on Redis, runs its share of the same scenario and seed, and its result is merged', async () => {
    // Stands for `cvlab agent --redis <url>` on another machine: it was not started by the run.
    // It joins this file's run only: other files' multi-instance runs, announced on the same
    // channel while this one runs beside them, are not its business.
    const runId = `multi-join-${process.pid}-${Date.now()}`;
    const agent = await InstanceAgent.start({ redisUrl: redisUrl(), agentId: 'remote-agent', runId, once: true });
    try {
      const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: 9 }, redisUrl: redisUrl() });
      const scenario = ScenarioSchema.parse({ name: 'multi-join', executor: { type: 'constant-arrival-rate', rate: 200, duration: '1s' }, seed: 99, multiInstance: { instances: 2, localInstances: 1, network: { delayMs: 2, jitterMs: 1 } } });
      const summary = await runMultiInstance({ scenario, rig, runId });
      await agent.done();
      const remote = summary.perInstance.find((part) => part.agentId === 'remote-agent');
      expect(remote?.local).toBe(false);
      expect(summary.perInstance.map((part) => part.share.index).sort()).toEqual([0, 1]);
      // The local child sends OSC; the agent's share runs against a sink.
      expect(summary.perInstance.find((part) => part.local)?.share.sendsOsc).toBe(true);
      expect(remote?.share.sendsOsc).toBe(false);
      expect(remote?.summary.run.seed).not.toBe(summary.run.seed);
      expect(summary.sent).toBe(200);
      expect(agent.runs()).toHaveLength(1);
      // The agent's share runs on an engine thread of its own, not on the agent's thread.
      expect(agent.runs()[0]?.run.engineThreadId).toBeDefined();
      expect(agent.runs()[0]?.run.engineThreadId).not.toBe(threadId);
      expect(summary.multiInstance.network).toEqual({ delayMs: 2, jitterMs: 1 });
      expect(summary.lost).toEqual([]);
    } finally {
      await agent.close();
    }
  }, 60_000);
});

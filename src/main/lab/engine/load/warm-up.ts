import { createSocket } from 'node:dgram';
import type { Outcome } from '../../../../shared/message';
import type { RigConfig } from '../../../../shared/rig';
import type { Scenario } from '../../../../shared/scenario';
import { createPipeline } from '../pipeline/chat-pipeline';
import { TrafficGenerator } from './traffic-generator';

const BATCH = 64;

/**
 * Runs the scenario's kind of traffic through a throwaway pipeline before the measured run, so
 * that V8 has compiled the validator, limiter, encoder and metrics code: a cold first second
 * otherwise shows up as a p99 of several milliseconds that no later run would see (wrk2 and JMH
 * warm up for the same reason). The throwaway pipeline uses the memory store and sends to a
 * socket of its own on loopback: the rig's converter, Redis and tap see nothing of it, and
 * nothing of it is counted in the run.
 */
export async function warmUp(
  rig: RigConfig,
  scenario: Scenario,
  seed: number,
  messages: number,
  /** Records each warm-up outcome with the run's own recording code, so that code is warm too. */
  record: (outcome: Outcome, user: string, text: string) => void,
  /** The run's own messages when they are not generated (a replay warms up on its recorded lines). */
  messageAt?: (index: number) => { readonly user: string; readonly text: string },
): Promise<void> {
  if (messages <= 0) return;
  const sink = createSocket('udp4');
  sink.on('message', () => undefined);
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
  const address = sink.address();
  const { tapPort: _tapPort, ...osc } = rig.osc;
  const pipeline = await createPipeline(
    { ...rig, osc: { ...osc, host: '127.0.0.1', port: address.port } },
    { namespace: `warm-up-${process.pid}`, redisUrl: null, tap: false },
  );
  try {
    // Another seed: the measured run's own traffic stays exactly what its seed says.
    const generator = new TrafficGenerator(rig, scenario.traffic, (seed ^ 0x5eed) >>> 0);
    const users = Math.max(1, scenario.traffic.users);
    for (let sent = 0; sent < messages; sent += BATCH) {
      const batch: Promise<unknown>[] = [];
      for (let index = sent; index < Math.min(messages, sent + BATCH); index++) {
        const message = messageAt ? messageAt(index) : generator.next(index % users);
        batch.push(
          pipeline.process({ user: message.user, text: message.text, dueNs: process.hrtime.bigint() }).then((outcome) => record(outcome, message.user, message.text)),
        );
      }
      await Promise.all(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await pipeline.close();
    sink.close();
  }
}

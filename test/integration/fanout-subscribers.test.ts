import { afterAll, describe, expect, it } from 'vitest';
import { FanoutServer } from '../../src/main/lab/engine/fanout/fanout-server';
import { FanoutSubscriberPool } from '../../src/main/lab/fanout/fanout-subscriber-pool';

const SUBSCRIBERS = 1_000;
const VARIABLES = ['hue', 'sat', 'bright', 'zoom'];
const CHANGES = 60;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('WebSocket fan-out to 1,000 subscribers', () => {
  const servers: FanoutServer[] = [];
  const pools: FanoutSubscriberPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
    await Promise.all(servers.map((server) => server.close()));
  });

  it('delivers every change in order to each subscriber; a stalled one is coalesced and does not raise the others p99', async () => {
    // Two identical fan-outs fed the same changes side by side, one with a stalled subscriber:
    // whatever else loads the machine weighs on both alike, so their p99s compare fairly.
    const options = { maxClients: SUBSCRIBERS + 1, maxBufferedBytes: 16 * 1024, slowPolicy: 'coalesce', disconnectSlowAfterMs: 0 } as const;
    const withStalled = await FanoutServer.listen(options);
    const without = await FanoutServer.listen(options);
    servers.push(withStalled, without);
    const query = `?variables=${VARIABLES.join(',')}`;
    const healthyWith = await FanoutSubscriberPool.connect(withStalled.url + query, SUBSCRIBERS);
    const healthyWithout = await FanoutSubscriberPool.connect(without.url + query, SUBSCRIBERS);
    pools.push(healthyWith, healthyWithout);

    // One subscriber stops reading and is flooded with large frames until the server holds its changes back.
    const stalled = await FanoutSubscriberPool.connect(`${withStalled.url}?variables=fill,${VARIABLES.join(',')}`, 1);
    pools.push(stalled);
    stalled.stall(0);
    const padding = 'x'.repeat(16_384);
    for (let index = 1; index <= 2_000 && withStalled.counters().coalesced === 0; index++) {
      withStalled.publish({ variable: 'fill', value: index, version: index, writer: padding });
      if (index % 20 === 0) await sleep(1);
    }
    expect(withStalled.counters().coalesced).toBeGreaterThan(0);
    await expect(FanoutSubscriberPool.connect(withStalled.url, 1)).rejects.toThrow(/fan-out is full: 1001 of 1001 subscribers are connected/);
    expect(withStalled.counters().refused).toBe(1);

    const coalescedBefore = withStalled.counters().coalesced;
    const versions = new Map<string, number>();
    for (let index = 0; index < CHANGES; index++) {
      const variable = VARIABLES[index % VARIABLES.length] ?? 'hue';
      const version = (versions.get(variable) ?? 0) + 1;
      versions.set(variable, version);
      const change = { variable, value: index / CHANGES, version, writer: 'viewer' };
      // Alternate which fan-out goes first, so neither always waits on the other.
      const order = index % 2 === 0 ? [withStalled, without] : [without, withStalled];
      for (const server of order) server.publish(change);
      await sleep(40);
    }
    await healthyWith.waitForReceived(CHANGES);
    await healthyWithout.waitForReceived(CHANGES);

    for (const tally of [...healthyWith.tallies, ...healthyWithout.tallies]) {
      expect(tally.received).toBe(CHANGES);
      expect(tally.outOfOrder).toBe(0);
      expect(tally.gaps).toBe(0);
    }
    // The stalled subscriber's changes were held back as the latest value per variable, not buffered.
    expect(withStalled.counters().coalesced - coalescedBefore).toBe(CHANGES - VARIABLES.length);
    const p99With = healthyWith.histogram.getValueAtPercentile(99);
    const p99Without = healthyWithout.histogram.getValueAtPercentile(99);
    console.log(
      `fan-out p99 to ${SUBSCRIBERS} (${healthyWith.histogram.totalCount} samples each): beside a stalled subscriber ${(p99With / 1e6).toFixed(3)} ms, without ${(p99Without / 1e6).toFixed(3)} ms`,
    );
    expect(p99With).toBeLessThanOrEqual(p99Without * 1.5);
  });
});

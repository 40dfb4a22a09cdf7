import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { DelayProxy } from '../../src/main/lab/multi/delay-proxy';
import { redisUrl } from '../setup/services';

describe('network conditions on the Redis link', () => {
  it('adds delay and jitter in both directions and keeps replies in order', async () => {
    const target = new URL(redisUrl());
    const proxy = await DelayProxy.listen({ targetHost: target.hostname, targetPort: Number(target.port || 6379), delayMs: 15, jitterMs: 10 });
    const redis = new Redis(proxy.proxiedUrl(redisUrl()));
    try {
      const started = performance.now();
      expect(await redis.ping()).toBe('PONG');
      // A round trip crosses the proxy twice: at least twice the added delay, whatever the machine.
      expect(performance.now() - started).toBeGreaterThanOrEqual(30);
      // Jitter never reorders: pipelined replies come back in the order sent.
      const replies = await Promise.all(Array.from({ length: 50 }, (_, index) => redis.echo(String(index))));
      expect(replies).toEqual(Array.from({ length: 50 }, (_, index) => String(index)));
      expect(proxy.conditions).toEqual({ delayMs: 15, jitterMs: 10 });
    } finally {
      redis.disconnect();
      await proxy.close();
    }
    await expect(DelayProxy.listen({ targetHost: '127.0.0.1', targetPort: 6379, delayMs: -1, jitterMs: 0 })).rejects.toThrow(/expected delayMs and jitterMs of 0 or more/);
  });
});

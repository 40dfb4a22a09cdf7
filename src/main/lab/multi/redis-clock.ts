import { performance } from 'node:perf_hooks';
import { redisTime, type RedisClient } from '../common/redis-target';

/** This process's high-resolution wall clock, epoch ms. */
export const localClockMs = (): number => performance.timeOrigin + performance.now();

export interface RedisClock {
  /** Redis TIME minus the local clock, ms: add it to a local time to get Redis time. */
  readonly offsetMs: number;
  /** Round trip of the best sample, ms: the offset is good to within half of it. */
  readonly roundTripMs: number;
}

/**
 * Measures how far Redis TIME is from this process's clock (minimum-round-trip sample of
 * `samples` TIME calls, the midpoint rule). Every instance measures propagation against
 * Redis time, so instances on other machines need no synchronised clocks. On a Cluster the clock
 * read is that of the master serving `routeKey`'s slot (the run's, whose commits stamp the changes).
 */
export async function measureRedisClock(redis: RedisClient, routeKey: string, samples = 15): Promise<RedisClock> {
  let best: RedisClock | undefined;
  for (let index = 0; index < samples; index++) {
    const sentAt = localClockMs();
    const [seconds, microseconds] = await redisTime(redis, routeKey);
    const receivedAt = localClockMs();
    const redisMs = Number(seconds) * 1000 + Number(microseconds) / 1000;
    const roundTripMs = receivedAt - sentAt;
    if (!best || roundTripMs < best.roundTripMs) best = { offsetMs: redisMs - (sentAt + receivedAt) / 2, roundTripMs };
  }
  if (!best) throw new Error('measureRedisClock needs at least one sample');
  return best;
}

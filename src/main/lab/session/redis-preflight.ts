import { Cluster, Redis } from 'ioredis';
import { BadInputError, ResourceUnavailableError, ServiceUnreachableError } from '../../../shared/exit-codes';
import { createRedisClient, parseRedisTarget, readClusterView, resolveRedisTarget, type RedisTarget } from '../common/redis-target';

/** Where a Redis URL points, without its password (said to the user). */
export function redisAddress(url: string): string {
  try {
    return parseRedisTarget(url).address;
  } catch {
    return 'the Redis URL given';
  }
}

const NO_REDIS_HINT = "start it, or run without a Redis (leave out --redis and the rig's redisUrl) to use the in-process store";

function reasonOf(reported: unknown): string {
  const code = (reported as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' ? 'nothing listens there (connection refused)' : code === 'ENOTFOUND' ? 'the host name does not resolve' : reported instanceof Error ? reported.message : String(reported);
}

/**
 * Checks that the Redis the user named answers before a run relies on it, and says what it is: a
 * plain URL that names a Redis Cluster node is taken as that Cluster (detected by
 * cluster_enabled:1). A Cluster must cover every slot. A ServiceUnreachableError (or, for a
 * Cluster that answers but serves not every slot, a ResourceUnavailableError) in plain words
 * otherwise, never ioredis's own retry messages.
 */
export async function checkRedisAnswers(url: string, timeoutMs = 3_000): Promise<RedisTarget> {
  try {
    parseRedisTarget(url);
  } catch (error) {
    throw new BadInputError((error as Error).message);
  }
  const target = await resolveRedisTarget(url, timeoutMs);
  if (target.cluster) await checkClusterServes(target, timeoutMs);
  else await checkServerAnswers(target, timeoutMs);
  return target;
}

async function checkServerAnswers(target: RedisTarget, timeoutMs: number): Promise<void> {
  const redis = new Redis(target.url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // ioredis rejects connect() with "Connection is closed"; the cause (ECONNREFUSED…) comes as an error event.
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    await Promise.race([redis.ping(), new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`no answer to PING within ${timeoutMs} ms`)), timeoutMs).unref())]);
  } catch (error) {
    throw new ServiceUnreachableError(`Redis at ${target.address}`, `${reasonOf(cause ?? error)}; ${NO_REDIS_HINT}`);
  } finally {
    redis.disconnect();
  }
}

async function checkClusterServes(target: RedisTarget, timeoutMs: number): Promise<void> {
  // First what a node says: a Cluster that serves not every slot never gets ready for a client.
  const view = await readClusterView(target, timeoutMs);
  if (view) {
    const state = /cluster_state:(\w+)/.exec(view.info)?.[1];
    if (state !== 'ok') {
      const served = /cluster_slots_ok:(\d+)/.exec(view.info)?.[1] ?? '?';
      throw new ResourceUnavailableError(
        `the Redis Cluster at ${target.address} answers but is not serving (cluster_state:${state ?? '?'}, ${served} of 16384 slots served, as ${view.node} says): a master is down with no replica to take over; start it again, or fix the Cluster (redis-cli --cluster check ${view.node})`,
      );
    }
  }
  const cluster = createRedisClient(target, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false }) as Cluster;
  let cause: unknown;
  cluster.on('error', (error: unknown) => (cause ??= error));
  try {
    const answer = await Promise.race([
      cluster.connect().then(() => cluster.cluster('INFO')),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref()),
    ]);
    if (answer === 'timeout') throw new Error(`no node answered within ${timeoutMs} ms`);
  } catch (error) {
    const reported = (cause as { lastNodeError?: unknown } | undefined)?.lastNodeError ?? cause ?? error;
    throw new ServiceUnreachableError(`Redis Cluster at ${target.address}`, `${reasonOf(reported)}; ${NO_REDIS_HINT}`);
  } finally {
    cluster.disconnect();
  }
}

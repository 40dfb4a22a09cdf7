import { Redis } from 'ioredis';
import { ServiceUnreachableError } from '../../../shared/exit-codes';

/** Where a Redis URL points, without its password (said to the user). */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 6379}`;
  } catch {
    return 'the Redis URL given';
  }
}

/**
 * Checks that the Redis the user named answers a PING before a run relies on it; a
 * ServiceUnreachableError in plain words otherwise (never ioredis's own retry messages).
 */
export async function checkRedisAnswers(url: string, timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // ioredis rejects connect() with "Connection is closed"; the cause (ECONNREFUSED…) comes as an error event.
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    await Promise.race([redis.ping(), new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`no answer to PING within ${timeoutMs} ms`)), timeoutMs).unref())]);
  } catch (error) {
    const reported = cause ?? error;
    const code = (reported as NodeJS.ErrnoException).code;
    const reason =
      code === 'ECONNREFUSED' ? 'nothing listens there (connection refused)' : code === 'ENOTFOUND' ? 'the host name does not resolve' : reported instanceof Error ? reported.message : String(reported);
    throw new ServiceUnreachableError(`Redis at ${redisAddress(url)}`, `${reason}; start it, or run without a Redis (leave out --redis and the rig's redisUrl) to use the in-process store`);
  } finally {
    redis.disconnect();
  }
}

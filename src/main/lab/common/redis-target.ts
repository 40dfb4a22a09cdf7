import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { REDIS_URL_EXPECTED } from '../../../shared/rig';

/** One Redis server, or a Redis Cluster reached through its seed nodes. */
export interface RedisTarget {
  readonly cluster: boolean;
  /** Seed nodes (a Cluster) or the one server. */
  readonly seeds: readonly { readonly host: string; readonly port: number }[];
  /** What every node needs besides its address: user, password, TLS, database. */
  readonly nodeOptions: RedisOptions;
  /** host:port[,host:port…], never the password: said to the user. */
  readonly address: string;
  /** The URL to hand to other processes: a plain URL that turned out to be a Cluster node comes back as redis+cluster://. */
  readonly url: string;
  /**
   * State changes travel by sharded pub/sub (SPUBLISH/SSUBSCRIBE on the run's slot): a Cluster of
   * Redis 7 or later. Classic PUBLISH otherwise (a Cluster of Redis 6 forwards it to every node).
   */
  readonly shardedPubSub: boolean;
  /** The server's version when it was asked (resolveRedisTarget), else undefined. */
  readonly version?: string;
}

/** A client of either kind: every command cvlab sends is the same on both. */
export type RedisClient = Redis | Cluster;

function hostPort(text: string, url: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const port = Number(match?.[2] ?? 6379);
  if (!match || port < 1 || port > 65535) throw new Error(`${url}: "${text}" is not host:port; expected ${REDIS_URL_EXPECTED}`);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** Reads a Redis URL without connecting. Throws an Error naming what was wrong. */
export function parseRedisTarget(url: string): RedisTarget {
  const scheme = /^(rediss?)(\+cluster)?:\/\//.exec(url);
  if (!scheme) throw new Error(`"${url}" is not a Redis URL; expected ${REDIS_URL_EXPECTED}`);
  const tls = scheme[1] === 'rediss';
  const cluster = scheme[2] !== undefined;
  let rest = url.slice(scheme[0].length);
  const pathAt = rest.search(/[/?#]/);
  const path = pathAt < 0 ? '' : rest.slice(pathAt);
  rest = pathAt < 0 ? rest : rest.slice(0, pathAt);
  const at = rest.lastIndexOf('@');
  const auth = at < 0 ? '' : rest.slice(0, at);
  const hosts = (at < 0 ? rest : rest.slice(at + 1)).split(',').filter((part) => part !== '');
  if (hosts.length === 0) throw new Error(`${url}: no host; expected ${REDIS_URL_EXPECTED}`);
  if (!cluster && hosts.length > 1) throw new Error(`${url}: several hosts are only for a Redis Cluster; expected redis+cluster://host:port,host:port`);
  const seeds = hosts.map((part) => hostPort(part, url));
  const nodeOptions: RedisOptions = {};
  if (auth) {
    const colon = auth.indexOf(':');
    const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
    const password = colon < 0 ? '' : decodeURIComponent(auth.slice(colon + 1));
    if (colon < 0) nodeOptions.password = username;
    else {
      if (username) nodeOptions.username = username;
      if (password) nodeOptions.password = password;
    }
  }
  if (tls) nodeOptions.tls = {};
  const database = /^\/(\d+)/.exec(path)?.[1];
  if (database !== undefined && Number(database) !== 0) {
    if (cluster) throw new Error(`${url}: a Redis Cluster has only database 0`);
    nodeOptions.db = Number(database);
  }
  const address = seeds.map((seed) => `${seed.host.includes(':') ? `[${seed.host}]` : seed.host}:${seed.port}`).join(',');
  return { cluster, seeds, nodeOptions, address, url, shardedPubSub: false };
}

/** The same target as a Cluster, seeded with its own address (a plain URL that named a Cluster node). */
function asCluster(target: RedisTarget): RedisTarget {
  const auth = target.url.match(/^rediss?:\/\/([^@/]*@)?/)?.[1] ?? '';
  const scheme = target.nodeOptions.tls ? 'rediss+cluster' : 'redis+cluster';
  return { ...target, cluster: true, url: `${scheme}://${auth}${target.address}` };
}

const sleep = (ms: number): Promise<'timeout'> =>
  new Promise((resolve) => {
    setTimeout(() => resolve('timeout'), ms).unref();
  });

/**
 * Reads a Redis URL and asks the server what it is: a plain URL that names a Redis Cluster node
 * (INFO says cluster_enabled:1) becomes a Cluster target seeded with that node, and the server's
 * version decides sharded pub/sub. When nothing answers within `timeoutMs` the URL is taken as
 * written (the caller says so or falls back).
 */
export async function resolveRedisTarget(url: string, timeoutMs = 2000): Promise<RedisTarget> {
  const target = parseRedisTarget(url);
  const seeds = target.seeds;
  // Any seed will do: every node of a Cluster answers INFO about itself.
  for (const seed of seeds) {
    const probe = new Redis({ ...target.nodeOptions, host: seed.host, port: seed.port, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      const answer = await Promise.race([
        probe.connect().then(async () => [await probe.info('server'), await probe.info('cluster')] as const),
        sleep(timeoutMs),
      ]);
      if (answer === 'timeout') continue;
      const version = /redis_version:(\S+)/.exec(answer[0])?.[1];
      const clusterEnabled = /cluster_enabled:1/.test(answer[1]);
      const resolved = clusterEnabled && !target.cluster ? asCluster(target) : target;
      const major = Number(version?.split('.')[0] ?? 0);
      return { ...resolved, ...(version ? { version } : {}), shardedPubSub: resolved.cluster && major >= 7 };
    } catch {
      // the next seed
    } finally {
      probe.disconnect();
    }
  }
  return target;
}

/** How a client of cvlab connects: the options of one node, and what a Cluster client adds. */
export interface RedisClientOptions extends RedisOptions {
  /** A Cluster client subscribes with SSUBSCRIBE through one connection per master. */
  readonly shardedSubscribers?: boolean;
  /** How often a Cluster client rereads which node serves which slot, ms (ioredis's default is 5 s). */
  readonly slotsRefreshIntervalMs?: number;
}

/**
 * A client for the target: ioredis's Redis for one server, its Cluster client (MOVED and ASK
 * followed, slots refreshed, scripts loaded on the node that runs them) for a Cluster.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions = {}): RedisClient {
  const { shardedSubscribers, slotsRefreshIntervalMs, lazyConnect, enableOfflineQueue, ...givenOptions } = options;
  // ioredis 5.8.2+ names itself to the server (CLIENT SETINFO) after reading its package.json, and
  // a SUBSCRIBE written in that gap puts the connection in subscriber mode before the INFO ready
  // check: the check fails, the connection is dropped and messages published meanwhile are lost
  // (redis/ioredis#2037). cvlab needs no client name on the server.
  const nodeOptions: RedisOptions = { disableClientInfo: true, ...givenOptions };
  if (!target.cluster) {
    return new Redis(target.url, { ...nodeOptions, ...(lazyConnect !== undefined ? { lazyConnect } : {}), ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}) });
  }
  const retryStrategy = nodeOptions.retryStrategy;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...target.nodeOptions, ...nodeOptions },
    scaleReads: 'master',
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    shardedSubscribers: shardedSubscribers ?? false,
    slotsRefreshInterval: slotsRefreshIntervalMs ?? 1000,
    slotsRefreshTimeout: Math.max(500, nodeOptions.connectTimeout ?? 1000),
    // A node that was lost (killed) is reconnected to as a single server would be: a master that
    // comes back with its slots and no failover sends no MOVED to tell the client.
    ...(retryStrategy ? { clusterNodeRetryStrategy: (attempt: number) => retryStrategy(attempt) ?? null } : {}),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
  };
  return new Cluster(
    target.seeds.map((seed) => ({ host: seed.host, port: seed.port })),
    clusterOptions,
  );
}

/** The Cluster slot of a key (its {hash tag} decides). */
export function slotOfKey(key: string): number {
  return calculateSlot(key);
}

/** The node (host:port) a Cluster client last knew as the master of a slot. */
export function masterOfSlot(client: RedisClient, slot: number): string | undefined {
  return client instanceof Cluster ? client.slots[slot]?.[0] : undefined;
}

/** The connection a Cluster client uses for the master of a slot; undefined before it knows the slot. */
export function nodeOfSlot(client: Cluster, slot: number): Redis | undefined {
  const master = client.slots[slot]?.[0];
  if (master === undefined) return undefined;
  // ioredis keeps its nodes by "host:port", the same key as in `slots`; the pool is not in its types.
  const pool = (client as unknown as { connectionPool?: { getInstanceByKey?: (key: string) => Redis | undefined } }).connectionPool;
  return pool?.getInstanceByKey?.(master);
}

/** Every key matching `pattern` (SCAN on each master of a Cluster, where the keys live). */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  const keys: string[] = [];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, found] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
  }
  return keys;
}

/** Where a failure happened: the target, and the run's slot on a Cluster. */
export interface RedisFailureContext {
  readonly target: RedisTarget;
  /** The slot of the run's keys (a Cluster). */
  readonly slot?: number;
  /** The node that served that slot when last known. */
  readonly node?: string;
}

/**
 * A Redis failure in plain words: which node, which slot, what to do, instead of ioredis's own
 * texts ("MOVED 1234 …", "Connection is closed.", "CLUSTERDOWN …").
 */
export function describeRedisFailure(error: unknown, context: RedisFailureContext): string {
  const text = error instanceof Error ? error.message : String(error);
  const { target, slot, node } = context;
  const moved = /^(?:MOVED|ASK) (\d+) (\S+)/.exec(text);
  if (moved) {
    return `${target.address} is a Redis Cluster node (it sent slot ${moved[1]} to ${moved[2]}); use redis+cluster://${target.address}`;
  }
  const runSlot = slot === undefined ? '' : ` slot ${slot} (the run's keys)`;
  if (/CLUSTERDOWN/.test(text)) {
    return `the Redis Cluster does not serve${runSlot || ' the run\'s slot'}${node ? `: its master ${node} is gone and no replica has taken over` : ''}`;
  }
  if (target.cluster && /Connection is closed|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|All nodes failed|Failed to refresh slots|None of startup nodes/i.test(text)) {
    // ioredis's own texts ("Reached the max retries per request limit…") say nothing to a technician.
    const cause = /ECONNREFUSED/.test(text) ? 'connection refused' : /ECONNRESET|EPIPE|Connection is closed|max retries per request/i.test(text) ? 'its connection closed' : text.replace(/\.$/, '');
    return `Redis Cluster node ${node ?? target.address}${runSlot ? `, master of${runSlot},` : ''} does not answer (${cause})`;
  }
  return `Redis failed: ${text}`;
}

/**
 * Redis TIME as [seconds, microseconds]. On a Cluster, from the master of `routeKey`'s slot: the
 * node whose clock stamps the run's commits (TIME alone would go to any node).
 */
export async function redisTime(client: RedisClient, routeKey: string): Promise<[string, string]> {
  if (client instanceof Cluster) return (await client.eval("return redis.call('TIME')", 1, routeKey)) as [string, string];
  const [seconds, microseconds] = await client.time();
  return [String(seconds), String(microseconds)];
}

/** What one node of a Cluster says of it: CLUSTER INFO and CLUSTER NODES, and the round trip of the first. */
export interface ClusterView {
  /** The seed that answered. */
  readonly node: string;
  readonly info: string;
  readonly nodes: string;
  readonly roundTripMs: number;
}

/**
 * Asks the seeds in turn (plain connections, no Cluster client: a Cluster that serves not every
 * slot never becomes ready for one) what the Cluster looks like; undefined when none answers.
 */
export async function readClusterView(target: RedisTarget, timeoutMs = 2000): Promise<ClusterView | undefined> {
  for (const seed of target.seeds) {
    const node = new Redis({ ...target.nodeOptions, host: seed.host, port: seed.port, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    node.on('error', () => undefined);
    try {
      const answer = await Promise.race([
        node.connect().then(async () => {
          const started = performance.now();
          const info = String(await node.cluster('INFO'));
          const roundTripMs = performance.now() - started;
          return { node: `${seed.host}:${seed.port}`, info, nodes: String(await node.cluster('NODES')), roundTripMs };
        }),
        sleep(timeoutMs),
      ]);
      if (answer !== 'timeout') return answer;
    } catch {
      // the next seed
    } finally {
      node.disconnect();
    }
  }
  return undefined;
}

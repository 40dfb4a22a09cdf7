import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { AppliedChange, Assignment } from '../../../shared/message';
import type { RigConfig, VariableConfig } from '../../../shared/rig';
import { describeLimit, type LimitDecision } from './hybrid-rate-limiter';
import { MemoryStateStore, unknownVariable } from './memory-state-store';
import { redisCommitScript } from './redis-commit.lua';
import type { CommitResult, RemoteChange, StateStore, StateStoreCounters, StateStoreOptions, VariableState } from './state-store';

export interface RedisStateStoreOptions extends StateStoreOptions {
  readonly redisUrl: string;
}

/** The Redis key names of one run; the `{namespace}` hash tag keeps them on one Cluster slot. */
export interface NamespaceKeys {
  readonly prefix: string;
  readonly state: string;
  readonly global: string;
  readonly channel: string;
  user(user: string): string;
}

/** Builds the key names of a namespace; refuses names that would break the hash tag. */
export function namespaceKeys(namespace: string): NamespaceKeys {
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(namespace)) {
    throw new Error(`namespace "${namespace}" is not usable as a Redis key prefix: expected 1–100 letters, digits, '_', '.', ':' or '-'`);
  }
  const prefix = `cvlab:{${namespace}}:`;
  return {
    prefix,
    state: `${prefix}state`,
    global: `${prefix}global`,
    channel: `${prefix}changes`,
    user: (user) => `${prefix}u:${user}`,
  };
}

const DEFAULT_KEY_TTL_MS = 10 * 60 * 1000;

type CommitReply = (string | number)[];

type CommitRedis = Redis & { cvlabCommit(...args: (string | number)[]): Promise<CommitReply> };

/** One message on the changes channel, as the commit script writes it. */
interface PublishedMessage {
  /** Instance id. */
  i: string;
  /** Writer (user). */
  w: string;
  /** Redis TIME: seconds, microseconds. */
  t: [number, number];
  /** Changes: variable, value as text, version. */
  c: [string, string, number][];
}

/** Reads one published change message; undefined when it is not one of ours. */
function parsePublished(text: string): PublishedMessage | undefined {
  try {
    const message = JSON.parse(text) as Partial<PublishedMessage>;
    if (typeof message.i !== 'string' || typeof message.w !== 'string' || !Array.isArray(message.t) || !Array.isArray(message.c)) return undefined;
    return message as PublishedMessage;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<'timeout'> =>
  new Promise((resolve) => {
    setTimeout(() => resolve('timeout'), ms).unref();
  });

/**
 * The state store on Redis: the limiter and the state write run as ONE Lua script (one round
 * trip, auto-pipelined with concurrent messages), each change is PUBLISHed for the other
 * instances, and every key expires if the process dies. When Redis fails or is slow, the
 * message goes through the in-process limiter and a memory mirror instead, and is counted.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  private readonly keys: NamespaceKeys;
  private readonly mirror: MemoryStateStore;
  private readonly variables = new Map<string, VariableConfig>();
  /** ARGV[4] of the commit script: key expiry, whole ms. */
  private readonly keyTtl: string;
  /** Start of the published JSON, up to the writer. */
  private readonly publishHead: string;
  private readonly listeners = new Set<(change: RemoteChange) => void>();
  private fallbacks = 0;
  private redisErrors = 0;
  private closed = false;

  private constructor(
    private readonly rig: RigConfig,
    private readonly options: RedisStateStoreOptions,
    private readonly redis: CommitRedis,
    private readonly subscriber: Redis,
  ) {
    this.keys = namespaceKeys(options.namespace);
    this.mirror = new MemoryStateStore(rig);
    for (const variable of rig.variables) this.variables.set(variable.name, variable);
    // PEXPIRE takes whole milliseconds; under a second would expire keys mid-run.
    this.keyTtl = String(Math.max(1000, Math.round(options.keyTtlMs ?? DEFAULT_KEY_TTL_MS)));
    this.publishHead = `{"i":${JSON.stringify(options.instanceId)},"w":`;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.keys.channel) this.receive(text);
    });
  }

  /**
   * Opens the command and subscriber connections. Does not fail when Redis is down: the store
   * starts in fallback mode and moves to Redis once it answers.
   */
  static async connect(rig: RigConfig, options: RedisStateStoreOptions): Promise<RedisStateStore> {
    namespaceKeys(options.namespace);
    const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    const redis = new Redis(options.redisUrl, {
      lazyConnect: true,
      enableAutoPipelining: false,
      // Fail fast and fall back instead of queueing messages behind a dead connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 250,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 50, 1000),
    }) as CommitRedis;
    redis.defineCommand('cvlabCommit', { numberOfKeys: 3, lua: redisCommitScript(rig) });
    // Connection errors are expected while Redis is down (commits fall back); failed commands are counted.
    redis.on('error', () => undefined);
    const subscriber = new Redis(options.redisUrl, {
      lazyConnect: true,
      // The subscription may wait for Redis to come back; it is never on a message's path.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 50, 1000),
    });
    subscriber.on('error', () => undefined);
    const store = new RedisStateStore(rig, options, redis, subscriber);
    const connected = await Promise.race([redis.connect().then(() => true, () => false), sleep(connectTimeoutMs)]);
    // Subscribe before the first commit so no change of another instance is missed.
    const subscription = subscriber.subscribe(store.keys.channel).catch(() => undefined);
    if (connected === true) await Promise.race([subscription, sleep(connectTimeoutMs)]);
    return store;
  }

  async commit(user: string, assignments: readonly Assignment[]): Promise<CommitResult> {
    // The mirror refuses unknown variables in plain words without touching Redis.
    if (unknownVariable(this.variables, assignments) !== undefined) return this.mirror.commitNow(user, assignments);
    if (this.redis.status !== 'ready') return this.fallback(user, assignments);
    const start = process.hrtime.bigint();
    const args: (string | number)[] = [
      this.keys.state,
      this.keys.user(user),
      this.keys.global,
      user,
      this.publishHead + JSON.stringify(user),
      this.keys.channel,
      this.keyTtl,
      assignments.length,
    ];
    for (const assignment of assignments) {
      const spec = assignment.spec;
      // Used when Redis holds no value yet: the default, or what this instance wrote while Redis was away.
      const known = this.mirror.stateOf(assignment.variable);
      if (spec.kind === 'relative') args.push(assignment.variable, 'r', spec.delta, known.value, known.version + 1);
      else args.push(assignment.variable, 'a', spec.value, known.value, known.version + 1);
    }
    let reply: CommitReply;
    try {
      reply = await this.redis.cvlabCommit(...args);
    } catch {
      this.redisErrors++;
      return this.fallback(user, assignments, Number(process.hrtime.bigint() - start));
    }
    const limitNs = Number(process.hrtime.bigint() - start);
    if (reply[0] !== 1) {
      return { ok: false, rejection: describeLimit(this.decisionOf(reply), user, this.rig.limiter), limitNs };
    }
    const changes: AppliedChange[] = [];
    for (let index = 0; index < assignments.length; index++) {
      const variable = (assignments[index] as Assignment).variable;
      changes.push({ variable, value: Number(reply[3 + index * 2]), version: Number(reply[4 + index * 2]), writer: user });
    }
    this.mirror.absorb(changes);
    return { ok: true, changes, limitNs };
  }

  async snapshot(): Promise<Record<string, VariableState>> {
    if (this.redis.status === 'ready') {
      try {
        const stored = await this.redis.hgetall(this.keys.state);
        const changes: AppliedChange[] = [];
        for (const variable of this.variables.keys()) {
          const value = stored[variable];
          const version = stored[`${variable}:v`];
          if (value === undefined || version === undefined) continue;
          changes.push({ variable, value: Number(value), version: Number(version), writer: stored[`${variable}:w`] ?? '' });
        }
        this.mirror.absorb(changes);
      } catch {
        this.redisErrors++;
      }
    }
    return this.mirror.snapshotNow();
  }

  onDidChange(listener: (change: RemoteChange) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  counters(): StateStoreCounters {
    return { fallbacks: this.fallbacks, redisErrors: this.redisErrors };
  }

  async roundTripMs(): Promise<number | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    const start = performance.now();
    try {
      await this.redis.ping();
      return performance.now() - start;
    } catch {
      return undefined;
    }
  }

  async close(options: { purge?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    if (options.purge && this.redis.status === 'ready') {
      try {
        await this.purge();
      } catch {
        // Redis went away: the keys still expire on their own (keyTtlMs).
        this.redisErrors++;
      }
    }
    await Promise.all([quit(this.redis), quit(this.subscriber)]);
    await this.mirror.close();
  }

  /** Deletes every key of the namespace (and nothing else). */
  private async purge(): Promise<void> {
    const pattern = `${this.keys.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await this.redis.unlink(...found);
    } while (cursor !== '0');
  }

  /** Decides the message in process; `lostNs` (a failed Redis attempt) counts toward the limit stage. */
  private fallback(user: string, assignments: readonly Assignment[], lostNs = 0): CommitResult {
    this.fallbacks++;
    const result = this.mirror.commitNow(user, assignments);
    return lostNs === 0 ? result : { ...result, limitNs: result.limitNs + lostNs };
  }

  private decisionOf(reply: CommitReply): Exclude<LimitDecision, { ok: true }> {
    const code = reply[1];
    const waitMs = Number(reply[2]);
    if (code === 'cooldown') {
      const variable = String(reply[3]);
      return { ok: false, code, waitMs, variable, sinceMs: Number(reply[4]), cooldownMs: this.variables.get(variable)?.cooldownMs ?? 0 };
    }
    return { ok: false, code: code === 'rate_limited_global' ? code : 'rate_limited_user', waitMs };
  }

  private receive(text: string): void {
    // Our own changes come back on the channel too: skip them before parsing.
    if (text.startsWith(this.publishHead)) return;
    const message = parsePublished(text);
    if (!message || message.i === this.options.instanceId) return;
    const publishedAtMs = Number(message.t[0]) * 1000 + Number(message.t[1]) / 1000;
    const changes: RemoteChange[] = message.c.map(([variable, value, version]) => ({
      variable,
      value: Number(value),
      version: Number(version),
      writer: message.w,
      instanceId: message.i,
      publishedAtMs,
    }));
    this.mirror.absorb(changes);
    for (const listener of this.listeners) for (const change of changes) listener(change);
  }
}

/** Closes a connection politely when it is up, at once otherwise. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await Promise.race([connection.quit(), sleep(1000)]);
    } catch {
      // Falls through to disconnect.
    }
  }
  connection.disconnect();
}

import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { Cluster } from 'ioredis';
import { Emitter } from '../../../../shared/emitter';
import type { AppliedChange, Assignment } from '../../../../shared/message';
import type { RigConfig, VariableConfig } from '../../../../shared/rig';
import { describeLimit, type LimitDecision } from './hybrid-rate-limiter';
import { MemoryStateStore, unknownVariable } from './memory-state-store';
import { redisCommitScript } from './redis-commit.lua';
import { createRedisClient, describeRedisFailure, masterOfSlot, nodeOfSlot, resolveRedisTarget, scanKeys, slotOfKey, type RedisClient, type RedisTarget } from '../../common/redis-target';
import type { CommitResult, DegradedState, RemoteChange, StateStore, StateStoreCounters, StateStoreOptions, VariableState } from './state-store';

export interface RedisStateStoreOptions extends StateStoreOptions {
  /** redis://… (one server, or a Cluster node: detected) or redis+cluster://host:port[,host:port…]. */
  readonly redisUrl: string;
}

/** The Redis key names of one run; the `{namespace}` hash tag keeps them on one Cluster slot. */
export interface NamespaceKeys {
  readonly prefix: string;
  /** The variables, and the global bucket (field @g), of the run. */
  readonly state: string;
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
    channel: `${prefix}changes`,
    user: (user) => `${prefix}u:${user}`,
  };
}

const DEFAULT_KEY_TTL_MS = 10 * 60 * 1000;

type CommitReply = (string | number)[];

type CommitRedis = RedisClient & {
  cvlabCommit(...args: (string | number)[]): Promise<CommitReply>;
  /** TIME of the node that serves the key's slot (a Cluster sends TIME itself to any node). */
  cvlabTime(key: string): Promise<[string, string]>;
};

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

/** Of the command timeout, the part a commit's lease lasts; the rest is left for its reply to travel. */
const LEASE_FRACTION = 0.6;
/** How far the two clocks may drift apart per ms since the last reading (1000 ppm, twice NTP's worst slew). */
const CLOCK_DRIFT_ALLOWANCE = 1e-3;
/** Commits held for one write at most; a burst goes out in writes of this many. */
const MAX_HELD_COMMITS = 32;
/** How often a store that stopped asking Redis (a commit overran its timeout) checks whether it answers again. */
const RECOVERY_PING_EVERY_MS = 100;

const sleep = (ms: number): Promise<'timeout'> =>
  new Promise((resolve) => {
    setTimeout(() => resolve('timeout'), ms).unref();
  });

/**
 * The state store on Redis: the limiter and the state write run as ONE Lua script (one round
 * trip, written in one batch with the other commits of the same event-loop turn), each change is PUBLISHed for the other
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
  /** Replies that applied a message after this store had already decided it in process (should stay 0). */
  private lateApplied = 0;
  private closed = false;
  private readonly commandTimeoutMs: number;
  private readonly leaseMs: number;
  /**
   * A lower bound of (Redis TIME − performance.now()) in ms, from the latest reply: Redis time
   * read during the script, minus the local time the reply arrived. With it a lease is written in
   * Redis's clock such that, once the local timeout passes, the lease is surely over in Redis.
   */
  private clockOffsetMs: number | undefined;
  private clockSampledAtMs = 0;
  /** A commit overran its timeout: messages are decided in process until a PING answers. */
  private suspect = false;
  private suspectReason = 'Redis stopped answering';
  /**
   * Commits sent to Redis whose answer (or timeout) is still awaited, by epoch: an in-process
   * decision waits for the commits sent before it (its epoch and older), never for later ones.
   */
  private readonly inFlightByEpoch = new Map<number, number>();
  private epoch = 0;
  private drainWaiters: { upTo: number; resolve: () => void }[] = [];
  private recoveryTimer: NodeJS.Timeout | undefined;
  private degraded: DegradedState = { degraded: false, reason: '' };
  private readonly degradedEmitter = new Emitter<DegradedState>();
  readonly onDidChangeDegraded = this.degradedEmitter.event;
  /** The Cluster slot of the run's keys (every key carries the namespace's hash tag). */
  private readonly slot: number;
  /** The master that served the run's slot when last known (a Cluster), named when it fails. */
  private slotMaster: string | undefined;
  /** The commit connection's socket while it holds this event-loop turn's commits (see holdWritesForThisTurn). */
  private heldSocket: Writable | undefined;
  private heldCommits = 0;
  private releaseScheduled = false;
  private readonly coalesceWrites: boolean;

  private constructor(
    private readonly rig: RigConfig,
    private readonly options: RedisStateStoreOptions,
    private readonly target: RedisTarget,
    private readonly redis: CommitRedis,
    private readonly subscriber: RedisClient,
  ) {
    this.keys = namespaceKeys(options.namespace);
    this.slot = slotOfKey(this.keys.state);
    this.mirror = new MemoryStateStore(rig);
    for (const variable of rig.variables) this.variables.set(variable.name, variable);
    // PEXPIRE takes whole milliseconds; under a second would expire keys mid-run.
    this.keyTtl = String(Math.max(1000, Math.round(options.keyTtlMs ?? DEFAULT_KEY_TTL_MS)));
    this.publishHead = `{"i":${JSON.stringify(options.instanceId)},"w":`;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 250;
    this.leaseMs = this.commandTimeoutMs * LEASE_FRACTION;
    this.coalesceWrites = options.coalesceWrites ?? true;
    subscriber.on(target.shardedPubSub ? 'smessage' : 'message', (channel: string, text: string) => {
      if (channel === this.keys.channel) this.receive(text);
    });
    redis.on('ready', () => {
      this.slotMaster = masterOfSlot(redis, this.slot) ?? this.slotMaster;
      void this.sampleClock().then((ok) => {
        if (ok && !this.suspect) this.setDegraded(false, 'Redis answers again');
      });
    });
  }

  /**
   * Opens the command and subscriber connections. Does not fail when Redis is down: the store
   * starts in fallback mode and moves to Redis once it answers.
   */
  static async connect(rig: RigConfig, options: RedisStateStoreOptions): Promise<RedisStateStore> {
    namespaceKeys(options.namespace);
    const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    // A plain URL that names a Cluster node becomes a Cluster (and Redis 7 gets sharded pub/sub).
    const target = await resolveRedisTarget(options.redisUrl, connectTimeoutMs);
    const redis = createRedisClient(target, {
      lazyConnect: true,
      enableAutoPipelining: false,
      // Fail fast and fall back instead of queueing messages behind a dead connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // No commandTimeout: a command that timed out would still run when a frozen Redis wakes.
      // commit() races its own timer and keeps the reply in view (see the lease in the script).
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 50, 1000),
    }) as CommitRedis;
    // On a Cluster each node loads the script the first time it runs there (EVALSHA, then EVAL on NOSCRIPT).
    redis.defineCommand('cvlabCommit', { numberOfKeys: 2, lua: redisCommitScript(rig, target.shardedPubSub ? 'SPUBLISH' : 'PUBLISH') });
    redis.defineCommand('cvlabTime', { numberOfKeys: 1, lua: "return redis.call('TIME')" });
    // Connection errors are expected while Redis is down (commits fall back); failed commands are counted.
    redis.on('error', () => undefined);
    const subscriber = createRedisClient(target, {
      lazyConnect: true,
      shardedSubscribers: target.shardedPubSub,
      // The subscription may wait for Redis to come back; it is never on a message's path.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 50, 1000),
    });
    subscriber.on('error', () => undefined);
    const store = new RedisStateStore(rig, options, target, redis, subscriber);
    const connected = await Promise.race([redis.connect().then(() => true, () => false), sleep(connectTimeoutMs)]);
    // Subscribe before the first commit so no change of another instance is missed.
    const channel = store.keys.channel;
    const subscription = target.shardedPubSub && subscriber instanceof Cluster ? shardedSubscribe(subscriber, channel, connectTimeoutMs) : subscriber.subscribe(channel).catch(() => undefined);
    // A sharded subscription waits for ioredis to read the slots and connect to the slot's master:
    // on a busy machine that outlasts the connect timeout, and a store that starts before it misses
    // the other instances' first changes (a run's global cap may be spent in its first moments).
    if (connected === true) await Promise.race([subscription, sleep(target.shardedPubSub ? Math.max(connectTimeoutMs, 15_000) : connectTimeoutMs)]);
    return store;
  }

  /**
   * One message through the commit script. Exactly once: a message goes to Redis or is decided
   * in process, never both. A commit carries a lease in Redis's clock; only once the lease is
   * surely over (the local timeout, past a lower bound of the clock offset) is a commit that got
   * no answer decided in process, and a script that reaches a frozen Redis and runs when it wakes
   * finds its lease over and does nothing. After a timeout no message is sent to Redis until a
   * PING answers again: a frozen Redis does not pile up work.
   */
  async commit(user: string, assignments: readonly Assignment[]): Promise<CommitResult> {
    // The mirror refuses unknown variables in plain words without touching Redis.
    if (unknownVariable(this.variables, assignments) !== undefined) return this.mirror.commitNow(user, assignments);
    if (this.redis.status !== 'ready') return this.fallbackAfterDrain(user, assignments, 0, this.target.cluster ? `the Redis Cluster at ${this.target.address} is not connected` : 'Redis is not connected');
    if (this.suspect) return this.fallbackAfterDrain(user, assignments, 0, this.suspectReason);
    if (this.clockOffsetMs === undefined && !(await this.sampleClock())) {
      return this.fallback(user, assignments, 0, 'Redis did not answer TIME');
    }
    const start = process.hrtime.bigint();
    const args: (string | number)[] = [
      this.keys.state,
      this.keys.user(user),
      user,
      this.publishHead + JSON.stringify(user),
      this.keys.channel,
      this.keyTtl,
      '',
      assignments.length,
    ];
    for (const assignment of assignments) {
      const spec = assignment.spec;
      // Used when Redis holds no value yet, or an older one than this instance knows.
      const known = this.mirror.stateOf(assignment.variable);
      if (spec.kind === 'relative') args.push(assignment.variable, 'r', spec.delta, known.value, known.version + 1);
      else args.push(assignment.variable, 'a', spec.value, known.value, known.version + 1);
    }
    let reply: CommitReply | 'timeout';
    // Two tries at most: a script that found its lease over did nothing and may be sent again.
    for (let attempt = 0; ; attempt++) {
      const sentAtMs = performance.now();
      args[6] = (sentAtMs + this.offsetLowerBound(sentAtMs) + this.leaseMs).toFixed(3);
      const epoch = this.epoch;
      this.inFlightByEpoch.set(epoch, (this.inFlightByEpoch.get(epoch) ?? 0) + 1);
      if (this.coalesceWrites) this.holdWritesForThisTurn();
      const pending = this.redis.cvlabCommit(...args);
      let timer: NodeJS.Timeout | undefined;
      // The timer's verdict waits for setImmediate: a reply that came in while this event loop was
      // busy is read (poll phase) before the timeout is believed.
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => setImmediate(() => resolve('timeout')), this.commandTimeoutMs);
      });
      try {
        reply = await Promise.race([pending, timedOut]);
      } catch (error) {
        clearTimeout(timer);
        this.settled(epoch);
        this.redisErrors++;
        const reason = this.describeFailure(error);
        // A Cluster node that failed stays failed for a while (until a replica takes over or it
        // comes back): stop asking until the run's slot answers again, as after a timeout.
        if (this.target.cluster) this.startRecovery(reason);
        // Redis may have read the script before the connection broke: decide once its lease is over.
        const leftMs = sentAtMs + this.leaseMs - performance.now();
        if (leftMs > 0) await sleep(leftMs);
        return this.fallbackAfterDrain(user, assignments, Number(process.hrtime.bigint() - start), reason);
      }
      clearTimeout(timer);
      this.settled(epoch);
      if (reply === 'timeout') {
        this.redisErrors++;
        const reason = this.target.cluster
          ? `Redis Cluster node ${this.slotMasterNow() ?? this.target.address}, master of slot ${this.slot} (the run's keys), did not answer within ${this.commandTimeoutMs} ms`
          : `Redis did not answer within ${this.commandTimeoutMs} ms`;
        this.startRecovery(reason);
        pending.then((late) => {
          if (late[0] === 1) this.lateApplied++;
        }, () => undefined);
        return this.fallbackAfterDrain(user, assignments, Number(process.hrtime.bigint() - start), reason);
      }
      const code = reply[0];
      const timeAt = code === 0 ? 5 : 1;
      this.noteClock(Number(reply[timeAt]) * 1000 + Number(reply[timeAt + 1]) / 1000, performance.now());
      if (code !== 2) break;
      // The script started after its lease (Redis or this process was very busy) and did nothing.
      if (attempt >= 1) return this.fallbackAfterDrain(user, assignments, Number(process.hrtime.bigint() - start), 'Redis ran the commit after its lease twice');
    }
    const limitNs = Number(process.hrtime.bigint() - start);
    if (this.degraded.degraded) this.setDegraded(false, 'Redis answers again');
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

  /**
   * Holds the commit connection's writes until the end of this event-loop turn (cork, then
   * uncork on process.nextTick, which runs once this turn's callbacks and promise reactions are
   * done): the commits of every message started in one turn go to Redis in one write, and Redis
   * reads them in one read, instead of a syscall on each side per message. Each message is still
   * its own EVALSHA with its own lease and reply. The lease counts from before the hold, so a
   * held write only shortens it. A long turn (a burst after a stall) lets every
   * MAX_HELD_COMMITS go as they fill, so the first of a burst does not wait for all the rest.
   */
  private holdWritesForThisTurn(): void {
    if (this.heldSocket !== undefined) {
      if (++this.heldCommits <= MAX_HELD_COMMITS) return;
      this.releaseWrites();
    }
    const socket = this.commitSocket();
    if (socket === undefined || socket.writableCorked > 0) return;
    socket.cork();
    this.heldSocket = socket;
    this.heldCommits = 1;
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    process.nextTick(this.releaseAtTurnEnd);
  }

  private readonly releaseAtTurnEnd = (): void => {
    this.releaseScheduled = false;
    this.releaseWrites();
  };

  private releaseWrites(): void {
    const socket = this.heldSocket;
    this.heldSocket = undefined;
    socket?.uncork();
  }

  /** The socket the commits travel on: the one server's, or that of the master of the run's slot. */
  private commitSocket(): Writable | undefined {
    if (!(this.redis instanceof Cluster)) return this.redis.stream;
    return nodeOfSlot(this.redis, this.slot)?.stream;
  }

  /** The current state of the store's link to Redis. */
  degradedState(): DegradedState {
    return this.degraded;
  }

  /** The clock offset's lower bound, less what the clocks may have drifted since it was read. */
  private offsetLowerBound(nowMs: number): number {
    return (this.clockOffsetMs as number) - (nowMs - this.clockSampledAtMs) * CLOCK_DRIFT_ALLOWANCE - 1;
  }

  /**
   * Keeps the tightest lower bound: a reply read late (a busy event loop) gives a loose one,
   * which would shorten every lease after it.
   */
  private noteClock(redisMs: number, receivedAtMs: number): void {
    const sample = redisMs - receivedAtMs;
    if (this.clockOffsetMs !== undefined && sample <= this.offsetLowerBound(receivedAtMs) + 1) return;
    this.clockOffsetMs = sample;
    this.clockSampledAtMs = receivedAtMs;
  }

  /** The master of the run's slot as the Cluster client knows it now (kept for when it fails). */
  private slotMasterNow(): string | undefined {
    this.slotMaster = masterOfSlot(this.redis, this.slot) ?? this.slotMaster;
    return this.slotMaster;
  }

  private describeFailure(error: unknown): string {
    return describeRedisFailure(error, { target: this.target, slot: this.target.cluster ? this.slot : undefined, node: this.slotMasterNow() });
  }

  /** Redis TIME of the node that runs the commits: on a Cluster, the master of the run's slot. */
  private time(): Promise<[string, string] | string[]> {
    return this.target.cluster ? this.redis.cvlabTime(this.keys.state) : this.redis.time().then((answer) => answer.map(String));
  }

  /** Reads Redis TIME once for the clock offset; false when Redis did not answer in time. */
  private async sampleClock(): Promise<boolean> {
    try {
      const answer = await Promise.race([this.time(), sleep(this.commandTimeoutMs * 4)]);
      if (answer === 'timeout') return false;
      this.noteClock(Number(answer[0]) * 1000 + Number(answer[1]) / 1000, performance.now());
      return true;
    } catch {
      return false;
    }
  }

  /** After a timeout: PINGs Redis now and then, and sends messages to it again once one answers. */
  private startRecovery(reason: string): void {
    if (this.suspect || this.closed) return;
    this.suspect = true;
    // Messages decided in process meanwhile carry the cause, not a vaguer word of their own.
    this.suspectReason = reason;
    const check = (): void => {
      this.recoveryTimer = undefined;
      if (this.closed) return;
      // On a Cluster the probe goes to whichever node serves the run's slot now (a promoted replica too).
      void Promise.race([this.target.cluster ? this.time() : this.redis.ping(), sleep(this.commandTimeoutMs * 4)]).then(
        async (answer) => {
          if (answer === 'timeout' || this.closed || !(await this.sampleClock())) return void this.scheduleRecovery(check);
          this.suspect = false;
          this.setDegraded(false, this.target.cluster ? `slot ${this.slot} (the run's keys) is served again, by ${this.slotMasterNow() ?? 'the Cluster'}` : 'Redis answers again');
        },
        () => this.scheduleRecovery(check),
      );
    };
    this.scheduleRecovery(check);
  }

  private scheduleRecovery(check: () => void): void {
    if (this.closed) return;
    this.recoveryTimer = setTimeout(check, RECOVERY_PING_EVERY_MS);
    this.recoveryTimer.unref();
  }

  private setDegraded(degraded: boolean, reason: string): void {
    if (this.degraded.degraded === degraded) return;
    this.degraded = { degraded, reason };
    this.degradedEmitter.fire(this.degraded);
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
    return { fallbacks: this.fallbacks, redisErrors: this.redisErrors, lateApplied: this.lateApplied };
  }

  async roundTripMs(): Promise<number | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    const start = performance.now();
    try {
      // On a Cluster: the round trip to the node that serves the run's slot.
      if (this.target.cluster) await this.time();
      else await this.redis.ping();
      return performance.now() - start;
    } catch {
      return undefined;
    }
  }

  async close(options: { purge?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.recoveryTimer);
    this.listeners.clear();
    this.degradedEmitter.dispose();
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
    const found = await scanKeys(this.redis, pattern);
    // One slot (the hash tag): one UNLINK per thousand keys, even on a Cluster.
    for (let index = 0; index < found.length; index += 1000) await this.redis.unlink(...found.slice(index, index + 1000));
  }

  private settled(epoch: number): void {
    const left = (this.inFlightByEpoch.get(epoch) ?? 1) - 1;
    if (left > 0) return void this.inFlightByEpoch.set(epoch, left);
    this.inFlightByEpoch.delete(epoch);
    if (this.drainWaiters.length === 0) return;
    let oldest = Infinity;
    for (const pending of this.inFlightByEpoch.keys()) if (pending < oldest) oldest = pending;
    const waiting: typeof this.drainWaiters = [];
    for (const waiter of this.drainWaiters) {
      if (waiter.upTo < oldest) waiter.resolve();
      else waiting.push(waiter);
    }
    this.drainWaiters = waiting;
  }

  /**
   * Decides in process once every commit sent before this one has its answer (or timed out): a
   * commit still in flight may yet be answered, and its version must be known here before this
   * instance hands out the next one (otherwise Redis and the stand-in could give two messages
   * one version). Commits sent later do not hold it up.
   */
  private async fallbackAfterDrain(user: string, assignments: readonly Assignment[], lostNs: number, reason: string): Promise<CommitResult> {
    if (this.inFlightByEpoch.size === 0) return this.fallback(user, assignments, lostNs, reason);
    const waitStart = process.hrtime.bigint();
    const upTo = this.epoch++;
    await new Promise<void>((resolve) => this.drainWaiters.push({ upTo, resolve }));
    return this.fallback(user, assignments, lostNs + Number(process.hrtime.bigint() - waitStart), reason);
  }

  /** Decides the message in process; `lostNs` (a failed Redis attempt) counts toward the limit stage. */
  private fallback(user: string, assignments: readonly Assignment[], lostNs: number, reason: string): CommitResult {
    this.fallbacks++;
    this.setDegraded(true, reason);
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

/**
 * SSUBSCRIBE through ioredis's Cluster client, tried again until it holds: until the client has
 * read the slots and started the subscriber of the slot's master, it refuses ("No sharded
 * subscriber for slot"), and a refused subscription would miss every change of the others.
 */
async function shardedSubscribe(subscriber: Cluster, channel: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + Math.max(timeoutMs, 15_000);
  for (;;) {
    try {
      await subscriber.ssubscribe(channel);
      return;
    } catch {
      if (performance.now() > deadline) return;
      await sleep(50);
    }
  }
}

/** Closes a connection politely when it is up, at once otherwise. */
async function quit(connection: RedisClient): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await Promise.race([connection.quit(), sleep(1000)]);
    } catch {
      // Falls through to disconnect.
    }
  }
  connection.disconnect();
}

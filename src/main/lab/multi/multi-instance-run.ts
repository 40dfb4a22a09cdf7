import type { ChildProcess } from 'node:child_process';
import { spawnTied } from '../common/spawn-tied';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { BadInputError } from '../../../shared/exit-codes';
import { parseOrThrow } from '../../../shared/format-issues';
import type { RigConfig } from '../../../shared/rig';
import { RunOverridesSchema, type InstanceResult, type LostInstance, type MultiInstanceSummary, type RunFrame, type RunInfo, type RunOverrides } from '../../../shared/run';
import { MultiInstanceSchema, type MultiInstanceConfig, type Scenario } from '../../../shared/scenario';
import { applyOverrides } from '../run/apply-overrides';
import { createArrivalPlan } from '../common/arrival-plan';
import { initHistograms } from '../common/create-histogram';
import { createRedisClient, masterOfSlot, redisTime, resolveRedisTarget, scanKeys, slotOfKey, type RedisClient } from '../common/redis-target';
import { ANNOUNCE_CHANNEL, controlChannel, parseAgentMessage, type AgentMessage, type AgentMessageOf, type InstanceShare } from './agent-protocol';
import { DelayProxy } from './delay-proxy';
import { mergeHistograms } from './merge-histograms';
import { statisticsOf } from '../common/histogram-statistics';
import { mergeRunSummaries } from './merge-run-summaries';
import { shareOfScenario } from './scenario-share';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';

/** How long a result may still be on its way once its instance exited cleanly. */
const RESULT_AFTER_EXIT_GRACE_MS = 3000;

export type { InstanceResult, LostInstance, MultiInstanceSummary } from '../../../shared/run';

export interface MultiInstanceRunOptions {
  readonly scenario: Scenario;
  readonly rig: RigConfig;
  /** The shared Redis; default the rig's, else $REDIS_URL, else the local redis://127.0.0.1:6379. */
  readonly redisUrl?: string;
  /** Command-line overrides (duration, rate, users, seed), applied before the shares are cut. */
  readonly overrides?: RunOverrides;
  readonly log?: (line: string) => void;
  /** The run's id (else one is made up): a host that announced the run before it starts names it. */
  readonly runId?: string;
  /** Stops the run: the instances are told to stop and hand in what they have. */
  readonly signal?: AbortSignal;
  /** Each instance's interval frames, in order, as they arrive. */
  readonly onFrame?: (agentId: string, frame: RunFrame) => void;
  /** The shares were handed out (which instance sends OSC); tests use it to kill the sender. */
  readonly onAssigned?: (shares: readonly InstanceShare[]) => void;
  /** An instance handed in its result or was lost: no more frames come from it. */
  readonly onInstanceDone?: (agentId: string, lostReason?: string) => void;
  /** An instance's heartbeat: its counts so far and the propagation it has seen. */
  readonly onHeartbeat?: (agentId: string, heartbeat: AgentMessageOf<'heartbeat'>) => void;
  /** A local instance's child process has started (tests use it to kill one). */
  readonly onInstanceStarted?: (agentId: string, child: ChildProcess) => void;
  /** How a local instance is started; by default the agent entry of this build. */
  readonly instanceCommand?: (agentId: string, runId: string, redisUrl: string) => { command: string; args: string[] };
}

interface Member {
  readonly agentId: string;
  readonly host: string;
  readonly pid: number;
  readonly local: boolean;
  share?: InstanceShare;
  lastSeenMs: number;
  result?: AgentMessageOf<'result'>;
  lost?: string;
  /** Its engine is prepared for its share. */
  ready?: boolean;
}

/** How long an assigned instance may take to prepare its engine before it counts as lost. */
const READY_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Under tsx the agent entry runs from source; the built CLI starts itself as `cvlab agent`. */
function defaultInstanceCommand(agentId: string, runId: string, redisUrl: string): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const options = ['--redis', redisUrl, '--agent-id', agentId, '--run-id', runId];
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { command: process.execPath, args: ['--import', tsx, join(dirname(here), 'agent-process.ts'), ...options] };
  }
  return { command: process.execPath, args: [process.argv[1] ?? '', 'agent', '--once', ...options] };
}

/** The rig as instances may hear it: no database or Redis URL (they carry credentials). */
export function publicRig(rig: RigConfig): Omit<RigConfig, 'databaseUrl' | 'redisUrl'> {
  const { databaseUrl: _databaseUrl, redisUrl: _redisUrl, ...rest } = rig;
  return rest;
}

/** Deletes every key of a namespace (SCAN + UNLINK); returns how many there were. */
export async function purgeNamespace(redis: RedisClient, namespace: string): Promise<number> {
  const pattern = `cvlab:{${namespace.replace(/[*?[\]\\]/g, '\\$&')}}:*`;
  const keys = await scanKeys(redis, pattern);
  let removed = 0;
  // The namespace's hash tag keeps every key on one slot, so one UNLINK holds them even on a Cluster.
  for (let index = 0; index < keys.length; index += 1000) removed += await redis.unlink(...keys.slice(index, index + 1000));
  return removed;
}

/**
 * Runs a scenario on several engine instances sharing one Redis: starts the local instances
 * as child processes, announces the run (agents elsewhere may join), gives each its share and
 * a common start in Redis time, collects heartbeats and results, reports an instance that dies
 * while keeping the others' results, merges their HdrHistograms, and removes the run's keys.
 */
export async function runMultiInstance(options: MultiInstanceRunOptions): Promise<MultiInstanceSummary> {
  // The scenario's own `multiInstance` block (the one scenario schema); absent: three instances.
  const config: MultiInstanceConfig = options.scenario.multiInstance ?? MultiInstanceSchema.parse({});
  // Several instances cannot share an in-process store: without a Redis in the rig, the local one is used.
  const namedUrl = options.redisUrl ?? options.rig.redisUrl ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  // A plain URL that names a Redis Cluster node is that Cluster: instances are handed redis+cluster://.
  const target = await resolveRedisTarget(namedUrl);
  const redisUrl = target.url;
  const log = options.log ?? (() => undefined);
  await initHistograms();
  const scenario = options.overrides ? applyOverrides(options.scenario, parseOrThrow(RunOverridesSchema, options.overrides, 'run overrides')) : options.scenario;
  const seed = scenario.seed ?? randomBytes(4).readUInt32LE(0);
  const runId = options.runId ?? `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const namespace = `multi-${runId}`;
  const channel = controlChannel(namespace);
  const wholePlan = createArrivalPlan(scenario.executor, seed);
  const plannedDurationMs = wholePlan.plannedDurationMs;
  const localCount = Math.min(config.instances, config.localInstances ?? config.instances);

  log(`multi-instance run ${runId}: ${config.instances} instances on ${target.cluster ? `the Redis Cluster at ${target.address} (state changes by ${target.shardedPubSub ? 'sharded pub/sub' : 'PUBLISH'})` : `Redis ${redisUrl}`}, namespace ${namespace}`);
  const commands = createRedisClient(target, { maxRetriesPerRequest: 2 });
  const subscriber = createRedisClient(target, { maxRetriesPerRequest: 2 });
  commands.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  const members = new Map<string, Member>();
  const children = new Map<string, ChildProcess>();
  let proxy: DelayProxy | undefined;
  let announcer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let assigned = false;
  let wake: (() => void) | undefined;
  const changed = (): void => wake?.();

  const publish = (message: AgentMessage): Promise<number> => commands.publish(channel, JSON.stringify(message));
  let oscTakenOverBy: string | undefined;
  const markLost = (member: Member, reason: string): void => {
    if (member.result || member.lost) return;
    member.lost = reason;
    log(`instance ${member.agentId} lost: ${reason}`);
    options.onInstanceDone?.(member.agentId, reason);
    // The converter must not go silent: another running instance forwards its OSC from now on.
    if (member.share?.sendsOsc && config.oscFrom === 'one' && oscTakenOverBy === undefined) {
      const heir = [...members.values()].find((candidate) => candidate.share && !candidate.share.sendsOsc && !candidate.lost && !candidate.result);
      if (heir) {
        oscTakenOverBy = heir.agentId;
        log(`instance ${heir.agentId} takes over sending OSC to the converter`);
        void publish({ type: 'osc-takeover', runId, agentId: heir.agentId }).catch(() => undefined);
      } else log('no running instance is left to take over sending OSC');
    }
    changed();
  };

  subscriber.on('message', (_channel: string, text: string) => {
    const message = parseAgentMessage(text);
    if (!message || message.runId !== runId) return;
    const now = Date.now();
    if (message.type === 'join') {
      if (members.has(message.agentId)) return;
      members.set(message.agentId, { agentId: message.agentId, host: message.host, pid: message.pid, local: children.has(message.agentId), lastSeenMs: now });
      log(`instance ${message.agentId} joined (${message.host}, pid ${message.pid})`);
      changed();
      return;
    }
    const member = members.get('agentId' in message ? message.agentId : '');
    if (!member) return;
    member.lastSeenMs = now;
    if (message.type === 'heartbeat') {
      for (const frame of message.frames ?? (message.frame ? [message.frame] : [])) options.onFrame?.(member.agentId, frame);
      options.onHeartbeat?.(member.agentId, message);
    } else if (message.type === 'result') {
      if (member.lost) return;
      member.result = message;
      options.onInstanceDone?.(member.agentId);
      changed();
    } else if (message.type === 'ready') {
      member.ready = true;
      changed();
    } else if (message.type === 'failed') markLost(member, `its run failed: ${message.error}`);
  });

  try {
    await subscriber.subscribe(channel);
    const network = config.network;
    let agentRedisUrl = redisUrl;
    if (network.delayMs > 0 || network.jitterMs > 0) {
      // A Cluster's nodes send clients to each other by address (MOVED): one proxy cannot stand in for them.
      if (target.cluster) throw new BadInputError(`multiInstance.network (a delayed Redis link) works with one Redis server, not a Redis Cluster (${target.address}): leave network out, or use a single Redis`);
      const seed = target.seeds[0] as { host: string; port: number };
      proxy = await DelayProxy.listen({ targetHost: seed.host, targetPort: seed.port, ...network });
      agentRedisUrl = proxy.proxiedUrl(redisUrl);
      log(`Redis link of local instances: +${network.delayMs} ms ± ${network.jitterMs} ms through ${agentRedisUrl}`);
    }

    const command = options.instanceCommand ?? defaultInstanceCommand;
    for (let index = 0; index < localCount; index++) {
      const agentId = `${runId}-i${index + 1}`;
      const { command: executable, args } = command(agentId, runId, agentRedisUrl);
      const child = spawnTied(executable, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      children.set(agentId, child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
        for (const line of chunk.toString().split('\n')) if (line.trim()) log(`[${agentId}] ${line.trim()}`);
      });
      child.once('exit', (code, signal) => {
        const member = members.get(agentId);
        const how = signal ? `its process was killed (${signal})` : `its process exited with code ${code}`;
        // A clean exit comes after the agent published its result, which travels over another
        // connection (on a Cluster, maybe another node) and can arrive after the exit is seen.
        if (member && code === 0 && !signal) {
          setTimeout(() => {
            markLost(member, `${how} before handing in its result`);
            changed();
          }, RESULT_AFTER_EXIT_GRACE_MS).unref();
          return;
        }
        if (member) markLost(member, `${how} before handing in its result`);
        else if (!assigned) log(`instance ${agentId} ended before joining: ${how}${stderr ? `\n${stderr.trim()}` : ''}`);
        changed();
      });
      options.onInstanceStarted?.(agentId, child);
    }

    // Announce until enough instances have joined (announcements repeat, so late listeners hear one).
    // Anyone on the Redis hears it: it never carries the rig's service URLs (passwords live there).
    const announcement: AgentMessageOf<'announce'> = {
      type: 'announce',
      runId,
      namespace,
      scenario: JSON.parse(JSON.stringify(scenario)) as unknown,
      rig: JSON.parse(JSON.stringify(publicRig(options.rig))) as unknown,
      seed,
      instances: config.instances,
      oscFrom: config.oscFrom,
      network,
    };
    const announce = (): void => void commands.publish(ANNOUNCE_CHANNEL, JSON.stringify(announcement)).catch(() => undefined);
    announce();
    announcer = setInterval(announce, 250);
    const joinDeadline = Date.now() + config.joinTimeout;
    let stopped = false;
    const onStop = (): void => {
      stopped = true;
      if (assigned) void publish({ type: 'abort', runId, reason: 'the run was stopped' }).catch(() => undefined);
      changed();
    };
    options.signal?.addEventListener('abort', onStop, { once: true });
    while (members.size < config.instances && Date.now() < joinDeadline && !stopped) {
      const exitedBeforeJoin = [...children.entries()].filter(([agentId, child]) => child.exitCode !== null && !members.has(agentId)).length;
      if (exitedBeforeJoin > 0 && members.size + (localCount - children.size) === 0 && exitedBeforeJoin === localCount) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    clearInterval(announcer);
    announcer = undefined;
    if (stopped) throw new StoppedWhileWaitingError(`stopped while waiting for the instances to join (${members.size} of ${config.instances} joined)`);
    const joined = [...members.values()].slice(0, config.instances);
    if (joined.length === 0) throw new Error(`no instance joined run ${runId} within ${config.joinTimeout} ms: check that the instances can reach Redis at ${agentRedisUrl}`);
    if (joined.length < config.instances) log(`only ${joined.length} of ${config.instances} instances joined within ${config.joinTimeout} ms; running with them`);

    // Local instances first, so the OSC sender is on this machine when oscFrom is "one".
    joined.sort((a, b) => Number(b.local) - Number(a.local));
    const shares = joined.map((member, index) => ({ agentId: member.agentId, index, count: joined.length, sendsOsc: config.oscFrom === 'all' || index === 0 }));
    joined.forEach((member, index) => (member.share = shares[index]));
    await publish({ type: 'assign', runId, shares });
    assigned = true;
    options.onAssigned?.(shares);
    // Each instance prepares its engine (a thread of its own, warmed up, subscribed to the others'
    // changes) and says so; all start at one Redis time once every one is ready.
    const readyDeadline = Date.now() + READY_TIMEOUT_MS;
    while (joined.some((member) => !member.ready && !member.lost) && Date.now() < readyDeadline && !stopped) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    if (stopped) throw new StoppedWhileWaitingError(`stopped while waiting for the instances to be ready (${joined.filter((member) => member.ready).length} of ${joined.length} ready)`);
    for (const member of joined) if (!member.ready) markLost(member, `not ready ${READY_TIMEOUT_MS / 1000} s after its share was assigned`);
    const [seconds, microseconds] = await redisTime(commands, channel);
    if (target.cluster) {
      // Which master the run's keys live on: a fault there is the one that degrades the run.
      const slot = slotOfKey(channel);
      log(`run ${runId}: its keys are in slot ${slot}, served by ${masterOfSlot(commands, slot) ?? 'a master not known yet'}`);
    }
    const startAtMs = Number(seconds) * 1000 + Number(microseconds) / 1000 + config.startDelay;
    await publish({ type: 'start', runId, startAtMs });
    const startedAt = new Date(Date.now() + config.startDelay).toISOString();
    log(`run ${runId}: ${joined.length} instances, start in ${config.startDelay} ms, planned ${plannedDurationMs} ms`);

    // Until every instance has handed in its result or is lost.
    const graceMs = config.startDelay + 5_000;
    const deadline = Date.now() + config.startDelay + plannedDurationMs + 30_000;
    for (const member of joined) member.lastSeenMs = Date.now() + graceMs;
    watchdog = setInterval(() => {
      const now = Date.now();
      for (const member of joined) {
        if (now - member.lastSeenMs > config.heartbeatTimeout) markLost(member, `no heartbeat for ${now - member.lastSeenMs} ms (heartbeat timeout ${config.heartbeatTimeout} ms)`);
        else if (now > deadline) markLost(member, `no result ${plannedDurationMs + 30_000} ms after the start`);
      }
    }, 100);
    while (joined.some((member) => !member.result && !member.lost)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    clearInterval(watchdog);
    watchdog = undefined;
    // Every share is done: only now can the shared keys go.
    const keysRemoved = await purgeNamespace(commands, namespace);

    const done = joined.filter((member): member is Member & { result: AgentMessageOf<'result'>; share: InstanceShare } => Boolean(member.result && member.share));
    const lost: LostInstance[] = joined.filter((member) => member.lost).map((member) => ({ agentId: member.agentId, local: member.local, reason: member.lost ?? '' }));
    const propagation = mergeHistograms(done.map((member) => member.result.propagation));
    const perInstance: InstanceResult[] = done.map((member) => {
      const own = mergeHistograms([member.result.propagation]);
      const figures = statisticsOf(own);
      own.destroy();
      return {
        agentId: member.agentId,
        host: member.host,
        pid: member.pid,
        local: member.local,
        share: member.share,
        summary: member.result.summary,
        ...(figures ? { propagation: figures } : {}),
        remoteChanges: member.result.remoteChanges,
        clock: member.result.clock,
      };
    });
    const first = done[0]?.result.summary.run;
    // A lost instance's share stays planned and counts as lost: the plan is the whole scenario's.
    const lostMessages = joined
      .filter((member) => member.lost && member.share)
      .reduce((total, member) => {
        const share = member.share as InstanceShare;
        const part = shareOfScenario(scenario, share.index, share.count, seed);
        return total + createArrivalPlan(part.executor, part.seed ?? seed).plannedMessages;
      }, 0);
    const info: RunInfo = {
      id: runId,
      scenario: scenario.name,
      rig: options.rig.name,
      state: 'finished',
      startedAt,
      plannedDurationMs,
      plannedMessages: wholePlan.plannedMessages,
      seed,
      intervalMs: first?.intervalMs ?? scenario.interval,
      namespace,
      store: 'redis',
    };
    const lostNote = lost.length > 0 ? `${lost.length} of ${joined.length} instances were lost: ${lost.map((item) => `${item.agentId} (${item.reason})`).join(', ')}` : undefined;
    const merged = mergeRunSummaries(
      done.map((member) => member.result.summary),
      scenario,
      { run: info, lostMessages, ...(lostNote ? { extraFailure: lostNote } : {}) },
    );
    const propagationFigures = statisticsOf(propagation);
    const summary: MultiInstanceSummary = {
      ...merged,
      perInstance,
      lost,
      ...(propagationFigures ? { propagation: propagationFigures, propagationHistogram: encodeIntoCompressedBase64(propagation) } : {}),
      multiInstance: { lostMessages, ...(oscTakenOverBy ? { oscTakenOverBy } : {}), instances: config.instances, joined: joined.length, oscFrom: config.oscFrom, network, namespace, keysRemoved },
    };
    propagation.destroy();
    return summary;
  } catch (error) {
    await publish({ type: 'abort', runId, reason: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
    await purgeNamespace(commands, namespace).catch(() => undefined);
    throw error;
  } finally {
    if (announcer) clearInterval(announcer);
    if (watchdog) clearInterval(watchdog);
    // Give local instances with a share a moment to exit by themselves, then make sure (one
    // without a share has nothing to hand in: a run stopped while they joined ends them at once).
    const deadline = Date.now() + (assigned ? 2_000 : 0);
    while ([...children.values()].some((child) => child.exitCode === null && child.signalCode === null) && Date.now() < deadline) await sleep(50);
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await proxy?.close();
    subscriber.disconnect();
    await commands.quit().catch(() => undefined);
    commands.disconnect();
  }
}

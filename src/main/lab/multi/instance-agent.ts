import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseOrThrow } from '../../../shared/format-issues';
import { RigSchema, type RigConfig } from '../../../shared/rig';
import type { RunFrame, RunSummary } from '../../../shared/run';
import { ScenarioSchema } from '../../../shared/scenario';
import { createRunController, type EngineKindReport, type RunController } from '../run/run-controller';
import { initHistograms } from '../common/create-histogram';
import { monotonicNs } from '../common/monotonic-clock';
import { createRedisClient, resolveRedisTarget, type RedisClient } from '../common/redis-target';
import type { MetricsExporter } from '../metrics-export/metrics-exporter';
import { ANNOUNCE_CHANNEL, controlChannel, parseAgentMessage, type AgentMessage, type AgentMessageOf, type InstanceShare } from './agent-protocol';
import { localClockMs, measureRedisClock, type RedisClock } from './redis-clock';
import { shareOfScenario } from './scenario-share';

export interface InstanceAgentOptions {
  /** This agent's link to Redis (possibly through a delay proxy). */
  readonly redisUrl: string;
  readonly agentId?: string;
  /** Join only this run (local child instances); absent: join any run announced. */
  readonly runId?: string;
  /** Leave after one run. */
  readonly once?: boolean;
  /** How often the agent reports progress and its latest frame. Default 250 ms. */
  readonly heartbeatMs?: number;
  /** Interval frames also go to this exporter (for `/metrics`, computed at scrape time). */
  readonly metrics?: MetricsExporter;
  readonly log?: (line: string) => void;
}

type Phase = 'idle' | 'joined' | 'running';

/**
 * One engine instance of a multi-instance run: listens for runs announced on Redis, joins,
 * runs its share of the same scenario with the RunController at the agreed Redis time (its
 * engine, pipeline, propagation stage and OSC relay on the engine's thread, set up as data), and
 * publishes heartbeats, frames and its result (with HdrHistograms as base64) for the console
 * to merge. Local child instances and `cvlab agent` on other machines are the same code.
 */
export class InstanceAgent {
  readonly agentId: string;
  private phase: Phase = 'idle';
  private runId: string | undefined;
  private namespace: string | undefined;
  private announcement: AgentMessageOf<'announce'> | undefined;
  private controller: RunController | undefined;
  private readonly finishedRuns: RunSummary[] = [];
  private doneResolve: (() => void) | undefined;
  private readonly donePromise: Promise<void>;
  private closed = false;
  /** While the engine prepares: answered by the console's `start` (Redis time, epoch ms). */
  private startAnswer: { resolve: (startAtMs: number) => void; reject: (error: Error) => void } | undefined;
  /** Set while a share runs without sending OSC: makes this instance the converter's sender. */
  private takeOverOsc: (() => void) | undefined;

  private constructor(
    private readonly options: InstanceAgentOptions,
    private readonly commands: RedisClient,
    private readonly subscriber: RedisClient,
    private clock: RedisClock,
  ) {
    this.agentId = options.agentId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.donePromise = new Promise((resolve) => (this.doneResolve = resolve));
    subscriber.on('message', (channel: string, text: string) => {
      const message = parseAgentMessage(text);
      if (message) void this.receive(channel, message);
    });
  }

  /** Connects to Redis, measures the clock offset to Redis TIME, and starts listening for runs. */
  static async start(options: InstanceAgentOptions): Promise<InstanceAgent> {
    const connection = { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5_000 } as const;
    // redis+cluster://, or a plain URL of a Cluster node (detected): runs are announced on the Cluster.
    const target = await resolveRedisTarget(options.redisUrl, connection.connectTimeout);
    const commands = createRedisClient(target, connection);
    const subscriber = createRedisClient(target, connection);
    try {
      await Promise.all([commands.connect(), subscriber.connect()]);
    } catch (error) {
      commands.disconnect();
      subscriber.disconnect();
      throw new Error(`the agent cannot reach ${target.cluster ? 'the Redis Cluster' : 'Redis'} at ${target.address}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const clock = await measureRedisClock(commands, ANNOUNCE_CHANNEL);
    await initHistograms();
    const agent = new InstanceAgent(options, commands, subscriber, clock);
    await subscriber.subscribe(ANNOUNCE_CHANNEL);
    agent.log(`agent ${agent.agentId} listening on ${ANNOUNCE_CHANNEL} (clock offset to Redis ${clock.offsetMs.toFixed(3)} ms ± ${(clock.roundTripMs / 2).toFixed(3)})`);
    return agent;
  }

  /** Resolves when a `once` agent has finished its run (or the agent was closed). */
  done(): Promise<void> {
    return this.donePromise;
  }

  /** Summaries of the runs this agent took part in. */
  runs(): readonly RunSummary[] {
    return this.finishedRuns;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.controller?.stop();
    this.subscriber.disconnect();
    await this.commands.quit().catch(() => undefined);
    this.commands.disconnect();
    this.doneResolve?.();
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private publish(channel: string, message: AgentMessage): Promise<unknown> {
    return this.commands.publish(channel, JSON.stringify(message)).catch((error: unknown) => this.log(`publish failed: ${String(error)}`));
  }

  private async receive(channel: string, message: AgentMessage): Promise<void> {
    if (message.type === 'announce' && channel === ANNOUNCE_CHANNEL) {
      if (this.phase !== 'idle' || (this.options.runId && message.runId !== this.options.runId)) return;
      this.phase = 'joined';
      this.runId = message.runId;
      this.namespace = message.namespace;
      this.announcement = message;
      // A long-lived agent's clock drifts: measure its offset to Redis TIME again for each run.
      this.clock = await measureRedisClock(this.commands, controlChannel(message.namespace)).catch(() => this.clock);
      await this.subscriber.subscribe(controlChannel(message.namespace));
      await this.publish(controlChannel(message.namespace), { type: 'join', runId: message.runId, agentId: this.agentId, host: hostname(), pid: process.pid });
      this.log(`joined run ${message.runId}`);
      return;
    }
    if (message.runId !== this.runId) return;
    if (message.type === 'assign' && this.phase === 'joined') {
      const share = message.shares.find((candidate) => candidate.agentId === this.agentId);
      if (!share) {
        this.log(`run ${message.runId} has enough instances; waiting for the next one`);
        await this.leave();
        return;
      }
      this.phase = 'running';
      // Prepared now (the engine's thread, warm-up, connections, subscription), started at the common Redis time.
      void this.runShare(share);
    } else if (message.type === 'start') {
      this.startAnswer?.resolve(message.startAtMs);
    } else if (message.type === 'osc-takeover' && message.agentId === this.agentId) {
      this.takeOverOsc?.();
    } else if (message.type === 'abort') {
      this.log(`run ${message.runId} aborted by the console: ${message.reason}`);
      this.startAnswer?.reject(new Error(`the run was aborted before it started: ${message.reason}`));
      await this.controller?.stop();
    }
  }

  private async leave(): Promise<void> {
    if (this.namespace) await this.subscriber.unsubscribe(controlChannel(this.namespace)).catch(() => undefined);
    this.phase = 'idle';
    this.runId = undefined;
    this.namespace = undefined;
    this.announcement = undefined;
  }

  private async runShare(share: InstanceShare): Promise<void> {
    const announcement = this.announcement;
    const namespace = this.namespace;
    const runId = this.runId;
    if (!announcement || !namespace || !runId) return;
    const channel = controlChannel(namespace);
    let heartbeat: NodeJS.Timeout | undefined;
    const subscriptions: { dispose(): void }[] = [];
    try {
      const scenario = shareOfScenario(parseOrThrow(ScenarioSchema, announcement.scenario, 'announced scenario'), share.index, share.count, announcement.seed);
      // The announcement carries no service URLs (secrets stay with the console): this instance's own Redis link is used.
      let rig: RigConfig = { ...parseOrThrow(RigSchema, announcement.rig, 'announced rig'), redisUrl: this.options.redisUrl };
      if (!share.sendsOsc || share.index !== 0) {
        // One tap port per machine: only the first OSC sender listens on it.
        const { tapPort: _tapPort, ...osc } = rig.osc;
        rig = { ...rig, osc };
      }
      const metrics = this.options.metrics;
      // Every instance shares the run's namespace; the console removes its keys once all are done.
      const controller = createRunController();
      this.controller = controller;
      if (!share.sendsOsc) {
        // Its datagrams go to a relay on the engine's thread; if the sending instance dies, the console asks this one to forward them.
        this.takeOverOsc = () => {
          controller.takeOverOsc();
          this.log(`run ${runId}: this instance now sends OSC to ${rig.osc.host}:${rig.osc.port} (the sending instance was lost)`);
        };
      }
      let lastFrame: RunFrame | undefined;
      let progress = { sent: 0, completed: 0 };
      let propagation: EngineKindReport['instance'];
      const unsent: RunFrame[] = [];
      subscriptions.push(
        controller.onDidRunFrame((frame) => {
          lastFrame = frame;
          // Bounded: a console that stopped listening must not grow this instance's memory.
          if (unsent.length < 400) unsent.push(frame);
          metrics?.observeFrame(frame);
        }),
        controller.onDidRunProgress((update) => (progress = { sent: update.sent, completed: update.completed })),
        controller.onDidReportKind((report) => {
          if (report.instance) propagation = report.instance;
        }),
      );
      // Both clocks read together: the engine's thread times with the monotonic clock every thread shares.
      const nowMonotonicMs = monotonicNs() / 1e6;
      const redisMinusLocalMs = this.clock.offsetMs;
      const redisMinusMonotonicMs = redisMinusLocalMs + localClockMs() - nowMonotonicMs;
      let startAtLocalMs = 0;
      // The engine prepares (warm-up, the pipeline subscribed to the others' changes), says so, and starts at the common time.
      const startGate = async (): Promise<number> => {
        const answer = new Promise<number>((resolve, reject) => (this.startAnswer = { resolve, reject }));
        await this.publish(channel, { type: 'ready', runId, agentId: this.agentId });
        const startAtMs = await answer;
        startAtLocalMs = startAtMs - redisMinusLocalMs;
        return (startAtMs - redisMinusMonotonicMs) * 1e6;
      };
      try {
        await controller.start({
          scenario,
          rig,
          instance: { namespace, agentId: this.agentId, redisUrl: this.options.redisUrl, redisMinusMonotonicMs, relayOsc: !share.sendsOsc },
          startGate,
        });
      } finally {
        this.startAnswer = undefined;
      }
      const lateMs = localClockMs() - startAtLocalMs;
      if (lateMs > 50) this.log(`run ${runId}: this instance started ${lateMs.toFixed(0)} ms after the common start`);
      const finished = controller.finished();
      heartbeat = setInterval(() => {
        const frames = unsent.splice(0);
        // A few percentiles of the propagation so far, four times a second: nothing per change.
        const propagationSoFar = propagation?.propagation;
        void this.publish(channel, { type: 'heartbeat', runId, agentId: this.agentId, sent: progress.sent, completed: progress.completed, ...(lastFrame ? { frame: lastFrame } : {}), ...(frames.length > 0 ? { frames } : {}), ...(propagationSoFar ? { propagation: propagationSoFar } : {}) });
      }, this.options.heartbeatMs ?? 250);
      const summary = await finished;
      if (!summary) throw new Error('the run ended without a summary');
      clearInterval(heartbeat);
      // The last frames (the final one comes with the summary) go before the result.
      const rest = unsent.splice(0);
      if (rest.length > 0) await this.publish(channel, { type: 'heartbeat', runId, agentId: this.agentId, sent: summary.sent, completed: summary.completed, frame: rest[rest.length - 1] as RunFrame, frames: rest });
      this.finishedRuns.push(summary);
      await this.publish(channel, {
        type: 'result',
        runId,
        agentId: this.agentId,
        summary,
        ...(propagation?.propagationHistogram ? { propagation: propagation.propagationHistogram } : {}),
        clock: { offsetMs: this.clock.offsetMs, roundTripMs: this.clock.roundTripMs },
        remoteChanges: propagation?.remoteChanges ?? 0,
      });
      this.log(`run ${runId}: share ${share.index + 1}/${share.count} done, ${summary.completed} messages`);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.log(`run ${runId} failed here: ${text}`);
      await this.publish(channel, { type: 'failed', runId, agentId: this.agentId, error: text });
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      for (const subscription of subscriptions) subscription.dispose();
      this.controller = undefined;
      this.takeOverOsc = undefined;
      await this.leave();
      if (this.options.once) await this.close();
    }
  }
}

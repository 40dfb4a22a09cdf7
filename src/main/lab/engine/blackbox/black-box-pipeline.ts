import type { Histogram } from 'hdr-histogram-js';
import { Emitter, type Event } from '../../../../shared/emitter';
import type { AppliedChange, ChatMessage, Outcome, Rejection, SentPacket } from '../../../../shared/message';
import type { RigConfig, VariableConfig } from '../../../../shared/rig';
import type { BlackBoxSummary, BotConnectionStatus } from '../../../../shared/run';

export type { BotConnectionStatus } from '../../../../shared/run';
import type { MetricStage } from '../../../../shared/scenario';
import { createHistogram, initHistograms } from '../../common/create-histogram';
import { statisticsOf } from '../../common/histogram-statistics';
import type { PipelineOptions } from '../pipeline/chat-pipeline';
import { describeLimit, HybridRateLimiter } from '../pipeline/hybrid-rate-limiter';
import { MessageValidator } from '../../common/message-validator';
import { scaleToOutput } from '../../common/output-scale';
import type { ChatPipeline, Disposable, StateChangeEvent } from '../pipeline/pipeline-types';
import type { PipelineCounters } from '../../common/outcome-record';
import type { BlackBoxRequest } from '../../common/engine-protocol';
import type { BotProcessRef } from '../../common/engine-protocol';
import { monotonicNs } from '../../common/monotonic-clock';
import { lowerBound, upperBound } from '../../common/value-resolver';
import { BotRunner } from './bot-runner';
import { ChatEndpoint, type ChatClientStatus } from './chat-endpoint';
import { OscCatcher, type CaughtOscMessage } from './osc-catcher';
import { OscMatcher, type ExpectedOscMessage, type MatchResult } from './osc-matcher';
import { TwitchViewerLines } from './twitch-viewer-line';

/** Where the bot under test connects and sends, and how cvlab waits for it. */
export interface BlackBoxOptions extends BlackBoxRequest {
  /** Called once the endpoint listens, with the environment a bot needs (print it for `--bot-wait`). */
  readonly onListening?: (environment: Readonly<Record<string, string>>) => void;
  /** Aborted when the run is stopped: the wait for the JOIN ends at once, the bot is stopped. */
  readonly stopped?: AbortSignal;
}

const SWEEP_EVERY_MS = 20;
/** How often the bot's status (counts, exit, last output) is told while nothing else changes it: a live panel's pace. */
const STATUS_EVERY_MS = 250;

/**
 * The black-box target as a ChatPipeline: process() writes the viewer's line to the bot over the
 * chat endpoint, and the outcome arrives when the matcher decides (the bot's OSC caught: accepted
 * with chat → OSC timing; no OSC within the window: rejected when our model rejects the message
 * too, failed when our model accepts it and the bot sent nothing). The load engine drives it
 * unchanged.
 */
export class BlackBoxPipeline implements ChatPipeline {
  private readonly tapEmitter = new Emitter<number>();
  private readonly changeEmitter = new Emitter<StateChangeEvent>();
  private readonly measureEmitter = new Emitter<{ stage: MetricStage; ns: number }>();
  private readonly lostEmitter = new Emitter<string>();
  private readonly statusEmitter = new Emitter<BotConnectionStatus>();
  private readonly validator: MessageValidator;
  private readonly limiter: HybridRateLimiter;
  private readonly variables: ReadonlyMap<string, VariableConfig>;
  private readonly byAddress: ReadonlyMap<string, VariableConfig>;
  private readonly lines: TwitchViewerLines;
  private readonly matcher: OscMatcher;
  private readonly chatToOsc: Histogram = createHistogram();
  private readonly botReply: Histogram = createHistogram();
  private readonly lastValues = new Map<string, { value: number; version: number; writer: string }>();
  private readonly subscriptions: Disposable[] = [];
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly statusTimer: NodeJS.Timeout;
  private chatSent = 0;
  private failures = 0;
  private lostReason: string | undefined;
  private closing: Promise<void> | undefined;
  private finalSummary: BlackBoxSummary | undefined;

  /** The bot left (its process exited or its connection closed) before the run ended: the run ends. */
  readonly onDidFail: Event<string> = this.lostEmitter.event;
  /** The bot's connection changed (connected, joined, closed), and four times a second its counts so far. */
  readonly onDidChangeBotStatus: Event<BotConnectionStatus> = this.statusEmitter.event;
  readonly onDidTap = this.tapEmitter.event;
  readonly onDidChangeState = this.changeEmitter.event;
  readonly onDidMeasure = this.measureEmitter.event;

  constructor(
    private readonly rig: RigConfig,
    private readonly options: PipelineOptions,
    private readonly config: BlackBoxOptions,
    private readonly endpoint: ChatEndpoint,
    private readonly catcher: OscCatcher,
    private readonly bot: BotRunner | undefined,
    private readonly botClient: ChatClientStatus,
  ) {
    this.validator = new MessageValidator(rig);
    this.limiter = new HybridRateLimiter(rig.limiter, rig.variables);
    this.variables = new Map(rig.variables.map((variable) => [variable.name, variable]));
    this.byAddress = new Map(rig.variables.map((variable) => [variable.address, variable]));
    this.lines = new TwitchViewerLines(endpoint.channel);
    this.matcher = new OscMatcher(config.windowMs ?? 2000);
    this.subscriptions.push(
      catcher.onDidCatch((datagram) => {
        this.matcher.datagram(datagram);
        for (const message of datagram.messages) this.noteValue(message);
      }),
      endpoint.onDidReply((reply) => {
        const ns = this.matcher.reply(reply.text, reply.tags, reply.arrivedNs);
        if (ns === undefined) return;
        this.botReply.recordValue(Math.max(0, Math.round(ns)));
        this.measureEmitter.fire({ stage: 'botReply', ns });
      }),
      endpoint.onDidChangeStatus(() => this.statusEmitter.fire(this.botStatus())),
      endpoint.onDidDisconnect((status) => {
        if (endpoint.joinedCount > 0) return;
        const reason = `the bot's chat connection closed (${status.nick ?? 'no nick'} over ${status.transport === 'tcp' ? 'TCP' : 'WebSocket'}, after ${status.linesRead} lines from it)`;
        if (!bot || bot.exitStatus) return this.lose(reason);
        // Its process usually exits a moment after its socket closes: then the exit is the reason given.
        const timer = setTimeout(() => this.lose(reason), 500);
        void bot.whenExited().then(() => clearTimeout(timer));
      }),
    );
    bot?.whenExited().then((exit) => {
      if (!this.closing) this.lose(`the bot exited during the run (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`})`);
    });
    this.sweepTimer = setInterval(() => this.matcher.sweep(monotonicNs()), SWEEP_EVERY_MS);
    // The counts move with every line and datagram; they are told a few times a second, never per message.
    this.statusTimer = setInterval(() => this.statusEmitter.fire(this.botStatus()), STATUS_EVERY_MS);
  }

  async process(message: ChatMessage): Promise<Outcome> {
    // The load engine gives the due time as dueAtNs (monotonicNs); dueNs is the older BigInt form.
    const dueNs = message.dueAtNs ?? (message.dueNs !== undefined ? Number(message.dueNs) : monotonicNs());
    if (this.lostReason !== undefined || this.closing) {
      this.failures++;
      return this.record(message, { status: 'failed', error: this.lostReason ?? 'the black-box target is closing', timings: {} });
    }
    const validation = this.validator.validate(message.text);
    const expected: ExpectedOscMessage[] = [];
    let model: { accepted: true } | { accepted: false; rejection: Rejection };
    if (validation.ok) {
      for (const assignment of validation.assignments) {
        const variable = this.variables.get(assignment.variable);
        if (!variable) continue;
        expected.push({
          variable: variable.name,
          address: variable.address,
          value: assignment.spec.kind === 'absolute' ? scaleToOutput(variable, assignment.spec.value) : undefined,
        });
      }
      const decision = this.limiter.check(
        message.user,
        validation.assignments.map((assignment) => assignment.variable),
      );
      model = decision.ok ? { accepted: true } : { accepted: false, rejection: describeLimit(decision, message.user, this.rig.limiter) };
    } else {
      model = { accepted: false, rejection: validation.rejection };
    }
    const line = this.lines.line(message.user, message.text);
    this.endpoint.sendToChannel(line.line);
    const writtenNs = monotonicNs();
    this.chatSent++;
    const result = await new Promise<MatchResult>((resolve) =>
      this.matcher.track({ user: message.user, login: line.viewer.login, messageId: line.id, dueNs, writtenNs, expected, model }, resolve),
    );
    return this.record(message, this.outcomeOf(result, message.user));
  }

  /** What the bot's connection looks like now, what it did so far, and its last words (a few times a second: no per-message work). */
  botStatus(): BotConnectionStatus {
    const client = this.botClient;
    const counters = this.matcher.counters;
    const exit = this.bot?.exitStatus;
    return {
      connected: !client.closed,
      joined: client.joined.includes(`#${this.endpoint.channel}`) && !client.closed,
      ...(client.nick !== undefined ? { nick: client.nick } : {}),
      transport: client.transport,
      linesRead: client.linesRead,
      replies: client.replies,
      chatSent: this.chatSent,
      oscCaught: this.catcher.counters.datagrams,
      decided: counters.matched + counters.rejectedByModel + counters.acceptedButSilent,
      matched: counters.matched,
      ...(this.config.command !== undefined ? { command: this.config.command } : {}),
      ...(this.bot ? { exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, output: { stdout: lastLines(this.bot.stdoutTail), stderr: lastLines(this.bot.stderrTail) } } : {}),
    };
  }

  /** The bot's process (when cvlab started it) and its chat connection, for the host's resource sampler. */
  botProcess(): BotProcessRef {
    const pid = this.bot?.pid;
    return {
      ...(pid !== undefined ? { pid } : {}),
      chat: { botHost: this.botClient.remoteHost, botPort: this.botClient.remotePort, endpointPort: this.endpoint.address.port },
    };
  }

  counters(): PipelineCounters {
    return { limiterFallbacks: 0, redisErrors: 0, tapMatched: 0, tapUnmatched: 0, failures: this.failures };
  }

  roundTripMs(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  /** The last value the bot sent for each variable (in the converter's units), with how many times it did. */
  snapshot(): Promise<Record<string, { value: number; version: number; writer: string }>> {
    return Promise.resolve(Object.fromEntries(this.lastValues));
  }

  blackBox(): BlackBoxSummary {
    if (this.finalSummary) return this.finalSummary;
    const counters = this.matcher.counters;
    const client = this.botClient;
    const exit = this.bot?.exitStatus;
    const endpoint = this.endpoint.address;
    const osc = this.catcher.address;
    const slow = this.endpoint.slowReaders();
    const chatToOsc = statisticsOf(this.chatToOsc);
    const botReply = statisticsOf(this.botReply);
    return {
      endpoint: {
        chatHost: endpoint.host,
        chatPort: endpoint.port,
        channel: `#${this.endpoint.channel}`,
        oscHost: osc.host,
        oscPort: osc.port,
        ...(this.config.forward ? { forward: `${this.config.forward.host}:${this.config.forward.port}` } : {}),
        windowMs: this.config.windowMs ?? 2000,
      },
      chatSent: this.chatSent,
      oscReceived: this.catcher.counters.datagrams,
      oscMessages: this.catcher.counters.messages,
      matched: counters.matched,
      matchedByValue: counters.matchedByValue,
      matchedByOrder: counters.matchedByOrder,
      partial: counters.partial,
      unmatchedOsc: counters.unmatchedOsc,
      unmatchedAddresses: [...this.matcher.unmatchedSamples],
      ambiguous: counters.ambiguous,
      missing: { rejectedByModel: counters.rejectedByModel, acceptedButSilent: counters.acceptedButSilent },
      acceptedAgainstModel: counters.acceptedAgainstModel,
      decodeErrors: this.catcher.counters.decodeErrors,
      forwarded: this.catcher.counters.forwarded,
      replies: { received: counters.replies, matched: counters.repliesMatched },
      latency: { ...(chatToOsc ? { chatToOsc } : {}), ...(botReply ? { botReply } : {}) },
      slowReader: { maxBufferedBytes: slow.maxBufferedBytes, linesQueued: slow.linesQueued, linesWritten: slow.linesWritten },
      bot: {
        ...(this.config.command !== undefined ? { command: this.config.command } : {}),
        ...(this.bot?.version !== undefined ? { version: this.bot.version } : {}),
        ...(client.nick !== undefined ? { nick: client.nick } : {}),
        transport: client.transport,
        exitCode: exit?.exitCode ?? null,
        signal: exit?.signal ?? null,
        exitedDuringRun: this.lostReason !== undefined,
        stdoutTail: this.bot?.stdoutTail ?? '',
        stderrTail: this.bot?.stderrTail ?? '',
      },
    };
  }

  /** Decides every line still waiting, stops the bot (SIGTERM, then SIGKILL) and closes the sockets. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweepTimer);
      clearInterval(this.statusTimer);
      this.matcher.flush();
      await this.bot?.stop();
      for (const subscription of this.subscriptions) subscription.dispose();
      await Promise.all([this.endpoint.close(), this.catcher.close()]);
      this.finalSummary = this.blackBox();
      this.chatToOsc.destroy();
      this.botReply.destroy();
      for (const emitter of [this.tapEmitter, this.changeEmitter, this.measureEmitter, this.lostEmitter, this.statusEmitter]) emitter.dispose();
    })();
    return this.closing;
  }

  private lose(reason: string): void {
    if (this.lostReason !== undefined || this.closing) return;
    this.lostReason = reason;
    this.lostEmitter.fire(reason);
  }

  private record(message: ChatMessage, outcome: Outcome): Outcome {
    this.options.sink?.record({ user: message.user, text: message.text, atMs: Date.now(), outcome });
    return outcome;
  }

  private outcomeOf(result: MatchResult, user: string): Outcome {
    switch (result.kind) {
      case 'matched': {
        const ns = result.chatToOscNs;
        this.chatToOsc.recordValue(Math.max(0, Math.round(ns)));
        const changes: AppliedChange[] = result.messages.map(({ expected, caught }) => ({
          variable: expected.variable,
          value: this.nativeValue(expected.variable, caught),
          version: 0,
          writer: user,
        }));
        const packet: SentPacket = {
          bundle: result.messages.length > 1,
          messages: result.messages.map(({ caught }) => ({
            address: caught.address,
            typeTags: caught.values.map((value) => (typeof value === 'number' ? 'f' : 's')).join(''),
            values: caught.values.map((value) => (typeof value === 'number' ? value : String(value))),
          })),
          bytes: 0,
        };
        if (this.changeEmitter.hasListeners) {
          const atMs = Date.now();
          for (const change of changes) this.changeEmitter.fire({ ...change, origin: 'local', receivedAtMs: atMs });
        }
        // e2e carries the same figure, so a scenario's e2e thresholds judge the bot.
        return { status: 'accepted', changes, packet, timings: { chatToOsc: ns, e2e: ns, chatWritten: result.writtenNs } };
      }
      case 'rejectedByModel':
        return { status: 'rejected', rejection: result.rejection, timings: {} };
      case 'acceptedButSilent':
        return {
          status: 'failed',
          error: `the bot sent no OSC within ${this.config.windowMs ?? 2000} ms for a message the rig accepts`,
          timings: {},
        };
    }
  }

  /** The variable's value back from the converter's units (the inverse of the rig's linear scaling). */
  private nativeValue(name: string, caught: CaughtOscMessage): number {
    const variable = this.variables.get(name);
    const sent = caught.values[0];
    if (!variable || typeof sent !== 'number') return Number.NaN;
    const outSpan = variable.out.max - variable.out.min;
    const fraction = outSpan !== 0 ? (sent - variable.out.min) / outSpan : 0;
    return lowerBound(variable) + fraction * (upperBound(variable) - lowerBound(variable));
  }

  private noteValue(message: CaughtOscMessage): void {
    const variable = this.byAddress.get(message.address);
    const value = message.values[0];
    if (!variable || typeof value !== 'number') return;
    const previous = this.lastValues.get(variable.name);
    this.lastValues.set(variable.name, { value, version: (previous?.version ?? 0) + 1, writer: 'bot' });
  }
}

/** The last few lines of a stream's tail, for a live view (the summary keeps the whole tail). */
function lastLines(text: string, count = 8): string[] {
  return text.trimEnd().split('\n').slice(-count).filter((line) => line.length > 0);
}

/** The environment a bot is started with (and `--bot-wait` prints). */
export function blackBoxEnvironment(endpoint: ChatEndpoint, catcher: OscCatcher, rigPath: string | undefined): Record<string, string> {
  const chat = endpoint.address;
  const osc = catcher.address;
  return {
    CVLAB_CHAT_HOST: chat.host,
    CVLAB_CHAT_PORT: String(chat.port),
    CVLAB_CHANNEL: endpoint.channel,
    CVLAB_OSC_HOST: osc.host,
    CVLAB_OSC_PORT: String(osc.port),
    ...(rigPath !== undefined ? { CVLAB_RIG: rigPath } : {}),
  };
}

/**
 * Builds the black-box target for a rig: opens the chat endpoint and the OSC catcher, starts the
 * bot (or waits for one started elsewhere), and resolves once it has joined the channel. A bot
 * that never joins is a ServiceUnreachableError naming what it did and did not do.
 */
export async function createBlackBoxPipeline(rig: RigConfig, options: PipelineOptions & { readonly blackBox: BlackBoxOptions }): Promise<BlackBoxPipeline> {
  const config = options.blackBox;
  await initHistograms();
  const endpoint = await ChatEndpoint.listen({ host: config.chatHost ?? '127.0.0.1', port: config.chatPort ?? 6667, channel: config.channel ?? 'cvlab' });
  let catcher: OscCatcher | undefined;
  let bot: BotRunner | undefined;
  try {
    catcher = await OscCatcher.listen({
      host: config.oscListen?.host ?? '127.0.0.1',
      port: config.oscListen?.port ?? 0,
      ...(config.forward ? { forward: config.forward } : {}),
    });
    const environment = blackBoxEnvironment(endpoint, catcher, config.rigPath);
    config.onListening?.(environment);
    let exitedEarly: Promise<string> | undefined;
    if (config.command !== undefined) {
      bot = BotRunner.start({ command: config.command, env: environment, ...(config.cwd ? { cwd: config.cwd } : {}), ...(config.killAfterMs !== undefined ? { killAfterMs: config.killAfterMs } : {}) });
      const started = bot;
      exitedEarly = started.whenExited().then((exit) => {
        const tail = started.stderrTail.trim().split('\n').slice(-3).join(' | ');
        return `the bot exited (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`}) before it joined${tail ? `; its last words: ${tail}` : ''}`;
      });
    }
    const timeoutMs = config.joinTimeoutMs ?? (config.command !== undefined ? 10_000 : 120_000);
    const client = await endpoint.waitForJoin(timeoutMs, 'the bot', exitedEarly, config.stopped);
    return new BlackBoxPipeline(rig, options, config, endpoint, catcher, bot, client);
  } catch (error) {
    await bot?.stop();
    await Promise.all([endpoint.close(), catcher?.close()]);
    throw error;
  }
}

import { randomUUID } from 'node:crypto';
import { Emitter } from '../../../../shared/emitter';
import type { AppliedChange, ChatMessage, Outcome, Rejection, SentPacket, StageTimings } from '../../../../shared/message';
import type { RigConfig } from '../../../../shared/rig';
import { CommittedChanges, MemoryStateStore } from './memory-state-store';
import { MessageValidator, ParsedAssignments } from '../../common/message-validator';
import { monotonicNs } from '../../common/monotonic-clock';
import { describePacket, OscOutput, type ResolvedTarget } from './osc-output';
import { OscTap } from '../../common/osc-tap';
import type { DatagramTap, DegradedState, Disposable, LabPipeline, OutcomeCallback, PipelineWarning, StateChangeEvent } from './pipeline-types';
import type { OutcomeSink, PipelineCounters } from '../../common/outcome-record';
import { createStateStore, type StateStore } from './state-store';
import { findUdpListener } from '../../common/find-udp-listener';

/** What the pipeline says when its OSC target has nothing listening. */
function noListenerWarning(target: ResolvedTarget): PipelineWarning {
  const { host, address, port } = target;
  const where = host === address ? `${address}:${port}` : `${host} (${address}):${port}`;
  return { code: 'osc_no_listener', detail: `nothing listens on ${where} — is the converter off or unplugged?` };
}

/** A stage the test seam can hold up (to inject a stall). */
export type HookedStage = 'validate' | 'limit' | 'store' | 'encode' | 'send';

export interface PipelineOptions {
  /** The run's namespace: Redis keys live under it and are purged on close. */
  readonly namespace: string;
  readonly instanceId?: string;
  /** Overrides the rig's redisUrl; `null` forces the memory store. */
  readonly redisUrl?: string | null;
  /** Where outcomes go after the hot path (the audit log). */
  readonly sink?: OutcomeSink;
  /**
   * Listen on the rig's tap port (default: when the rig has one); or a tap listening elsewhere
   * (another thread), told of each datagram here.
   */
  readonly tap?: boolean | DatagramTap;
  /** Test seam: awaited before each stage when set (a stall shows up in e2e). */
  readonly stageHook?: (stage: HookedStage) => void | Promise<void>;
  /** Keep Redis keys after close (a console session that outlives one command). */
  readonly keepState?: boolean;
  /** Look up at start whether something listens on a loopback OSC target (default true). */
  readonly checkTarget?: boolean;
  /** A Redis commit slower than this is decided in process (default 250 ms). */
  readonly redisCommandTimeoutMs?: number;
  /** One write to Redis per event-loop turn for its commits (default true; see StateStoreOptions). */
  readonly redisCoalesceWrites?: boolean;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** The due time of a message on the monotonicNs clock; `fallbackNs` when it has none. */
const dueOf = (message: ChatMessage, fallbackNs: number): number =>
  message.dueAtNs ?? (message.dueNs !== undefined ? Number(message.dueNs) : fallbackNs);

/** An accepted outcome whose printable packet is decoded from its datagram only when read. */
class AcceptedOutcome {
  readonly status = 'accepted' as const;
  constructor(
    readonly changes: readonly AppliedChange[],
    readonly timings: StageTimings,
    readonly datagram: Buffer,
  ) {}
  get packet(): SentPacket {
    return describePacket(this.datagram);
  }
  toJSON(): Outcome {
    return { status: this.status, changes: this.changes, packet: this.packet, timings: this.timings };
  }
}

/**
 * The outcome objects the memory path rewrites for every message (see OutcomeCallback). Each
 * kind has timings of its own whose fields are always numbers, so V8 writes each stamp into the
 * field in place instead of boxing a new number for it.
 */
class ReusedOutcomes {
  readonly accepted: { status: 'accepted'; changes: readonly AppliedChange[]; datagram: Buffer; timings: Required<Omit<StageTimings, 'chatToOsc' | 'chatWritten'>>; readonly packet: SentPacket };
  /** Refused by the grammar: only the validate stage ran. */
  readonly invalid: { status: 'rejected'; rejection: Rejection; timings: { validate: number } };
  /** Refused by the limiter: validate and limit ran. */
  readonly limited: { status: 'rejected'; rejection: Rejection; timings: { validate: number; limit: number } };

  constructor() {
    this.accepted = {
      status: 'accepted',
      changes: [],
      datagram: Buffer.alloc(0),
      timings: { validate: 0.5, limit: 0.5, store: 0.5, encode: 0.5, send: 0.5, e2e: 0.5 },
      get packet(): SentPacket {
        return describePacket(this.datagram);
      },
    };
    this.invalid = { status: 'rejected', rejection: { code: 'empty', detail: '' }, timings: { validate: 0.5 } };
    this.limited = { status: 'rejected', rejection: { code: 'empty', detail: '' }, timings: { validate: 0.5, limit: 0.5 } };
  }
}

/** A copy of an outcome that owns everything in it (for keeping, queueing or a Promise). */
function keepOutcome(outcome: Outcome): Outcome {
  const timings: StageTimings = {};
  for (const stage of ['validate', 'limit', 'store', 'encode', 'send', 'e2e'] as const) {
    const value = outcome.timings[stage];
    if (value !== undefined) timings[stage] = value;
  }
  if (outcome.status === 'accepted') {
    const datagram = (outcome as { datagram?: Buffer }).datagram;
    const changes = outcome.changes.map((change) => ({ variable: change.variable, value: change.value, version: change.version, writer: change.writer }));
    if (datagram) return new AcceptedOutcome(changes, timings, Buffer.from(datagram));
    return { status: 'accepted', changes, packet: outcome.packet, timings };
  }
  if (outcome.status === 'rejected') return { status: 'rejected', rejection: outcome.rejection, timings };
  return { status: 'failed', error: outcome.error, timings };
}

/**
 * The system under test: validate → limit → store → encode → send, each stage stamped on the
 * monotonicNs clock (numbers, no BigInt); end-to-end counts from the message's due time.
 *
 * With the memory store and no stage hook, a message runs synchronously from the validator's
 * reused arrays through the pooled changes to a reused datagram, and processWith() hands the
 * reused outcome to its callback: no Promise, closure or display string per message. Redis and
 * the test hook take the asynchronous path, which builds its own objects.
 */
class Pipeline implements LabPipeline {
  private readonly tapEmitter = new Emitter<number>();
  private readonly changeEmitter = new Emitter<StateChangeEvent>();
  private readonly remoteSubscription: Disposable;
  private tap: DatagramTap | undefined;
  private failures = 0;
  private readonly memoryStore: MemoryStateStore | undefined;
  private readonly parsed = new ParsedAssignments();
  private readonly committed = new CommittedChanges();
  private readonly reused = new ReusedOutcomes();
  private readonly startWarnings: PipelineWarning[] = [];

  constructor(
    private readonly validator: MessageValidator,
    private readonly store: StateStore,
    private readonly output: OscOutput,
    private readonly options: PipelineOptions,
  ) {
    this.memoryStore = store instanceof MemoryStateStore && !options.stageHook ? store : undefined;
    this.remoteSubscription = store.onDidChange((change) =>
      this.changeEmitter.fire({ ...change, origin: 'remote', receivedAtMs: Date.now() }),
    );
  }

  attachTap(tap: DatagramTap): void {
    this.tap = tap;
  }

  addWarning(warning: PipelineWarning): void {
    this.startWarnings.push(warning);
  }

  readonly onDidTap = this.tapEmitter.event;
  readonly onDidChangeState = this.changeEmitter.event;

  onDidChangeDegraded(listener: (state: DegradedState) => void): Disposable {
    return this.store.onDidChangeDegraded(listener);
  }

  warnings(): readonly PipelineWarning[] {
    // A target the socket table could not vouch for (another machine) is known absent once the
    // ICMP "port unreachable" of a real send comes back.
    if (this.output.targetAbsentSends > 0 && !this.startWarnings.some((warning) => warning.code === 'osc_no_listener')) {
      return [...this.startWarnings, noListenerWarning(this.output.target)];
    }
    return this.startWarnings;
  }

  process(message: ChatMessage): Promise<Outcome> {
    if (this.memoryStore) return Promise.resolve(keepOutcome(this.runNow(message, this.memoryStore)));
    return this.runAsync(message);
  }

  processWith(message: ChatMessage, done: OutcomeCallback): void {
    if (this.memoryStore) {
      done(this.runNow(message, this.memoryStore), message);
      return;
    }
    void this.runAsync(message).then((outcome) => {
      try {
        done(outcome, message);
      } catch (error) {
        // A failing callback must not become an unhandled rejection that ends the engine.
        console.error('cvlab: a processWith callback failed:', error);
      }
    });
  }

  /** The synchronous memory path: reused arrays and outcome objects, nothing per message but the stamps. */
  private runNow(message: ChatMessage, store: MemoryStateStore): Outcome {
    const reused = this.reused;
    const started = monotonicNs();
    const dueNs = dueOf(message, started);
    let outcome: Outcome;
    let validated = started;
    try {
      const rejection = this.validator.validateInto(message.text, this.parsed);
      validated = monotonicNs();
      if (rejection !== undefined) {
        const invalid = reused.invalid;
        invalid.rejection = rejection;
        invalid.timings.validate = validated - started;
        outcome = invalid;
      } else {
        const committed = this.committed;
        committed.limitStartNs = validated;
        const refusal = store.commitParsed(message.user, this.parsed, committed);
        if (refusal !== undefined) {
          const limited = reused.limited;
          limited.rejection = refusal;
          limited.timings.validate = validated - started;
          limited.timings.limit = committed.limitNs;
          outcome = limited;
        } else {
          const datagram = this.output.encodeReusable(committed.changes);
          const encodedAt = monotonicNs();
          this.tap?.expect(dueNs, datagram);
          this.output.sendNow(datagram);
          const sent = monotonicNs();
          const accepted = reused.accepted;
          const timings = accepted.timings;
          timings.validate = validated - started;
          timings.limit = committed.limitNs;
          timings.store = committed.storeNs;
          timings.encode = encodedAt - committed.storedAtNs;
          timings.send = sent - encodedAt;
          timings.e2e = sent - dueNs;
          accepted.changes = committed.changes;
          accepted.datagram = datagram;
          outcome = accepted;
          if (this.changeEmitter.hasListeners) this.fireLocalChanges(committed.changes);
        }
      }
    } catch (error) {
      this.failures++;
      outcome = { status: 'failed', error: error instanceof Error ? error.message : String(error), timings: { validate: validated - started } };
    }
    this.options.sink?.record({ user: message.user, text: message.text, atMs: Date.now(), outcome: keepOutcome(outcome) });
    return outcome;
  }

  /** The asynchronous path (Redis, or the test hook): fresh objects, awaited stages. */
  private async runAsync(message: ChatMessage): Promise<Outcome> {
    const started = monotonicNs();
    const dueNs = dueOf(message, started);
    const timings: StageTimings = {};
    const hook = this.options.stageHook;
    let outcome: Outcome;
    try {
      if (hook) await hook('validate');
      const validateStart = hook ? monotonicNs() : started;
      const validation = this.validator.validate(message.text);
      timings.validate = monotonicNs() - validateStart;
      if (!validation.ok) {
        outcome = { status: 'rejected', rejection: validation.rejection, timings };
      } else {
        if (hook) await hook('limit');
        const commit = await this.store.commit(message.user, validation.assignments);
        timings.limit = commit.limitNs;
        if (!commit.ok) {
          outcome = { status: 'rejected', rejection: commit.rejection, timings };
        } else {
          if (commit.storeNs !== undefined) timings.store = commit.storeNs;
          if (hook) await hook('encode');
          const encodeStart = monotonicNs();
          const encoded = this.output.encode(commit.changes);
          const encodedAt = monotonicNs();
          timings.encode = encodedAt - encodeStart;
          if (hook) await hook('send');
          this.tap?.expect(dueNs, encoded.buffer);
          const sendStart = hook ? monotonicNs() : encodedAt;
          await this.output.send(encoded.buffer);
          const sent = monotonicNs();
          timings.send = sent - sendStart;
          timings.e2e = sent - dueNs;
          outcome = new AcceptedOutcome(commit.changes, timings, encoded.buffer);
          if (this.changeEmitter.hasListeners) this.fireLocalChanges(commit.changes);
        }
      }
    } catch (error) {
      this.failures++;
      outcome = { status: 'failed', error: error instanceof Error ? error.message : String(error), timings };
    }
    this.options.sink?.record({ user: message.user, text: message.text, atMs: Date.now(), outcome });
    return outcome;
  }

  private fireLocalChanges(changes: readonly AppliedChange[]): void {
    const atMs = Date.now();
    for (const change of changes) {
      this.changeEmitter.fire({ variable: change.variable, value: change.value, version: change.version, writer: change.writer, origin: 'local', receivedAtMs: atMs });
    }
  }

  counters(): PipelineCounters {
    const store = this.store.counters();
    return {
      limiterFallbacks: store.fallbacks,
      redisErrors: store.redisErrors,
      tapMatched: this.tap?.matched ?? 0,
      tapUnmatched: this.tap?.unmatched ?? 0,
      failures: this.failures,
      lateApplied: store.lateApplied,
      degraded: this.degradedNow,
      ...(this.degradedReasonNow ? { degradedReason: this.degradedReasonNow } : {}),
      oscTargetAbsent: this.output.targetAbsentSends,
      oscSendErrors: this.output.sendErrors,
    };
  }

  private degradedNow = false;
  private degradedReasonNow = '';

  /** Keeps counters().degraded current. */
  watchDegraded(): void {
    this.store.onDidChangeDegraded((state) => {
      this.degradedNow = state.degraded;
      this.degradedReasonNow = state.reason;
    });
  }

  roundTripMs(): Promise<number | undefined> {
    return this.store.roundTripMs();
  }

  snapshot(): ReturnType<StateStore['snapshot']> {
    return this.store.snapshot();
  }

  async close(): Promise<void> {
    this.remoteSubscription.dispose();
    this.tapEmitter.dispose();
    this.changeEmitter.dispose();
    await Promise.all([
      this.store.close({ purge: !this.options.keepState }),
      this.output.close(),
      this.tap?.close(),
    ]);
  }

  /** For the tap's callback, which exists before the pipeline. */
  fireTap(ns: number): void {
    this.tapEmitter.fire(ns);
  }
}

/**
 * Builds the pipeline for a rig: validator, state store (Redis or memory), OSC output, optional
 * tap. The OSC host is resolved once here: a name that does not resolve fails at once
 * (ValidationError naming osc.host, or ServiceUnreachableError when the name service does not
 * answer). A target with nothing listening is a warning (warnings()), not an error.
 */
export async function createPipeline(rig: RigConfig, options: PipelineOptions): Promise<LabPipeline> {
  const redisUrl = options.redisUrl === null ? undefined : (options.redisUrl ?? rig.redisUrl);
  const remoteTap = typeof options.tap === 'object' ? options.tap : undefined;
  const useTap = (options.tap ?? true) !== false && rig.osc.tapPort !== undefined;
  // Resolve the target before opening Redis: a bad osc.host fails fast, leaving nothing open.
  const tapIsTarget = rig.osc.tapPort === rig.osc.port && isLoopback(rig.osc.host);
  const output = await OscOutput.open(rig, { mirrorToTap: useTap && !tapIsTarget });
  let store: StateStore | undefined;
  try {
    store = await createStateStore(rig, {
      ...(redisUrl ? { redisUrl } : {}),
      namespace: options.namespace,
      instanceId: options.instanceId ?? randomUUID(),
      ...(options.redisCommandTimeoutMs !== undefined ? { commandTimeoutMs: options.redisCommandTimeoutMs } : {}),
      ...(options.redisCoalesceWrites !== undefined ? { coalesceWrites: options.redisCoalesceWrites } : {}),
    });
    const pipeline = new Pipeline(new MessageValidator(rig), store, output, options);
    pipeline.watchDegraded();
    if (useTap && remoteTap) pipeline.attachTap(remoteTap);
    else if (useTap && rig.osc.tapPort !== undefined) {
      pipeline.attachTap(await OscTap.listen(rig.osc.tapPort, (ns) => pipeline.fireTap(ns)));
    }
    // Read from the kernel's socket table, never by sending: the converter sees only OSC.
    if ((options.checkTarget ?? true) && (await findUdpListener(output.target.address, output.target.port)) === false) {
      pipeline.addWarning(noListenerWarning(output.target));
    }
    return pipeline;
  } catch (error) {
    await Promise.all([store?.close({ purge: true }), output.close()]);
    throw error;
  }
}


import { randomUUID } from 'node:crypto';
import { Emitter } from '../../../shared/emitter';
import type { ChatMessage, Outcome, StageTimings } from '../../../shared/message';
import type { RigConfig } from '../../../shared/rig';
import { MemoryStateStore } from './memory-state-store';
import { MessageValidator } from './message-validator';
import { OscOutput } from './osc-output';
import { OscTap } from './osc-tap';
import type { ChatPipeline, DatagramTap, Disposable, OutcomeSink, PipelineCounters, StateChangeEvent } from './pipeline-types';
import { createStateStore, type StateStore } from './state-store';

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
}

const now = (): bigint => process.hrtime.bigint();
const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/**
 * The system under test: validate → limit → store → encode → send, each stage timed with
 * process.hrtime.bigint(); end-to-end counts from the message's due time.
 */
class Pipeline implements ChatPipeline {
  private readonly tapEmitter = new Emitter<number>();
  private readonly changeEmitter = new Emitter<StateChangeEvent>();
  private readonly remoteSubscription: Disposable;
  private tap: DatagramTap | undefined;
  private failures = 0;
  private readonly memoryStore: MemoryStateStore | undefined;

  constructor(
    private readonly validator: MessageValidator,
    private readonly store: StateStore,
    private readonly output: OscOutput,
    private readonly options: PipelineOptions,
  ) {
    this.memoryStore = store instanceof MemoryStateStore ? store : undefined;
    this.remoteSubscription = store.onDidChange((change) =>
      this.changeEmitter.fire({ ...change, origin: 'remote', receivedAtMs: Date.now() }),
    );
  }

  attachTap(tap: DatagramTap): void {
    this.tap = tap;
  }

  readonly onDidTap = this.tapEmitter.event;
  readonly onDidChangeState = this.changeEmitter.event;

  async process(message: ChatMessage): Promise<Outcome> {
    const started = now();
    const dueNs = message.dueNs ?? started;
    const timings: StageTimings = {};
    const hook = this.options.stageHook;
    let outcome: Outcome;
    try {
      if (hook) await hook('validate');
      const validateStart = hook ? now() : started;
      const validation = this.validator.validate(message.text);
      const validated = now();
      timings.validate = Number(validated - validateStart);
      if (!validation.ok) {
        outcome = { status: 'rejected', rejection: validation.rejection, timings };
      } else {
        if (hook) await hook('limit');
        // The memory store answers at once: no promise on the hot path.
        const commit = this.memoryStore
          ? this.memoryStore.commitNow(message.user, validation.assignments)
          : await this.store.commit(message.user, validation.assignments);
        timings.limit = commit.limitNs;
        if (!commit.ok) {
          outcome = { status: 'rejected', rejection: commit.rejection, timings };
        } else {
          if (commit.storeNs !== undefined) timings.store = commit.storeNs;
          if (hook) await hook('encode');
          const encodeStart = now();
          const encoded = this.output.encode(commit.changes);
          const encodedAt = now();
          timings.encode = Number(encodedAt - encodeStart);
          if (hook) await hook('send');
          this.tap?.expect(dueNs, encoded.buffer);
          const sendStart = hook ? now() : encodedAt;
          await this.output.send(encoded.buffer);
          const sent = now();
          timings.send = Number(sent - sendStart);
          timings.e2e = Number(sent - dueNs);
          outcome = { status: 'accepted', changes: commit.changes, packet: encoded.packet, timings };
          if (this.changeEmitter.hasListeners) {
            const atMs = Date.now();
            for (const change of commit.changes) {
              this.changeEmitter.fire({ ...change, origin: 'local', receivedAtMs: atMs });
            }
          }
        }
      }
    } catch (error) {
      this.failures++;
      outcome = { status: 'failed', error: error instanceof Error ? error.message : String(error), timings };
    }
    this.options.sink?.record({ user: message.user, text: message.text, atMs: Date.now(), outcome });
    return outcome;
  }

  counters(): PipelineCounters {
    const store = this.store.counters();
    return {
      limiterFallbacks: store.fallbacks,
      redisErrors: store.redisErrors,
      tapMatched: this.tap?.matched ?? 0,
      tapUnmatched: this.tap?.unmatched ?? 0,
      failures: this.failures,
    };
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

/** Builds the pipeline for a rig: validator, state store (Redis or memory), OSC output, optional tap. */
export async function createPipeline(rig: RigConfig, options: PipelineOptions): Promise<ChatPipeline> {
  const redisUrl = options.redisUrl === null ? undefined : (options.redisUrl ?? rig.redisUrl);
  const remoteTap = typeof options.tap === 'object' ? options.tap : undefined;
  const useTap = (options.tap ?? true) !== false && rig.osc.tapPort !== undefined;
  const store = await createStateStore(rig, {
    ...(redisUrl ? { redisUrl } : {}),
    namespace: options.namespace,
    instanceId: options.instanceId ?? randomUUID(),
  });
  let output: OscOutput | undefined;
  try {
    // When the target is this machine's tap port, the tap is the receiving end itself; otherwise
    // every datagram is mirrored to the tap on loopback.
    const tapIsTarget = rig.osc.tapPort === rig.osc.port && isLoopback(rig.osc.host);
    output = await OscOutput.open(rig, { mirrorToTap: useTap && !tapIsTarget });
    const pipeline = new Pipeline(new MessageValidator(rig), store, output, options);
    if (useTap && remoteTap) pipeline.attachTap(remoteTap);
    else if (useTap && rig.osc.tapPort !== undefined) {
      pipeline.attachTap(await OscTap.listen(rig.osc.tapPort, (ns) => pipeline.fireTap(ns)));
    }
    return pipeline;
  } catch (error) {
    await Promise.all([store.close({ purge: true }), output?.close()]);
    throw error;
  }
}

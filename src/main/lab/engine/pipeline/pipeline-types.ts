import type { Disposable } from '../../../../shared/emitter';
import type { AppliedChange, ChatMessage, Outcome } from '../../../../shared/message';
import type { BlackBoxSummary } from '../../../../shared/run';
import type { PipelineCounters } from '../../common/outcome-record';
import type { BotProcessRef } from '../../common/engine-protocol';
import type { MetricStage } from '../../../../shared/scenario';

export type { Disposable } from '../../../../shared/emitter';

/**
 * Receives one message's outcome from processWith(). The outcome (its timings, changes and
 * rejection) may be reused for the next message once this returns: read it now, or copy it.
 */
export type OutcomeCallback = (outcome: Outcome, message: ChatMessage) => void;

/** Whether the in-process limiter stands in for Redis, and why, in plain words. */
export interface DegradedState {
  readonly degraded: boolean;
  readonly reason: string;
}

/** Something about the rig the host should tell the technician at start; the run goes on. */
export interface PipelineWarning {
  readonly code: 'osc_no_listener';
  /** Plain words, e.g. "nothing listens on 127.0.0.1:9000 — is the converter off or unplugged?". */
  readonly detail: string;
}

/**
 * The system under test, as the load lab, the CLI and the console see it. processWith,
 * onDidChangeDegraded and warnings are optional only so that other implementations (stand-ins in
 * benches, the black-box pipeline) keep compiling while they adopt them; createPipeline's has all.
 */
export interface ChatPipeline {
  /** Runs one message through validate → limit → store → encode → send. Never throws. */
  process(message: ChatMessage): Promise<Outcome>;
  /**
   * process() without a Promise: `done` gets the outcome once. With the memory store it runs
   * before processWith returns and nothing is allocated for the outcome (it is reused: see
   * OutcomeCallback); with Redis it runs when the commit answers. Never throws.
   */
  processWith?(message: ChatMessage, done: OutcomeCallback): void;
  /** Fires when the in-process limiter starts standing in for Redis, and when Redis answers again. */
  onDidChangeDegraded?(listener: (state: DegradedState) => void): Disposable;
  /** What the host should say at start (e.g. nothing listens on the OSC target). */
  warnings?(): readonly PipelineWarning[];
  /** Datagram seen on the OSC tap: due time → arrival on the wire, ns. */
  onDidTap(listener: (e2eTapNs: number) => void): Disposable;
  /** A change accepted here, or published by another instance on the same Redis. */
  onDidChangeState(listener: (change: StateChangeEvent) => void): Disposable;
  /** Counters: how often the in-process limiter stood in for Redis, datagrams lost on the tap. */
  counters(): PipelineCounters;
  /** One Redis PING round trip in ms; undefined with the memory store. */
  roundTripMs(): Promise<number | undefined>;
  /** Current value, version and writer of every variable. */
  snapshot(): Promise<Record<string, { value: number; version: number; writer: string }>>;
  /** Closes sockets and connections and removes the run's Redis keys. */
  close(): Promise<void>;
  /** Timings that arrive apart from an outcome (black box: the bot's chat replies). */
  onDidMeasure?(listener: (measurement: { stage: MetricStage; ns: number }) => void): Disposable;
  /** The system under test can no longer run (a black-box bot left): the run ends, its figures kept. */
  onDidFail?(listener: (reason: string) => void): Disposable;
  /** Black box: the chat and OSC accounting so far (final once closed), for the run summary. */
  blackBox?(): BlackBoxSummary;
  /** Black box: where the bot's processes are, so the host can watch their CPU and memory. */
  botProcess?(): BotProcessRef;
}

/** The pipeline createPipeline builds: every optional member of ChatPipeline present. */
export type LabPipeline = ChatPipeline & Required<Pick<ChatPipeline, 'processWith' | 'onDidChangeDegraded' | 'warnings'>>;

/**
 * Told of each datagram before it is sent, so arrivals on the OSC tap can be timed from due time.
 * `dueNs` is on the monotonicNs clock (process.hrtime ns as a number).
 */
export interface DatagramTap {
  expect(dueNs: number, buffer: Uint8Array): void;
  readonly matched: number;
  readonly unmatched: number;
  close(): Promise<void>;
}

/** A state change seen by this instance. */
export type StateChangeEvent = AppliedChange & {
  readonly origin: 'local' | 'remote';
  /** Remote changes: the publisher's instance and its publish time (Redis TIME, ms). */
  readonly instanceId?: string;
  readonly publishedAtMs?: number;
  /** Wall-clock ms when this instance saw the change. */
  readonly receivedAtMs: number;
};

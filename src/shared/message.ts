import { z } from 'zod';
import type { RejectionCode } from './rejection';

/** One chat message entering the pipeline. */
export const ChatMessageSchema = z.object({
  user: z.string().min(1).max(64),
  text: z.string(),
  /**
   * When the message was due, in process.hrtime nanoseconds. In a load run this is the
   * scheduled time, so queueing delay counts toward end-to-end latency.
   */
  dueNs: z.bigint().optional(),
  /**
   * The same due time as a plain number (process.hrtime ns; monotonicNs() in the engine): the
   * allocation-free form a load run uses. Wins over dueNs when both are given.
   */
  dueAtNs: z.number().optional(),
});
export type ChatMessage = z.output<typeof ChatMessageSchema>;

/** A value as written in chat, before the current state is known. */
export type ValueSpec =
  | { readonly kind: 'absolute'; readonly value: number }
  /** `+0.1`, `-5%`: added to the current value, then held inside the range. */
  | { readonly kind: 'relative'; readonly delta: number };

/** One `name=value` of a message after validation. */
export interface Assignment {
  readonly variable: string;
  readonly spec: ValueSpec;
  /** The text the viewer wrote for the value (for logs and the console). */
  readonly raw: string;
  /** The value was outside the range and the variable clamps. */
  readonly clamped?: boolean;
}

export interface Rejection {
  readonly code: RejectionCode;
  /** Plain words: what was wrong and what was expected. */
  readonly detail: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly assignments: readonly Assignment[] }
  | { readonly ok: false; readonly rejection: Rejection };

/** A variable's new state after an accepted change. */
export interface AppliedChange {
  readonly variable: string;
  readonly value: number;
  readonly version: number;
  readonly writer: string;
}

/** Stage durations of one message, in nanoseconds. Absent: the stage did not run. */
export interface StageTimings {
  validate?: number;
  limit?: number;
  /** Absent when the limiter and the state write share one Redis round trip (then in `limit`). */
  store?: number;
  encode?: number;
  send?: number;
  /** Due time → datagram handed to the kernel (black box: → the bot's datagram on the wire). */
  e2e?: number;
  /** Black box: due time → the bot's OSC datagram caught on the wire. */
  chatToOsc?: number;
  /** Black box: due time → the viewer's line written to the bot's socket. */
  chatWritten?: number;
}

export const STAGES = ['validate', 'limit', 'store', 'encode', 'send', 'e2e', 'tap'] as const;
export type Stage = (typeof STAGES)[number];

/** One OSC packet as sent, decoded for people. */
export interface SentPacket {
  readonly bundle: boolean;
  readonly messages: readonly { address: string; typeTags: string; values: readonly (number | string)[] }[];
  readonly bytes: number;
}

export type Outcome =
  | {
      readonly status: 'accepted';
      readonly changes: readonly AppliedChange[];
      readonly packet: SentPacket;
      readonly timings: StageTimings;
    }
  | {
      readonly status: 'rejected';
      readonly rejection: Rejection;
      readonly timings: StageTimings;
    }
  | {
      /** The pipeline itself failed (socket error): not the viewer's fault. */
      readonly status: 'failed';
      readonly error: string;
      readonly timings: StageTimings;
    };

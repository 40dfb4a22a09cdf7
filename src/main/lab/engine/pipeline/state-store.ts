import type { AppliedChange, Assignment, Rejection } from '../../../../shared/message';
import type { RigConfig } from '../../../../shared/rig';
import { MemoryStateStore } from './memory-state-store';
import { RedisStateStore } from './redis-state-store';

/** What one commit did: the changes it applied, or why the limiter refused them. */
export type CommitResult =
  | {
      readonly ok: true;
      readonly changes: AppliedChange[];
      /** Limiter time, ns. In Redis mode the limiter and the write are one round trip, all counted here. */
      readonly limitNs: number;
      /** State write time, ns; absent when it shared the limiter's round trip. */
      readonly storeNs?: number;
    }
  | { readonly ok: false; readonly rejection: Rejection; readonly limitNs: number };

/** A change published by another instance on the same namespace. */
export type RemoteChange = AppliedChange & {
  readonly instanceId: string;
  /** Wall-clock ms (Redis TIME) when it was published, to measure propagation. */
  readonly publishedAtMs: number;
};

/** Current state of one variable. */
export interface VariableState {
  readonly value: number;
  /** Counts accepted changes of the variable; only increases. 0: never changed (default value). */
  readonly version: number;
  /** User who made the last change; '' for the default value. */
  readonly writer: string;
}

export interface StateStoreCounters {
  /** Commits served by the in-process limiter and memory mirror because Redis failed. */
  readonly fallbacks: number;
  /** Redis commands that failed or timed out. */
  readonly redisErrors: number;
  /**
   * Commits applied by Redis after this store had decided them in process (the reply took longer
   * than the command timeout minus the lease): each one a message applied twice. Should stay 0.
   */
  readonly lateApplied: number;
}

/** Whether the in-process limiter stands in for Redis, and why (plain words). */
export interface DegradedState {
  readonly degraded: boolean;
  readonly reason: string;
}

/** Rate limiter + current value, version and writer of each variable. */
export interface StateStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Runs the limiter and, when it allows the message, resolves relative values against the
   * current state, writes value + version + writer + time and publishes the change. Never throws.
   */
  commit(user: string, assignments: readonly Assignment[]): Promise<CommitResult>;
  /** Every variable of the rig: its value, version and last writer (defaults at version 0). */
  snapshot(): Promise<Record<string, VariableState>>;
  /** Changes published by OTHER instances on the same namespace; the memory store never fires. */
  onDidChange(listener: (change: RemoteChange) => void): { dispose(): void };
  counters(): StateStoreCounters;
  /** Fires when the in-process limiter starts standing in for Redis, and when Redis answers again. */
  onDidChangeDegraded(listener: (state: DegradedState) => void): { dispose(): void };
  /** One PING round trip in ms; undefined without Redis or when it does not answer. */
  roundTripMs(): Promise<number | undefined>;
  /** Closes connections; `purge` deletes every key of the namespace first. */
  close(options?: { purge?: boolean }): Promise<void>;
}

export interface StateStoreOptions {
  /** redis://… ; absent: the in-process memory store. */
  readonly redisUrl?: string;
  /** The run's namespace; every Redis key is `cvlab:{<namespace>}:…`. */
  readonly namespace: string;
  /** This engine instance; other instances see it on the changes they receive. */
  readonly instanceId: string;
  /** Expiry of every Redis key, refreshed on write, so a dead process leaves nothing behind. Default 10 min. */
  readonly keyTtlMs?: number;
  /** A Redis command slower than this fails and the message falls back to the in-process limiter. Default 250 ms. */
  readonly commandTimeoutMs?: number;
  /**
   * Send the commits of one event-loop turn to Redis in one write (default true); false writes
   * each as it is made (the pipeline bench compares the two).
   */
  readonly coalesceWrites?: boolean;
  /** How long creating a Redis store waits for Redis before starting in fallback mode. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
}

/** Creates the Redis store when a URL is given, the memory store otherwise. */
export async function createStateStore(rig: RigConfig, options: StateStoreOptions): Promise<StateStore> {
  if (options.redisUrl) return RedisStateStore.connect(rig, { ...options, redisUrl: options.redisUrl });
  return new MemoryStateStore(rig);
}

import type { AppliedChange, Assignment, Rejection } from '../../../../shared/message';
import { MAX_ASSIGNMENTS } from '../../../../shared/rejection';
import type { RigConfig, VariableConfig } from '../../../../shared/rig';
import { deferRejection } from '../../common/deferred-rejection';
import { describeLimit, HybridRateLimiter, type HybridRateLimiterOptions } from './hybrid-rate-limiter';
import type { ParsedAssignments } from '../../common/message-validator';
import { monotonicNs, performanceMsOf } from '../../common/monotonic-clock';
import type { CommitResult, DegradedState, RemoteChange, StateStore, StateStoreCounters, VariableState } from './state-store';
import { defaultValue, resolveRelative, resolveValue } from '../../common/value-resolver';

interface StoredState {
  value: number;
  version: number;
  writer: string;
}

/** A change the pool writes in place. */
type PooledChange = { -readonly [K in keyof AppliedChange]: AppliedChange[K] };

/**
 * What commitParsed() accepted, in reused objects: valid until the next commitParsed() with the
 * same instance. `changes` is one of eight arrays (one per count) of pooled change objects.
 */
export class CommittedChanges {
  private readonly pool: PooledChange[][] = Array.from({ length: MAX_ASSIGNMENTS }, (_, index) =>
    Array.from({ length: index + 1 }, () => ({ variable: '', value: 0, version: 0, writer: '' })),
  );
  changes: readonly AppliedChange[] = [];
  // Start as doubles, so V8 keeps them as unboxed double fields written in place.
  limitNs = 0.5;
  storeNs = 0.5;
  /** monotonicNs when the changes were written (the encode stage starts there). */
  storedAtNs = 0.5;
  /** Set by the caller before commitParsed(): monotonicNs when the limit stage starts. */
  limitStartNs = 0.5;

  /** The pooled array for `count` changes; its objects are rewritten in place. */
  take(count: number): PooledChange[] {
    const changes = this.pool[count - 1] as PooledChange[];
    this.changes = changes;
    return changes;
  }
}

const unknownVariableDetail = (name: string): string => `the rig has no variable "${name}"`;

const NO_COUNTERS: StateStoreCounters = Object.freeze({ fallbacks: 0, redisErrors: 0, lateApplied: 0 });

/** Finds an assignment naming a variable the rig does not have (validation normally stops those). */
export function unknownVariable(variables: ReadonlyMap<string, VariableConfig>, assignments: readonly Assignment[]): string | undefined {
  for (const assignment of assignments) if (!variables.has(assignment.variable)) return assignment.variable;
  return undefined;
}

/**
 * The state store without Redis: the in-process HybridRateLimiter and a Map. Synchronous
 * inside; the Redis store also keeps one as its mirror and fallback.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  private readonly variables = new Map<string, VariableConfig>();
  private readonly state = new Map<string, StoredState>();
  private readonly limiter: HybridRateLimiter;
  /** No clock was injected: the limiter may read the pipeline's own stamp (one clock read less). */
  private readonly ownClock: boolean;

  constructor(
    private readonly rig: RigConfig,
    options: HybridRateLimiterOptions = {},
  ) {
    for (const variable of rig.variables) this.variables.set(variable.name, variable);
    this.limiter = new HybridRateLimiter(rig.limiter, rig.variables, options);
    this.ownClock = options.now === undefined;
  }

  commit(user: string, assignments: readonly Assignment[]): Promise<CommitResult> {
    return Promise.resolve(this.commitNow(user, assignments));
  }

  /** The commit itself, synchronous: limiter, then resolve and write each assignment. */
  commitNow(user: string, assignments: readonly Assignment[]): CommitResult {
    const unknown = unknownVariable(this.variables, assignments);
    if (unknown !== undefined) {
      return { ok: false, rejection: deferRejection('unknown_variable', unknownVariableDetail, unknown), limitNs: 0 };
    }
    const limitStart = monotonicNs();
    const decision = this.limiter.check(
      user,
      assignments.map((assignment) => assignment.variable),
    );
    const limitEnd = monotonicNs();
    const limitNs = limitEnd - limitStart;
    if (!decision.ok) return { ok: false, rejection: describeLimit(decision, user, this.rig.limiter), limitNs };

    const changes: AppliedChange[] = [];
    for (const assignment of assignments) {
      const variable = this.variables.get(assignment.variable) as VariableConfig;
      const stored = this.state.get(variable.name);
      const current = stored ? stored.value : defaultValue(variable);
      const value = resolveValue(variable, assignment.spec, current);
      const version = this.write(variable.name, stored, value, user);
      changes.push({ variable: variable.name, value, version, writer: user });
    }
    return { ok: true, changes, limitNs, storeNs: monotonicNs() - limitEnd };
  }

  /**
   * commitNow() for the hot path: reads the validator's reused arrays and writes the accepted
   * changes into `out` (pooled objects); answers undefined when accepted, else the rejection.
   * The caller sets out.limitStartNs first (a stamp it already took).
   */
  commitParsed(user: string, parsed: ParsedAssignments, out: CommittedChanges): Rejection | undefined {
    const count = parsed.count;
    for (let index = 0; index < count; index++) {
      const name = parsed.variables[index] as string;
      if (!this.variables.has(name)) return deferRejection('unknown_variable', unknownVariableDetail, name);
    }
    let decision;
    if (this.ownClock) {
      this.limiter.givenNowMs = performanceMsOf(out.limitStartNs);
      decision = this.limiter.checkAtGivenTime(user, parsed.variables, count);
    } else {
      decision = this.limiter.check(user, parsed.variables, count);
    }
    const limitEnd = monotonicNs();
    out.limitNs = limitEnd - out.limitStartNs;
    if (!decision.ok) return describeLimit(decision, user, this.rig.limiter);
    const changes = out.take(count);
    for (let index = 0; index < count; index++) {
      const name = parsed.variables[index] as string;
      const variable = this.variables.get(name) as VariableConfig;
      const stored = this.state.get(name);
      const current = stored ? stored.value : defaultValue(variable);
      const value =
        parsed.relative[index] === 1
          ? resolveRelative(variable, parsed.values[index] as number, current)
          : (parsed.values[index] as number);
      const version = this.write(name, stored, value, user);
      const change = changes[index] as PooledChange;
      change.variable = name;
      change.value = value;
      change.version = version;
      change.writer = user;
    }
    const storedAt = monotonicNs();
    out.storeNs = storedAt - limitEnd;
    out.storedAtNs = storedAt;
    return undefined;
  }

  /** Writes a variable's next version in place (or its first); answers the version. */
  private write(name: string, stored: StoredState | undefined, value: number, writer: string): number {
    const version = (stored?.version ?? 0) + 1;
    if (stored) {
      stored.value = value;
      stored.version = version;
      stored.writer = writer;
    } else {
      this.state.set(name, { value, version, writer });
    }
    return version;
  }

  /** Takes in changes decided elsewhere (Redis, another instance), keeping the newest version. */
  absorb(changes: readonly AppliedChange[]): void {
    for (const change of changes) {
      const stored = this.state.get(change.variable);
      if (stored && stored.version >= change.version) continue;
      this.state.set(change.variable, { value: change.value, version: change.version, writer: change.writer });
      // Keeps cooldowns right if this mirror has to stand in for Redis next.
      this.limiter.noteChange(change.variable);
    }
  }

  /** The last known value and version of a variable (its default at version 0 when never changed). */
  stateOf(variable: string): { readonly value: number; readonly version: number } {
    const stored = this.state.get(variable);
    if (stored) return stored;
    const config = this.variables.get(variable);
    return { value: config ? defaultValue(config) : Number.NaN, version: 0 };
  }

  snapshotNow(): Record<string, VariableState> {
    const snapshot: Record<string, VariableState> = {};
    for (const variable of this.rig.variables) {
      const stored = this.state.get(variable.name);
      snapshot[variable.name] = stored ? { ...stored } : { value: defaultValue(variable), version: 0, writer: '' };
    }
    return snapshot;
  }

  snapshot(): Promise<Record<string, VariableState>> {
    return Promise.resolve(this.snapshotNow());
  }

  onDidChange(_listener: (change: RemoteChange) => void): { dispose(): void } {
    // One process, no other instances: nothing is ever published to it.
    return { dispose: () => undefined };
  }

  counters(): StateStoreCounters {
    return NO_COUNTERS;
  }

  onDidChangeDegraded(_listener: (state: DegradedState) => void): { dispose(): void } {
    // Nothing to stand in for: the memory store is never degraded.
    return { dispose: () => undefined };
  }

  roundTripMs(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  /** User buckets held in memory (full ones are pruned). */
  trackedUsers(): number {
    return this.limiter.trackedUsers();
  }

  close(_options?: { purge?: boolean }): Promise<void> {
    this.state.clear();
    return Promise.resolve();
  }
}

import type { AppliedChange, Assignment } from '../../../shared/message';
import type { RigConfig, VariableConfig } from '../../../shared/rig';
import { describeLimit, HybridRateLimiter, type HybridRateLimiterOptions } from './hybrid-rate-limiter';
import type { CommitResult, RemoteChange, StateStore, StateStoreCounters, VariableState } from './state-store';
import { defaultValue, resolveValue } from './value-resolver';

interface StoredState {
  value: number;
  version: number;
  writer: string;
}

const NO_COUNTERS: StateStoreCounters = Object.freeze({ fallbacks: 0, redisErrors: 0 });

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

  constructor(
    private readonly rig: RigConfig,
    options: HybridRateLimiterOptions = {},
  ) {
    for (const variable of rig.variables) this.variables.set(variable.name, variable);
    this.limiter = new HybridRateLimiter(rig.limiter, rig.variables, options);
  }

  commit(user: string, assignments: readonly Assignment[]): Promise<CommitResult> {
    return Promise.resolve(this.commitNow(user, assignments));
  }

  /** The commit itself, synchronous: limiter, then resolve and write each assignment. */
  commitNow(user: string, assignments: readonly Assignment[]): CommitResult {
    const unknown = unknownVariable(this.variables, assignments);
    if (unknown !== undefined) {
      return { ok: false, rejection: { code: 'unknown_variable', detail: `the rig has no variable "${unknown}"` }, limitNs: 0 };
    }
    const limitStart = process.hrtime.bigint();
    const decision = this.limiter.check(
      user,
      assignments.map((assignment) => assignment.variable),
    );
    const limitEnd = process.hrtime.bigint();
    const limitNs = Number(limitEnd - limitStart);
    if (!decision.ok) return { ok: false, rejection: describeLimit(decision, user, this.rig.limiter), limitNs };

    const changes: AppliedChange[] = [];
    for (const assignment of assignments) {
      const variable = this.variables.get(assignment.variable) as VariableConfig;
      const stored = this.state.get(variable.name);
      const current = stored ? stored.value : defaultValue(variable);
      const value = resolveValue(variable, assignment.spec, current);
      const version = (stored?.version ?? 0) + 1;
      if (stored) {
        stored.value = value;
        stored.version = version;
        stored.writer = user;
      } else {
        this.state.set(variable.name, { value, version, writer: user });
      }
      changes.push({ variable: variable.name, value, version, writer: user });
    }
    return { ok: true, changes, limitNs, storeNs: Number(process.hrtime.bigint() - limitEnd) };
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

import { performance } from 'node:perf_hooks';
import type { Rejection } from '../../../../shared/message';
import type { LimiterConfig, VariableConfig } from '../../../../shared/rig';
import { deferRejection } from '../../common/deferred-rejection';

/**
 * One token bucket, kept as the moment it will be full again (GCRA's "theoretical arrival
 * time"): one number instead of tokens + timestamp, and a bucket whose moment has passed is
 * simply full, so it can be forgotten (in memory) or expire (in Redis).
 */
export interface TokenBucket {
  fullAtMs: number;
}

/** Tolerance for the rounding of large absolute timestamps (Redis TIME in ms): 1 µs. */
export const TOKEN_SLACK_MS = 0.001;

/**
 * The token-bucket step shared by the in-process limiter and the Redis Lua script
 * (redis-commit.lua.ts repeats these exact lines): the bucket refills at `rate` tokens/s up to
 * `burst`; taking a token pushes its full-again moment 1/rate later. Returns 0 when a token was
 * taken (and moves the bucket), otherwise the whole milliseconds until the next token (bucket
 * untouched).
 */
export function takeToken(bucket: TokenBucket, nowMs: number, rate: number, burst: number): number {
  const intervalMs = 1000 / rate;
  const nextFullAtMs = Math.max(bucket.fullAtMs, nowMs) + intervalMs;
  const excessMs = nextFullAtMs - nowMs - burst * intervalMs;
  if (excessMs > TOKEN_SLACK_MS) return Math.max(1, Math.ceil(excessMs));
  bucket.fullAtMs = nextFullAtMs;
  return 0;
}

/** The limiter's verdict on one message, before it is put into words. */
export type LimitDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'rate_limited_user'; readonly waitMs: number }
  | { readonly ok: false; readonly code: 'rate_limited_global'; readonly waitMs: number }
  | {
      readonly ok: false;
      readonly code: 'cooldown';
      readonly variable: string;
      /** Time since the variable last changed. */
      readonly sinceMs: number;
      readonly cooldownMs: number;
      readonly waitMs: number;
    };

/** The one "allowed" verdict, shared: an accepted message allocates no decision. */
const ALLOWED: LimitDecision = Object.freeze({ ok: true });

const formatRate = (perSecond: number): string => String(Number(perSecond.toPrecision(6)));

/**
 * A refusal of the limiter as a rejection (the same text in memory and Redis mode). The plain
 * words are written only when the detail is read: a spam burst costs no prose.
 */
export function describeLimit(
  decision: Exclude<LimitDecision, { ok: true }>,
  user: string,
  limiter: LimiterConfig,
): Rejection {
  return deferRejection(decision.code, limitDetail, decision, user, limiter);
}

function limitDetail(decision: Exclude<LimitDecision, { ok: true }>, user: string, limiter: LimiterConfig): string {
  switch (decision.code) {
    case 'rate_limited_user':
      return (
        `user "${user}" sent messages faster than the per-user limit of ${formatRate(limiter.userRate)}/s ` +
        `with bursts of ${limiter.userBurst}; next message accepted in ${decision.waitMs} ms`
      );
    case 'rate_limited_global':
      return (
        `the chat as a whole is over the global limit of ${formatRate(limiter.globalRate)} changes/s ` +
        `with bursts of ${limiter.globalBurst}; next change possible in ${decision.waitMs} ms`
      );
    case 'cooldown':
      return (
        `"${decision.variable}" changed ${Math.round(decision.sinceMs)} ms ago and may change at most once every ` +
        `${decision.cooldownMs} ms; next change possible in ${decision.waitMs} ms`
      );
  }
}

export interface HybridRateLimiterOptions {
  /** Monotonic clock in milliseconds; tests inject their own. Default: performance.now. */
  readonly now?: () => number;
}

/**
 * The in-process HybridRateLimiter: a token bucket per user, one global token bucket and a
 * minimum interval per variable. Used alone by the memory store and as the stand-in when
 * Redis fails; the Redis store runs the same rules in one Lua script.
 *
 * Order: the user's bucket (every attempt that passes it costs a token, so spam costs the
 * spammer), then the cooldown of each assigned variable, then the global bucket (taken only
 * when the message is accepted, one token per accepted message).
 */
export class HybridRateLimiter {
  private readonly users = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;
  /** Last accepted change of each variable, on the limiter's clock. */
  private readonly changedAt = new Map<string, number>();
  private readonly cooldowns = new Map<string, number>();
  private readonly now: () => number;
  /**
   * How often full user buckets are forgotten: the time an emptied bucket takes to refill,
   * held between 1 s (a sweep walks every bucket) and 10 s (memory comes back soon enough).
   */
  private readonly sweepEveryMs: number;
  private lastSweepMs: number;

  constructor(
    private readonly limiter: LimiterConfig,
    variables: readonly Pick<VariableConfig, 'name' | 'cooldownMs'>[],
    options: HybridRateLimiterOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    for (const variable of variables) {
      if (variable.cooldownMs > 0) this.cooldowns.set(variable.name, variable.cooldownMs);
    }
    const start = this.now();
    this.global = { fullAtMs: start };
    this.sweepEveryMs = Math.min(10_000, Math.max(1000, (limiter.userBurst * 1000) / limiter.userRate));
    this.lastSweepMs = start;
  }

  /**
   * Decides one message from `user` that assigns the first `count` of `variables` (a reused
   * array may be longer); takes the tokens and records the change time of each variable when
   * it is accepted.
   */
  check(user: string, variables: readonly string[], count = variables.length): LimitDecision {
    return this.decide(user, variables, count, this.now());
  }

  /**
   * A reading of the limiter's clock (performance.now() ms) the caller already took, handed over
   * in a field rather than an argument: a double argument would be boxed on every call.
   */
  givenNowMs = 0.5;

  /** check() at givenNowMs instead of a fresh clock reading. */
  checkAtGivenTime(user: string, variables: readonly string[], count: number): LimitDecision {
    return this.decide(user, variables, count, this.givenNowMs);
  }

  private decide(user: string, variables: readonly string[], count: number, now: number): LimitDecision {
    if (now - this.lastSweepMs >= this.sweepEveryMs) this.sweep(now);

    let bucket = this.users.get(user);
    if (!bucket) {
      bucket = { fullAtMs: now };
      this.users.set(user, bucket);
    }
    const userWait = takeToken(bucket, now, this.limiter.userRate, this.limiter.userBurst);
    if (userWait > 0) return { ok: false, code: 'rate_limited_user', waitMs: userWait };

    for (let index = 0; index < count; index++) {
      const variable = variables[index] as string;
      const cooldownMs = this.cooldowns.get(variable);
      if (cooldownMs === undefined) continue;
      const changedAt = this.changedAt.get(variable);
      if (changedAt === undefined) continue;
      const sinceMs = now - changedAt;
      if (sinceMs < cooldownMs) {
        return { ok: false, code: 'cooldown', variable, sinceMs, cooldownMs, waitMs: Math.max(1, Math.ceil(cooldownMs - sinceMs)) };
      }
    }

    const globalWait = takeToken(this.global, now, this.limiter.globalRate, this.limiter.globalBurst);
    if (globalWait > 0) return { ok: false, code: 'rate_limited_global', waitMs: globalWait };

    for (let index = 0; index < count; index++) {
      const variable = variables[index] as string;
      if (this.cooldowns.has(variable)) this.changedAt.set(variable, now);
    }
    return ALLOWED;
  }

  /** Another instance changed `variable` just now: start its cooldown here too. */
  noteChange(variable: string): void {
    if (this.cooldowns.has(variable)) this.changedAt.set(variable, this.now());
  }

  /** How many user buckets are held in memory (full buckets are pruned). */
  trackedUsers(): number {
    return this.users.size;
  }

  /** Forgets every user bucket that has refilled completely (indistinguishable from a new one). */
  private sweep(now: number): void {
    this.lastSweepMs = now;
    for (const [user, bucket] of this.users) if (bucket.fullAtMs <= now) this.users.delete(user);
  }
}

import { describe, expect, it } from 'vitest';
import type { Assignment } from '../../src/shared/message';
import { RigSchema, type LimiterConfig, type RigInput } from '../../src/shared/rig';
import { describeLimit, HybridRateLimiter, takeToken, type LimitDecision } from '../../src/main/lab/engine/pipeline/hybrid-rate-limiter';
import { materializeRejection } from '../../src/main/lab/common/deferred-rejection';
import { MemoryStateStore } from '../../src/main/lab/engine/pipeline/memory-state-store';

/** A clock the test moves by hand. */
function manualClock(startMs = 1000): { now: () => number; advance: (ms: number) => void } {
  let time = startMs;
  return { now: () => time, advance: (ms) => (time += ms) };
}

const codeOf = (decision: LimitDecision): string => (decision.ok ? 'accepted' : decision.code);
const limits = (overrides: Partial<LimiterConfig>): LimiterConfig => ({ userRate: 2, userBurst: 5, globalRate: 1000, globalBurst: 100, ...overrides });
const variables = [
  { name: 'hue', cooldownMs: 0 },
  { name: 'speed', cooldownMs: 50 },
];

describe('takeToken', () => {
  it('takes tokens while there are any, then says how long until the next one', () => {
    // Full at 0 ms: 2 tokens at 4/s.
    const bucket = { fullAtMs: 0 };
    expect(takeToken(bucket, 0, 4, 2)).toBe(0);
    expect(takeToken(bucket, 0, 4, 2)).toBe(0);
    expect(bucket.fullAtMs).toBe(500);
    // Empty: one token every 250 ms; a refusal leaves the bucket as it was.
    expect(takeToken(bucket, 100, 4, 2)).toBe(150);
    expect(bucket.fullAtMs).toBe(500);
    expect(takeToken(bucket, 250, 4, 2)).toBe(0);
  });

  it('never holds more than the burst, however long it sat', () => {
    const bucket = { fullAtMs: 0 };
    for (let index = 0; index < 3; index++) expect(takeToken(bucket, 1_000_000, 10, 3)).toBe(0);
    expect(takeToken(bucket, 1_000_000, 10, 3)).toBe(100);
  });

  it('is not fooled by the rounding of large absolute timestamps', () => {
    // Redis TIME in ms: 1.7e12 with a fraction, where sums do not come out exact.
    const now = 1_795_718_142_720.572;
    const bucket = { fullAtMs: 0 };
    for (let index = 0; index < 5; index++) expect(takeToken(bucket, now + index * 0.001, 3, 5)).toBe(0);
    expect(takeToken(bucket, now, 3, 5)).toBeGreaterThan(0);
  });
});

describe('HybridRateLimiter (in-process)', () => {
  it('lets a user send a burst, refuses the next message, and refills over time', () => {
    const clock = manualClock();
    const limiter = new HybridRateLimiter(limits({ userRate: 2, userBurst: 5 }), variables, clock);
    for (let index = 0; index < 5; index++) expect(limiter.check('alice', ['hue'])).toEqual({ ok: true });
    const refused = limiter.check('alice', ['hue']);
    expect(refused).toEqual({ ok: false, code: 'rate_limited_user', waitMs: 500 });
    // Other users are not affected.
    expect(limiter.check('bob', ['hue']).ok).toBe(true);
    clock.advance(499);
    expect(limiter.check('alice', ['hue']).ok).toBe(false);
    clock.advance(1);
    expect(limiter.check('alice', ['hue']).ok).toBe(true);
  });

  it('holds every variable to its cooldown whoever sends, and charges the sender a token anyway', () => {
    const clock = manualClock();
    const limiter = new HybridRateLimiter(limits({ userRate: 1, userBurst: 2 }), variables, clock);
    expect(limiter.check('alice', ['speed']).ok).toBe(true);
    clock.advance(20);
    expect(limiter.check('bob', ['hue', 'speed'])).toEqual({ ok: false, code: 'cooldown', variable: 'speed', sinceMs: 20, cooldownMs: 50, waitMs: 30 });
    // bob's refused attempt cost one of his two tokens, so spam costs the spammer.
    expect(limiter.check('bob', ['hue']).ok).toBe(true);
    expect(codeOf(limiter.check('bob', ['hue']))).toBe('rate_limited_user');
    clock.advance(30);
    expect(limiter.check('carol', ['speed']).ok).toBe(true);
  });

  it('caps everyone together, and takes a global token only for accepted messages', () => {
    const clock = manualClock();
    const limiter = new HybridRateLimiter(limits({ userRate: 100, userBurst: 1, globalRate: 10, globalBurst: 3 }), variables, clock);
    // Refused by the user bucket: no global token is spent.
    expect(limiter.check('alice', ['hue']).ok).toBe(true);
    for (let index = 0; index < 10; index++) expect(codeOf(limiter.check('alice', ['hue']))).toBe('rate_limited_user');
    expect(limiter.check('bob', ['hue']).ok).toBe(true);
    // Refused by a cooldown: no global token is spent either.
    expect(limiter.check('carol', ['speed']).ok).toBe(true);
    expect(codeOf(limiter.check('dave', ['speed']))).toBe('cooldown');
    expect(limiter.check('erin', ['hue'])).toEqual({ ok: false, code: 'rate_limited_global', waitMs: 100 });
    clock.advance(100);
    expect(limiter.check('frank', ['hue']).ok).toBe(true);
    expect(codeOf(limiter.check('grace', ['hue']))).toBe('rate_limited_global');
  });

  it('accepts no more than burst + rate × time overall', () => {
    const clock = manualClock();
    const limiter = new HybridRateLimiter(limits({ userRate: 1000, userBurst: 1000, globalRate: 50, globalBurst: 20 }), variables, clock);
    let accepted = 0;
    for (let step = 0; step < 2000; step++) {
      if (limiter.check(`user${step % 37}`, ['hue']).ok) accepted++;
      clock.advance(1);
    }
    // 2 s at 50/s plus the burst of 20.
    expect(accepted).toBeLessThanOrEqual(20 + 50 * 2);
    expect(accepted).toBeGreaterThanOrEqual(20 + 50 * 2 - 1);
  });

  it('forgets full user buckets, so 100,000 one-time users do not stay in memory', () => {
    const clock = manualClock();
    const limiter = new HybridRateLimiter(limits({ userRate: 2, userBurst: 5, globalRate: 1e9, globalBurst: 1e9 }), variables, clock);
    for (let index = 0; index < 100_000; index++) limiter.check(`viewer${index}`, ['hue']);
    expect(limiter.trackedUsers()).toBe(100_000);
    // One token refills in 500 ms; a bucket that lost one token is full again after that.
    clock.advance(2500);
    limiter.check('late', ['hue']);
    expect(limiter.trackedUsers()).toBe(1);
  });

  it('keeps a bucket that is not full yet, so pruning never hands out a fresh burst', () => {
    const clock = manualClock();
    const limiter = new HybridRateLimiter(limits({ userRate: 1, userBurst: 3 }), variables, clock);
    clock.advance(2000);
    for (let index = 0; index < 3; index++) limiter.check('spammer', ['hue']);
    // 3 s after the start the sweep runs (refill time 3 s); the spammer's bucket holds only 1 token.
    clock.advance(1000);
    limiter.check('viewer', ['hue']);
    expect(limiter.trackedUsers()).toBe(2);
    expect(limiter.check('spammer', ['hue']).ok).toBe(true);
    expect(codeOf(limiter.check('spammer', ['hue']))).toBe('rate_limited_user');
  });

  it('puts each refusal into plain words naming the limit', () => {
    const limiter = limits({ userRate: 2, userBurst: 5, globalRate: 2000, globalBurst: 200 });
    expect(describeLimit({ ok: false, code: 'rate_limited_user', waitMs: 310 }, 'alice', limiter).detail).toBe(
      'user "alice" sent messages faster than the per-user limit of 2/s with bursts of 5; next message accepted in 310 ms',
    );
    expect(describeLimit({ ok: false, code: 'rate_limited_global', waitMs: 1 }, 'alice', limiter).detail).toBe(
      'the chat as a whole is over the global limit of 2000 changes/s with bursts of 200; next change possible in 1 ms',
    );
    expect(materializeRejection(describeLimit({ ok: false, code: 'cooldown', variable: 'speed', sinceMs: 20.4, cooldownMs: 50, waitMs: 30 }, 'bob', limiter))).toEqual({
      code: 'cooldown',
      detail: '"speed" changed 20 ms ago and may change at most once every 50 ms; next change possible in 30 ms',
    });
  });
});

const rigInput: RigInput = {
  name: 'test',
  osc: { port: 9000 },
  limiter: { userRate: 1000, userBurst: 1000, globalRate: 1000, globalBurst: 1000 },
  variables: [
    { name: 'hue', address: '/hue', kind: 'float', min: 0, max: 1, default: 0.5, out: { min: 0, max: 1, unit: 'V' } },
    { name: 'rotate', address: '/rotate', kind: 'int', min: -10, max: 10, default: 0, out: { min: -1, max: 1, unit: 'V' } },
    { name: 'shape', address: '/shape', kind: 'enum', values: ['ramp', 'sine', 'square'], default: 'sine', out: { min: 0, max: 1, unit: 'V' } },
  ],
};
const set = (variable: string, value: number): Assignment => ({ variable, spec: { kind: 'absolute', value }, raw: String(value) });
const add = (variable: string, delta: number): Assignment => ({ variable, spec: { kind: 'relative', delta }, raw: `${delta}` });

describe('MemoryStateStore', () => {
  it('resolves relative values against the current state with increasing versions', async () => {
    const store = new MemoryStateStore(RigSchema.parse(rigInput));
    const first = await store.commit('alice', [set('hue', 0.9), add('rotate', 2.5), add('shape', 5)]);
    expect(first).toMatchObject({
      ok: true,
      changes: [
        { variable: 'hue', value: 0.9, version: 1, writer: 'alice' },
        { variable: 'rotate', value: 3, version: 1, writer: 'alice' },
        { variable: 'shape', value: 2, version: 1, writer: 'alice' },
      ],
    });
    const second = await store.commit('bob', [add('hue', 0.3), add('rotate', -20)]);
    expect(second).toMatchObject({ ok: true, changes: [{ value: 1, version: 2, writer: 'bob' }, { value: -10, version: 2 }] });
    expect(await store.snapshot()).toEqual({
      hue: { value: 1, version: 2, writer: 'bob' },
      rotate: { value: -10, version: 2, writer: 'bob' },
      shape: { value: 2, version: 1, writer: 'alice' },
    });
    expect(store.counters()).toEqual({ fallbacks: 0, redisErrors: 0, lateApplied: 0 });
    expect(await store.roundTripMs()).toBeUndefined();
    await store.close();
  });

  it('starts from the defaults and times the limiter and the write separately', async () => {
    const store = new MemoryStateStore(RigSchema.parse(rigInput));
    expect((await store.snapshot())['shape']).toEqual({ value: 1, version: 0, writer: '' });
    const result = await store.commit('alice', [add('hue', -0.2)]);
    if (!result.ok) throw new Error(result.rejection.detail);
    expect(result.changes[0]?.value).toBeCloseTo(0.3, 12);
    expect(result.limitNs).toBeGreaterThan(0);
    expect(result.storeNs).toBeGreaterThanOrEqual(0);
  });

  it('refuses an unknown variable in plain words instead of throwing', async () => {
    const store = new MemoryStateStore(RigSchema.parse(rigInput));
    const result = await store.commit('alice', [set('nope', 1)]);
    expect(result).toMatchObject({ ok: false, rejection: { code: 'unknown_variable' } });
  });

  it('applies the rig limiter with the injected clock', async () => {
    const clock = manualClock();
    const store = new MemoryStateStore(RigSchema.parse({ ...rigInput, limiter: { userRate: 1, userBurst: 1, globalRate: 100, globalBurst: 100 } }), clock);
    expect((await store.commit('alice', [set('hue', 0.1)])).ok).toBe(true);
    const refused = await store.commit('alice', [set('hue', 0.2)]);
    expect(refused).toMatchObject({ ok: false, rejection: { code: 'rate_limited_user' } });
    clock.advance(1000);
    expect((await store.commit('alice', [set('hue', 0.2)])).ok).toBe(true);
  });
});

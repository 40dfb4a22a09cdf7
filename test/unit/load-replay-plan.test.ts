import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/shared/format-issues';
import { ExecutorSchema, ScenarioSchema, type ReplayExecutor } from '../../src/shared/scenario';
import { formatIssues } from '../../src/shared/format-issues';
import { createArrivalPlan, ReplayArrivals, type ArrivalPlan } from '../../src/main/lab/common/arrival-plan';

function drain(plan: ArrivalPlan): { atNs: number; user?: number }[] {
  const out: { atNs: number; user?: number }[] = [];
  for (let arrival = plan.next(); arrival; arrival = plan.next()) out.push(arrival);
  return out;
}

const replay = (fields: Record<string, unknown>): ReplayExecutor => ExecutorSchema.parse({ type: 'replay', file: 'chat.log', ...fields }) as ReplayExecutor;
/** A log whose times are wall-clock ms: the plan measures from its first message. */
const log = (offsetsMs: number[], origin = 1_741_377_600_000): { times: Float64Array; count: number } => ({
  times: Float64Array.from(offsetsMs.map((offset) => origin + offset)),
  count: offsetsMs.length,
});

describe('a replay plan', () => {
  it('plays each message at its recorded offset ÷ speed, naming it by its place in the file', () => {
    const plan = createArrivalPlan(replay({ speed: 4 }), 1, undefined, log([0, 1000, 1000, 2500, 10_000]));
    expect(plan.plannedMessages).toBe(5);
    expect(plan.plannedDurationMs).toBe(2500);
    expect(drain(plan)).toEqual([
      { atNs: 0, user: 0 },
      { atNs: 250e6, user: 1 },
      { atNs: 250e6, user: 2 },
      { atNs: 625e6, user: 3 },
      { atNs: 2500e6, user: 4 },
    ]);
  });

  it('keeps a fractional speed (half speed doubles every gap)', () => {
    const times = drain(createArrivalPlan(replay({ speed: 0.5 }), 1, undefined, log([0, 300, 700]))).map((arrival) => arrival.atNs);
    expect(times).toEqual([0, 600e6, 1400e6]);
  });

  it('puts a log that is not in time order in order, equal times in file order', () => {
    const arrivals = drain(createArrivalPlan(replay({}), 1, undefined, log([500, 0, 500, 200])));
    expect(arrivals.map((arrival) => arrival.user)).toEqual([1, 3, 0, 2]);
    expect(arrivals.map((arrival) => arrival.atNs)).toEqual([0, 200e6, 500e6, 500e6]);
  });

  it('plays the window [from, to) only, from its start', () => {
    const plan = new ReplayArrivals(log([0, 1000, 2000, 3000, 4000, 5000]), replay({ from: '2s', to: '4s', speed: 2 }));
    expect(plan.windowMessages).toBe(2);
    expect([plan.fromMs, plan.toMs]).toEqual([2000, 4000]);
    expect(drain(plan)).toEqual([
      { atNs: 0, user: 2 },
      { atNs: 500e6, user: 3 },
    ]);
  });

  it('loops the window until the duration, the count known before the first message', () => {
    // Window without "to": up to the next whole second after its last message (2.5 s → 3 s).
    const plan = new ReplayArrivals(log([0, 1000, 2500]), replay({ loop: true, duration: '7s' }));
    expect(plan.windowLengthMs).toBe(3000);
    expect(plan.plannedMessages).toBe(7);
    expect(plan.plannedDurationMs).toBe(7000);
    const arrivals = drain(plan);
    expect(arrivals).toHaveLength(7);
    expect(arrivals.map((arrival) => arrival.atNs / 1e6)).toEqual([0, 1000, 2500, 3000, 4000, 5500, 6000]);
    expect(arrivals.map((arrival) => arrival.user)).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('cuts a longer window at the duration when not looping', () => {
    const plan = new ReplayArrivals(log([0, 1000, 2000, 3000]), replay({ duration: '1.5s', speed: 1 }));
    expect(plan.plannedMessages).toBe(2);
    expect(plan.plannedDurationMs).toBe(1500);
  });

  it('refuses a window that holds no message, saying where the messages are', () => {
    const build = (): ArrivalPlan => new ReplayArrivals(log([0, 1000, 2000]), replay({ from: '1m' }));
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/from 1m 0s holds no message: the log's messages lie from 0s to 2s after its first one/);
  });
});

describe('the replay executor in the scenario contract', () => {
  const problems = (executor: Record<string, unknown>): string[] => {
    const result = ScenarioSchema.safeParse({ name: 'replay', executor: { type: 'replay', file: 'chat.log', ...executor } });
    return result.success ? [] : formatIssues(result.error.issues);
  };

  it('fills in the defaults', () => {
    expect(replay({})).toEqual({ type: 'replay', file: 'chat.log', format: 'auto', speed: 1, loop: false, users: 'as-recorded' });
  });

  it('refuses a loop without a duration, "to" before "from", a speed of 0 and an unknown format, naming each', () => {
    expect(problems({ loop: true })).toEqual(['executor.duration: a looped replay needs a duration (how long to keep repeating the window), like "10m"']);
    expect(problems({ from: '5m', to: '2m' })).toEqual(['executor.to: expected "to" after "from" (300000 ms), got 120000 ms']);
    expect(problems({ speed: 0 })[0]).toMatch(/executor.speed: expected a speed above 0/);
    expect(problems({ format: 'mirc' })[0]).toMatch(/executor.format/);
    expect(problems({ from: 'soon' })[0]).toMatch(/expected an offset like "0s", "3m" or "1h"/);
  });

  it('refuses a multi-instance replay', () => {
    const result = ScenarioSchema.safeParse({ name: 'replay', executor: { type: 'replay', file: 'chat.log' }, multiInstance: {} });
    expect(result.success ? [] : formatIssues(result.error.issues)).toEqual(['multiInstance: a replay plays one log through one engine: remove "multiInstance"']);
  });
});

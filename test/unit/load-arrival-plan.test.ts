import { describe, expect, it } from 'vitest';
import { ExecutorSchema, ScenarioSchema } from '../../src/shared/scenario';
import { createArrivalPlan, type ArrivalPlan } from '../../src/main/lab/common/arrival-plan';

function drain(plan: ArrivalPlan): { atNs: number; user?: number }[] {
  const out: { atNs: number; user?: number }[] = [];
  for (let arrival = plan.next(); arrival; arrival = plan.next()) out.push(arrival);
  return out;
}

const sorted = (times: number[]): boolean => times.every((time, index) => index === 0 || time >= (times[index - 1] as number));

describe('arrival plans', () => {
  it('spaces a constant rate evenly and plans exactly rate × duration', () => {
    const plan = createArrivalPlan(ExecutorSchema.parse({ type: 'constant-arrival-rate', rate: 1000, duration: '3s' }), 1);
    const arrivals = drain(plan);
    expect(plan.plannedMessages).toBe(3000);
    expect(arrivals).toHaveLength(3000);
    expect(arrivals[1]?.atNs).toBe(1_000_000);
    expect(arrivals.at(-1)?.atNs).toBe(2_999_000_000);
  });

  it('ramps linearly: 0 → 100/s over 2 s then 100/s for 1 s gives 200 messages, denser at the end', () => {
    const plan = createArrivalPlan(ExecutorSchema.parse({ type: 'ramping-arrival-rate', startRate: 0, stages: [{ target: 100, duration: '2s' }, { target: 100, duration: '1s' }] }), 1);
    const times = drain(plan).map((arrival) => arrival.atNs);
    expect(times).toHaveLength(200);
    expect(sorted(times)).toBe(true);
    expect(times.filter((time) => time < 1e9)).toHaveLength(25);
    expect(times.filter((time) => time >= 2e9)).toHaveLength(100);
  });

  it('puts a burst of K messages from M users inside the window, every user speaking', () => {
    const plan = createArrivalPlan(ExecutorSchema.parse({ type: 'burst', messages: 500, users: 200, window: '250ms' }), 4);
    const arrivals = drain(plan);
    expect(arrivals).toHaveLength(500);
    expect(sorted(arrivals.map((arrival) => arrival.atNs))).toBe(true);
    expect(arrivals.every((arrival) => arrival.atNs >= 0 && arrival.atNs < 250e6)).toBe(true);
    expect(new Set(arrivals.map((arrival) => arrival.user)).size).toBe(200);
  });

  it('lets virtual users type on their own clocks inside the ramps, close to the expected count', () => {
    const plan = createArrivalPlan(
      ExecutorSchema.parse({ type: 'virtual-users', users: 100, thinkTime: { distribution: 'exponential', meanMs: 500 }, rampUp: '1s', rampDown: '1s', duration: '5s' }),
      2,
    );
    const arrivals = drain(plan);
    expect(sorted(arrivals.map((arrival) => arrival.atNs))).toBe(true);
    expect(arrivals.every((arrival) => arrival.atNs < 5e9)).toBe(true);
    // The last user joins at 0.99 s: nobody but the first few speaks in the first 100 ms.
    expect(new Set(arrivals.filter((arrival) => arrival.atNs < 100e6).map((arrival) => arrival.user)).size).toBeLessThanOrEqual(10);
    expect(Math.abs(arrivals.length - plan.plannedMessages) / plan.plannedMessages).toBeLessThan(0.1);
  });

  it('steps a capacity search from startRate by stepRate within the duration', () => {
    const scenario = ScenarioSchema.parse({
      name: 'stress',
      executor: { type: 'constant-arrival-rate', rate: 100, duration: '3s' },
      capacitySearch: { startRate: 100, stepRate: 100, maxRate: 1000, stepDuration: '1s' },
      thresholds: { 'e2e.p99': '<10ms' },
    });
    const plan = createArrivalPlan(scenario.executor, 1, scenario.capacitySearch);
    expect(plan.steps?.rates).toEqual([100, 200, 300]);
    const times = drain(plan).map((arrival) => arrival.atNs);
    expect(times).toHaveLength(600);
    expect(times.filter((time) => time >= 2e9)).toHaveLength(300);
  });
});

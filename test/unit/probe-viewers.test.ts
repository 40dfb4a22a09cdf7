import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { ExecutorSchema } from '../../src/shared/scenario';
import { createArrivalPlan, type Arrival } from '../../src/main/lab/common/arrival-plan';
import { ProbeArrivals, ProbeViewers } from '../../src/main/lab/engine/load/probe-viewers';
import { MessageValidator } from '../../src/main/lab/common/message-validator';

const demo = RigSchema.parse(JSON.parse(readFileSync('resources/rigs/demo.json', 'utf8')));

describe('probe viewers (chat → CV)', () => {
  it('merge into the load in due order: one every 1/rateHz, the first half a period in, counted in the plan', () => {
    const load = createArrivalPlan(ExecutorSchema.parse({ type: 'constant-arrival-rate', rate: 100, duration: '3s' }), 1);
    const plan = new ProbeArrivals(load, 2);
    const arrivals: Arrival[] = [];
    for (let arrival = plan.next(); arrival; arrival = plan.next()) arrivals.push(arrival);
    expect(plan.plannedMessages).toBe(306);
    expect(arrivals).toHaveLength(306);
    expect(arrivals.every((arrival, index) => index === 0 || arrival.atNs >= (arrivals[index - 1] as Arrival).atNs)).toBe(true);
    const probes = arrivals.filter((arrival) => arrival.probe !== undefined);
    expect(probes.map((arrival) => [arrival.probe, arrival.atNs])).toEqual([0, 1, 2, 3, 4, 5].map((index) => [index, 250_000_000 + index * 500_000_000]));
  });

  it('alternate low and high in the rig\'s grammar, from names that rotate', () => {
    const validator = new MessageValidator(demo);
    const viewers = new ProbeViewers(demo, { variable: 'invert', rateHz: 2, viewers: 3 });
    const messages = [0, 1, 2, 3].map((index) => viewers.message(index));
    expect(messages.map((message) => message.user)).toEqual(['probe-1', 'probe-2', 'probe-3', 'probe-1']);
    expect(messages.map((message) => message.text)).toEqual(['invert=off', 'invert=on', 'invert=off', 'invert=on']);
    expect([0, 1].map((index) => ProbeViewers.direction(index))).toEqual(['fall', 'rise']);
    for (const message of messages) expect(validator.validate(message.text).ok).toBe(true);
  });

  it('give a float test variable a different value each time, near each end of its range (negatives written ==)', () => {
    const rig = RigSchema.parse({ ...demo, variables: demo.variables.map((variable) => ({ ...variable, test: variable.name === 'zoom' ? true : undefined })) });
    const validator = new MessageValidator(rig);
    const viewers = new ProbeViewers(rig, { variable: 'zoom', rateHz: 2, viewers: 8 });
    const values = Array.from({ length: 40 }, (_, index) => {
      const text = viewers.message(index).text;
      const result = validator.validate(text);
      if (!result.ok || result.assignments[0]?.spec.kind !== 'absolute') throw new Error(`not an absolute zoom: ${text}`);
      return result.assignments[0].spec.value;
    });
    expect(new Set(values).size).toBe(40);
    values.forEach((value, index) => (index % 2 === 1 ? expect(value).toBeGreaterThan(0.79) : expect(value).toBeLessThan(-0.79)));
    expect(viewers.message(0).text).toMatch(/^zoom==-0\.\d+$/);
  });
});

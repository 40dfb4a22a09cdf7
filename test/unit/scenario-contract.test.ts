import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../src/shared/format-issues';
import { RigSchema } from '../../src/shared/rig';
import { ScenarioSchema } from '../../src/shared/scenario';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  variables: Record<string, unknown>[];
  osc: Record<string, unknown>;
};
const base = { name: 'contract', executor: { type: 'constant-arrival-rate', rate: 100, duration: '1s' } };

/** The plain lines a user would read for `value`, or [] when it parses. */
function problemsOf(schema: typeof ScenarioSchema | typeof RigSchema, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : formatIssues(result.error.issues);
}

describe('the one scenario contract', () => {
  it('keeps multiInstance, fanout, alerts and target (nothing re-reads the file)', () => {
    const scenario = ScenarioSchema.parse({
      ...base,
      multiInstance: { instances: 2, heartbeatTimeout: '2s' },
      alerts: [{ id: 'slow', metric: 'e2e.p99', comparison: '>', threshold: 5 }],
    });
    expect(scenario.multiInstance).toMatchObject({ instances: 2, heartbeatTimeout: 2000, oscFrom: 'one', network: { delayMs: 0, jitterMs: 0 } });
    expect(scenario.alerts?.[0]).toMatchObject({ id: 'slow', forMs: 0, severity: 'warning' });
    expect(scenario.target).toEqual({ kind: 'pipeline' });
    const fanout = ScenarioSchema.parse({ ...base, fanout: { subscribers: 10 } });
    expect(fanout.fanout).toMatchObject({ subscribers: 10, slowPolicy: 'coalesce' });
    // The parsed form parses again to itself (the engine, agents and the console re-parse it).
    expect(ScenarioSchema.parse(JSON.parse(JSON.stringify(scenario)))).toEqual(scenario);
  });

  it('takes a bot target in the black-box shape', () => {
    const scenario = ScenarioSchema.parse({
      ...base,
      target: { kind: 'bot', command: 'node bot.js', wait: true, chatPort: 6667, oscListen: '127.0.0.1:9100', forward: '127.0.0.1:9000', channel: 'synth' },
    });
    expect(scenario.target).toEqual({ kind: 'bot', command: 'node bot.js', wait: true, chatPort: 6667, oscListen: '127.0.0.1:9100', forward: '127.0.0.1:9000', channel: 'synth' });
    expect(problemsOf(ScenarioSchema, { ...base, target: { kind: 'bot', oscListen: '127.0.0.1' } })).toEqual([
      'target.oscListen: expected host:port like "127.0.0.1:9000" (port 1–65535)',
    ]);
  });

  it('refuses an unknown key and says which was meant', () => {
    expect(problemsOf(ScenarioSchema, { ...base, executor: { type: 'constant-arrival-rate', rate: 100, duration: '1s', duraton: '2s' } })).toEqual([
      'executor: unknown key "duraton": did you mean "duration"?',
    ]);
    expect(problemsOf(ScenarioSchema, { ...base, multiInstanc: { instances: 2 } })).toEqual(['unknown key "multiInstanc": did you mean "multiInstance"?']);
    expect(problemsOf(ScenarioSchema, { ...base, alerts: [{ id: 'a', metric: 'e2e.p99', comparison: '>', threshold: 1, treshold: 2 }] })).toEqual([
      'alerts[0]: unknown key "treshold": did you mean "threshold"?',
    ]);
    const far = problemsOf(ScenarioSchema, { ...base, traffic: { zzzzzz: 1 } });
    expect(far[0]).toMatch(/^traffic: unknown key "zzzzzz": expected one of "users", "userSkew"/);
    expect(problemsOf(RigSchema, { ...demo, osc: { ...demo.osc, prot: 1 } })).toEqual(['osc: unknown key "prot": did you mean "port"?']);
  });

  it('limits text fields and says a duration is too long', () => {
    expect(problemsOf(ScenarioSchema, { ...base, description: 'x'.repeat(50 * 1024 * 1024) })).toEqual(['description: too long: at most 2000 characters']);
    expect(problemsOf(ScenarioSchema, { ...base, executor: { type: 'constant-arrival-rate', rate: 100, duration: '1e9s' } })).toEqual([
      'executor.duration: too long: at most 168h (a week), got "1e9s"',
    ]);
    expect(problemsOf(RigSchema, { ...demo, name: 'r'.repeat(101) })).toEqual(['name: too long: at most 100 characters']);
  });

  it('refuses a scenario that is both multi-instance and fan-out', () => {
    expect(problemsOf(ScenarioSchema, { ...base, multiInstance: {}, fanout: {} })[0]).toMatch(/^fanout: a scenario is either multi-instance or fan-out/);
  });
});

describe('rig validation', () => {
  it('refuses two variables on one OSC address, naming both', () => {
    const variables = demo.variables.map((variable, index) => (index === 1 ? { ...variable, address: demo.variables[0]?.['address'] } : variable));
    const problems = problemsOf(RigSchema, { ...demo, variables });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^variables\[1\]\.address: OSC address ".*" is already used by variables\[0\]/);
  });

  it('refuses a tap port equal to the OSC port on the same host', () => {
    expect(problemsOf(RigSchema, { ...demo, osc: { host: '127.0.0.1', port: 9000, tapPort: 9000 } })[0]).toMatch(/^osc\.tapPort: the tap port must differ from the OSC target's port \(9000\)/);
    expect(problemsOf(RigSchema, { ...demo, osc: { host: '10.0.0.5', port: 9000, tapPort: 9000 } })).toEqual([]);
  });
});

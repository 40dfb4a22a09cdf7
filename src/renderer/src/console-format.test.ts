import { describe, expect, it } from 'vitest';
import { plainProblem } from './components/DocumentForm';
import { formatAlertValue } from './format/alert-metric';
import { formatCount, formatDuration, formatNsAsMs, formatValue } from './format/format';
import { runnableScenario, scenarioModified } from './scenario-draft';
import { ScenarioSchema } from '../../shared/scenario';

describe('how the console writes figures', () => {
  it('groups thousands and keeps as many decimals as the size needs', () => {
    expect(formatValue(10_000)).toBe('10,000');
    expect(formatValue(0.5)).toBe('0.500');
    expect(formatValue(9.83)).toBe('9.83');
    expect(formatValue(12.34)).toBe('12.3');
    expect(formatValue(0)).toBe('0');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatNsAsMs(7_990_000)).toBe('7.99');
    expect(formatDuration(6_500)).toBe('6.5 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
  });

  it('gives every alert metric its unit', () => {
    expect(formatAlertValue('e2e.p99', 12.5)).toBe('12.5 ms');
    expect(formatAlertValue('errors.rate', 0.253)).toBe('25.3 %');
    expect(formatAlertValue('outcomes.rate_limited_global.rate', 0.2, true)).toBe('20 %');
    expect(formatAlertValue('heap.usedBytes', 64 * 1048576)).toBe('64 MiB');
    expect(formatAlertValue('throughput', 5000)).toBe('5,000 /s');
    expect(formatAlertValue('redis.rttMs', 5, true)).toBe('5 ms');
    expect(formatAlertValue('e2e.p99', undefined)).toBe('–');
  });

  it("says zod's generic problems in plain words and leaves the schemas' own alone", () => {
    expect(plainProblem('Too small: expected string to have >=1 characters')).toBe('must not be empty');
    expect(plainProblem('Too small: expected number to be >=1')).toBe('must be at least 1');
    expect(plainProblem('Invalid input: expected number, received string')).toBe('expected a number, not a string');
    expect(plainProblem('expected a port between 1 and 65535')).toBe('expected a port between 1 and 65535');
  });
});

describe('a scenario draft', () => {
  const file = { path: '/x/burst.json', name: 'burst', builtIn: true };
  const saved = { name: 'burst', executor: { type: 'burst', messages: 100, users: 10, window: '1s' } };
  const parse = (draft: unknown) => ScenarioSchema.parse(draft);

  it('runs under its file name while unchanged', () => {
    const scenario = { file, draft: saved, saved };
    expect(scenarioModified(scenario)).toBe(false);
    expect(runnableScenario(scenario, parse(saved)).name).toBe('burst');
  });

  it('runs as "<name>-draft" once edited, so it never joins the file\'s trend and baseline', () => {
    const draft = { ...saved, executor: { ...saved.executor, messages: 200 } };
    const scenario = { file, draft, saved };
    expect(scenarioModified(scenario)).toBe(true);
    expect(runnableScenario(scenario, parse(draft)).name).toBe('burst-draft');
  });

  it('keeps a name the technician chose for the edit', () => {
    const draft = { ...saved, name: 'burst-small' };
    expect(runnableScenario({ file, draft, saved }, parse(draft)).name).toBe('burst-small');
  });
});

describe('scope details', () => {
  it('prints quarter-second ticks exactly', async () => {
    const { trimNumber } = await import('./scope/scope-format');
    expect(trimNumber(1.25)).toBe('1.25');
    expect(trimNumber(7.75)).toBe('7.75');
    expect(trimNumber(0.5)).toBe('0.5');
    expect(trimNumber(1000)).toBe('1,000');
  });

  it('fits the idle timebase to the scenario about to run', async () => {
    const { plannedMsOfDraft } = await import('./scope/scope-format');
    expect(plannedMsOfDraft({ name: 'burst', executor: { type: 'burst', messages: 100, users: 10, window: '2s' } })).toBe(2000);
    expect(plannedMsOfDraft({ name: 's', executor: { type: 'constant-arrival-rate', rate: 10, duration: '20s' } })).toBe(20_000);
    expect(plannedMsOfDraft({ name: 'bad', executor: { type: 'nope' } })).toBeUndefined();
  });
});

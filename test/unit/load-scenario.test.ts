import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/shared/format-issues';
import { compileThreshold, parseDurationMs, ScenarioSchema } from '../../src/shared/scenario';
import { loadScenario } from '../../src/main/lab/files/scenario-file';
import { applyOverrides } from '../../src/main/lab/run/apply-overrides';

const folder = await mkdtemp(join(tmpdir(), 'cvlab-scenario-'));
afterAll(() => rm(folder, { recursive: true, force: true }));

describe('scenario schema', () => {
  it('parses every built-in scenario', async () => {
    const names = (await readdir('resources/scenarios')).filter((name) => name.endsWith('.json'));
    expect(names.sort()).toEqual(['burst.json', 'mixed.json', 'multi-instance.json', 'replay-sample.json', 'soak.json', 'stress.json', 'sustained.json', 'websocket-scaling.json']);
    for (const name of names) {
      const scenario = await loadScenario(join('resources/scenarios', name));
      expect(scenario.name).toBe(name.replace('.json', ''));
      expect(Object.keys(scenario.thresholds).length).toBeGreaterThan(0);
    }
  });

  it('names each bad field of a malformed scenario file', async () => {
    const path = join(folder, 'broken.json');
    await writeFile(
      path,
      JSON.stringify({
        name: 'Bad Name!',
        executor: { type: 'constant-arrival-rate', rate: -5, duration: '30 parsecs' },
        traffic: { users: 0, mix: { valid: -1 } },
        thresholds: { 'e2e.p99': '<10 apples', 'nonsense.p99': '<1ms', 'errors.rate': '<5ms' },
        interval: '1ms',
      }),
    );
    const error = await loadScenario(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    const fields = problems.map((problem) => problem.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'executor.rate',
        'executor.duration',
        'traffic.users',
        'traffic.mix.valid',
        'thresholds.e2e.p99',
        'thresholds.nonsense.p99',
        'thresholds.errors.rate',
        'interval',
      ]),
    );
    expect((error as ValidationError).message).toContain(path);
  });

  it('rejects an unknown executor type by naming the choices', () => {
    const result = ScenarioSchema.safeParse({ name: 'x', executor: { type: 'closed-loop' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['executor', 'type']);
  });

  it('reads durations with units', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(parseDurationMs(100)).toBe(100);
    expect(parseDurationMs('10 parsecs')).toBeUndefined();
  });

  it('compiles thresholds with units us/ms/s and %', () => {
    expect(compileThreshold('e2e.p99', '<10ms')).toMatchObject({ unit: 'ns', condition: { operator: '<', limit: 10_000_000 } });
    expect(compileThreshold('validate.p95', '<100us')).toMatchObject({ condition: { limit: 100_000 } });
    expect(compileThreshold('slip.p99.9', '<=1s')).toMatchObject({ metric: { stage: 'slip', statistic: 99.9 }, condition: { operator: '<=', limit: 1e9 } });
    expect(compileThreshold('errors.rate', '<1%')).toMatchObject({ unit: 'ratio', condition: { limit: 0.01 } });
    expect(compileThreshold('rejected.rate_limited_user.rate', '<50%')).toMatchObject({ metric: { outcome: 'rejected', code: 'rate_limited_user' }, condition: { limit: 0.5 } });
    expect(compileThreshold('throughput', '>=4500')).toMatchObject({ unit: 'per_second', condition: { operator: '>=', limit: 4500 } });
    expect(typeof compileThreshold('e2e.p99', '<10')).toBe('string');
    expect(typeof compileThreshold('errors.rate', '<10ms')).toBe('string');
    expect(typeof compileThreshold('rejected.no_such_code.rate', '<1%')).toBe('string');
  });

  it('applies --duration, --rate, --users and --seed', () => {
    const scenario = ScenarioSchema.parse({ name: 'ramp', executor: { type: 'ramping-arrival-rate', stages: [{ target: 100, duration: '1s' }, { target: 50, duration: '3s' }] } });
    const changed = applyOverrides(scenario, { durationMs: 8000, rate: 1000, users: 20, seed: 9 });
    expect(changed.executor).toMatchObject({ stages: [{ target: 1000, duration: 2000 }, { target: 500, duration: 6000 }] });
    expect(changed.traffic.users).toBe(20);
    expect(changed.seed).toBe(9);
  });
});

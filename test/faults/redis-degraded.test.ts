// Redis killed under `cvlab run`: the in-process limiter stands in, and the run says so at once,
// in its summary, and through the limiter.fallbacks threshold (issue: degraded Redis was silent).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { freePort } from '../setup/services';
import { startPrivateRedis } from '../setup/private-services';

const ROOT = resolve(__dirname, '../..');
const folder = mkdtempSync(join(tmpdir(), 'cvlab-fault-degraded-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('Redis goes away under a run', () => {
  it('warns the moment the in-process limiter stands in, says DEGRADED, and fails limiter.fallbacks', async () => {
    const redis = await startPrivateRedis();
    try {
      const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as { osc: Record<string, unknown> };
      const rigPath = join(folder, 'rig.json');
      writeFileSync(rigPath, JSON.stringify({ ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() }, redisUrl: redis.url }));
      const scenarioPath = join(folder, 'degraded.json');
      writeFileSync(
        scenarioPath,
        JSON.stringify({ name: 'degraded', executor: { type: 'constant-arrival-rate', rate: 200, duration: '4s' }, thresholds: { 'limiter.fallbacks': '<1' }, seed: 3 }),
      );
      const jsonPath = join(folder, 'summary.json');
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main/cli.ts'), 'run', scenarioPath, '--rig', rigPath, '--no-save', '--json', jsonPath], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      });
      let output = '';
      let killed = false;
      const take = (chunk: Buffer): void => {
        output += chunk.toString();
        // Once the run is going (its first progress line), Redis dies.
        if (!killed && /^\d+\.\ds\//m.test(output)) {
          killed = true;
          void redis.kill();
        }
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const code = await new Promise<number | null>((done) => child.once('exit', done));

      expect(killed).toBe(true);
      expect(output).toMatch(/DEGRADED at \d+\.\d s: Redis did not answer in time, the in-process limiter stands in/);
      expect(output).toMatch(/\(redis store, DEGRADED, seed 3\)/);
      expect(code).toBe(1);
      const summary = JSON.parse(readFileSync(jsonPath, 'utf8')) as RunSummary;
      expect(summary.pipeline.limiterFallbacks).toBeGreaterThan(0);
      const verdict = summary.thresholds.find((item) => item.key === 'limiter.fallbacks');
      expect(verdict).toMatchObject({ passed: false, actual: summary.pipeline.limiterFallbacks });
      // Nothing was lost to the outage: every message has its outcome.
      expect(summary.unaccounted).toBe(0);
    } finally {
      await redis.remove();
    }
  }, 120_000);
});

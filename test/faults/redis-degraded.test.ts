// Redis killed under `cvlab run` and started again: the in-process limiter stands in, and the
// run says so at once, says when Redis is back, gives the degraded interval in the live line,
// the summary and --json, and fails the limiter.fallbacks threshold.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { freePort } from '../setup/services';
import { startPrivateRedis } from '../setup/private-services';
import { CVLAB_CLI } from '../setup/cvlab-run';

const ROOT = resolve(__dirname, '../..');
const folder = mkdtempSync(join(tmpdir(), 'cvlab-fault-degraded-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('Redis goes away under a run', () => {
  it('warns the moment the in-process limiter stands in, says when Redis is back, gives the interval and fails limiter.fallbacks', async () => {
    const redis = await startPrivateRedis();
    try {
      const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as { osc: Record<string, unknown> };
      const rigPath = join(folder, 'rig.json');
      writeFileSync(rigPath, JSON.stringify({ ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() }, redisUrl: redis.url }));
      const scenarioPath = join(folder, 'degraded.json');
      writeFileSync(
        scenarioPath,
        JSON.stringify({ name: 'degraded', executor: { type: 'constant-arrival-rate', rate: 200, duration: '8s' }, thresholds: { 'limiter.fallbacks': '<1' }, seed: 3 }),
      );
      const jsonPath = join(folder, 'summary.json');
      const child = spawn(process.execPath, [join(ROOT, CVLAB_CLI), 'run', scenarioPath, '--rig', rigPath, '--no-save', '--json', jsonPath], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      });
      let output = '';
      let killed = false;
      let restarted = false;
      const take = (chunk: Buffer): void => {
        output += chunk.toString();
        // Once the run is going (its first progress line), Redis dies; once the run has said
        // so, it comes back (empty, as a restarted Redis without persistence is).
        if (!killed && /^\d+\.\ds\//m.test(output)) {
          killed = true;
          void redis.kill();
        } else if (killed && !restarted && /DEGRADED at/.test(output)) {
          restarted = true;
          void redis.restart();
        }
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const code = await new Promise<number | null>((done) => child.once('exit', done));

      expect(killed).toBe(true);
      // The store's own words: a killed Redis is not connected, or its connection failed mid-command.
      expect(output).toMatch(/DEGRADED at \d+\.\d s: Redis (is not connected|failed: [^;]+|did not answer within \d+ ms); the in-process limiter stands in/);
      expect(output).toMatch(/\(redis store, DEGRADED, seed 3\)/);
      expect(code).toBe(1);
      const summary = JSON.parse(readFileSync(jsonPath, 'utf8')) as RunSummary;
      expect(summary.pipeline.limiterFallbacks).toBeGreaterThan(0);
      // Back: said once, at the moment the interval closed, and the interval is in every place.
      const [interval] = summary.degradedIntervals ?? [];
      expect(summary.degradedIntervals).toHaveLength(1);
      expect(interval?.toMs).toBeGreaterThan(interval?.fromMs ?? Infinity);
      const seconds = (ms: number | undefined): string => ((ms ?? Number.NaN) / 1000).toFixed(1);
      expect(output).toContain(`DEGRADED at ${seconds(interval?.fromMs)} s`);
      expect(output).toMatch(new RegExp(`recovered at ${seconds(interval?.toMs)} s: Redis answers again`));
      expect(output).toMatch(new RegExp(`DEGRADED ${seconds(interval?.fromMs)}–${seconds(interval?.toMs)} s: Redis (is not connected|failed: [^;]+|did not answer within \\d+ ms); the in-process limiter stood in`));
      // The live line while it lasted, and after it.
      // (Plain progress lines come once a second: a shorter outage may fall between two.)
      if ((interval?.toMs ?? 0) - (interval?.fromMs ?? 0) >= 2000) expect(output).toMatch(/^\d+\.\ds\/.* DEGRADED \(\d+ limiter fallbacks\)$/m);
      expect(output).toMatch(new RegExp(`^\\d+\\.\\ds/.* \\(was DEGRADED ${seconds(interval?.fromMs)}–${seconds(interval?.toMs)} s\\)$`, 'm'));
      const verdict = summary.thresholds.find((item) => item.key === 'limiter.fallbacks');
      expect(verdict).toMatchObject({ passed: false, actual: summary.pipeline.limiterFallbacks });
      // Nothing was lost to the outage: every message has its outcome.
      expect(summary.unaccounted).toBe(0);
    } finally {
      await redis.remove();
    }
  }, 120_000);
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunFrame } from '../../src/shared/run';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { RunController } from '../../src/main/lab/run/run-controller';
import { freePort } from '../setup/services';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-replay-shape-'));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** Pearson correlation of two series of equal length. */
function correlation(a: readonly number[], b: readonly number[]): number {
  const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const meanA = mean(a);
  const meanB = mean(b);
  let product = 0;
  let squareA = 0;
  let squareB = 0;
  for (let index = 0; index < a.length; index++) {
    const x = (a[index] as number) - meanA;
    const y = (b[index] as number) - meanB;
    product += x * y;
    squareA += x * x;
    squareB += y * y;
  }
  return product / Math.sqrt(squareA * squareB);
}

describe('a replay on the engine thread', () => {
  it('sends what the log held when it held it: per-interval counts follow the recorded shape, and the plan told it beforehand', async () => {
    // Thirty seconds of chat with a strong shape (quiet, a raid, quiet, a bigger raid), played at speed 10.
    const perSecond = [4, 4, 4, 40, 40, 40, 4, 4, 4, 4, 80, 80, 80, 80, 8, 8, 4, 4, 60, 4, 4, 4, 4, 30, 30, 4, 4, 4, 4, 4];
    const lines: string[] = [];
    perSecond.forEach((count, second) => {
      for (let index = 0; index < count; index++) lines.push(JSON.stringify({ t: second + index / count, user: `viewer_${(second * 7 + index) % 97}`, text: index % 3 === 0 ? `hue=${((index % 10) / 10).toFixed(1)}` : 'so good' }));
    });
    const file = join(folder, 'raids.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);

    const demo = await loadRig();
    const rig = { ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() } };
    const controller = new RunController({ warmUpMessages: 200 });
    const frames: RunFrame[] = [];
    controller.onDidRunFrame((frame) => frames.push(frame));
    const info = await controller.start({ scenario: { name: 'raids', executor: { type: 'replay', file, speed: 10 }, seed: 1 }, rig });
    const planned = info.replay?.timeline;
    expect(info.plannedMessages).toBe(lines.length);
    expect(planned?.bucketMs).toBe(100);
    expect(planned?.counts.reduce((sum, count) => sum + count, 0)).toBe(lines.length);
    const summary = await controller.finished();
    expect(summary?.sent).toBe(lines.length);
    expect(summary?.unaccounted).toBe(0);
    expect(info.engineThreadId).not.toBe(0);

    // Frames fall on the run's 100 ms grid, as the plan's buckets do: compare them in 300 ms steps.
    const sentPerFrame = frames.map((frame) => frame.sent);
    const step = 3;
    const group = (values: readonly number[], length: number): number[] => Array.from({ length: Math.ceil(length / step) }, (_, index) => values.slice(index * step, index * step + step).reduce((sum, value) => sum + value, 0));
    const length = Math.max(sentPerFrame.length, planned?.counts.length ?? 0);
    const measured = group(sentPerFrame, length);
    const expected = group(planned?.counts ?? [], length);
    expect(measured.reduce((sum, value) => sum + value, 0)).toBe(lines.length);
    expect(correlation(measured, expected)).toBeGreaterThan(0.9);
  }, 60_000);
});

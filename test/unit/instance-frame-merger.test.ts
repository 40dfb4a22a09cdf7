import { describe, expect, it } from 'vitest';
import type { RunFrame } from '../../src/shared/run';
import { InstanceFrameMerger } from '../../src/main/lab/multi/instance-frame-merger';

const frame = (sequence: number, sent: number, p99: number, cpuPercent: number): RunFrame => ({
  runId: 'own-id-of-the-instance',
  sequence,
  atMs: (sequence + 1) * 100,
  intervalMs: 100,
  sent,
  completed: sent,
  throughput: sent * 10,
  inFlight: 0,
  late: 0,
  outcomes: { accepted: sent - 1, rejected: 1, failed: 0, byCode: { cooldown: 1 } },
  stages: { e2e: { count: sent, p50: p99 / 2, p95: p99, p99, max: p99 } },
  eventLoopDelay: { p50: 1, p99: 2, max: 3 },
  cpuPercent,
  heapUsedBytes: 10,
  rssBytes: 20,
  limiterFallbacks: 0,
});

describe('frames of a multi-instance run', () => {
  it('adds the instances’ frame k into the run’s frame k, worst percentiles, CPU summed', () => {
    const merged: RunFrame[] = [];
    const merger = new InstanceFrameMerger('run', (item) => merged.push(item));
    merger.expect(['a', 'b']);
    merger.add('a', frame(0, 10, 2_000_000, 30));
    expect(merged).toEqual([]);
    merger.add('b', frame(0, 20, 5_000_000, 40));
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ runId: 'run', sequence: 0, sent: 30, cpuPercent: 70, outcomes: { accepted: 28, rejected: 2, byCode: { cooldown: 2 } }, stages: { e2e: { count: 30, p99: 5_000_000 } } });
  });

  it('goes on without an instance that is lost or lags, and merges what is left at the end', () => {
    const merged: RunFrame[] = [];
    const merger = new InstanceFrameMerger('run', (item) => merged.push(item));
    merger.expect(['a', 'b']);
    merger.add('a', frame(0, 1, 1, 1));
    merger.add('b', frame(0, 1, 1, 1));
    merger.add('a', frame(1, 1, 1, 1));
    merger.remove('b');
    expect(merged.map((item) => [item.sequence, item.sent])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    // A late frame of a lost instance is not counted.
    merger.add('b', frame(2, 5, 1, 1));
    merger.add('a', frame(2, 1, 1, 1));
    merger.finish();
    expect(merged.map((item) => item.sent)).toEqual([2, 1, 1]);
  });
});

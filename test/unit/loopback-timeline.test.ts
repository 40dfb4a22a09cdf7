import { describe, expect, it } from 'vitest';
import { Timeline } from '../../src/main/lab/loopback/timeline';
import { pingGapPlan } from '../../src/main/lab/loopback/loopback-session';
import { waitFor } from '../setup/wait-for';

function busyWait(ms: number): void {
  const until = process.hrtime.bigint() + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < until) {
    // hold the event loop, as a loaded machine does
  }
}

describe('Timeline', () => {
  it('runs due entries in order of due time, then of scheduling, even when the loop is late', async () => {
    const timeline = new Timeline();
    const order: string[] = [];
    const now = process.hrtime.bigint();
    timeline.at(now + 3_000_000n, () => order.push('late'));
    timeline.at(now + 1_000_000n, () => order.push('first'));
    timeline.at(now + 1_000_000n, () => order.push('second'));
    timeline.at(now + 2_000_000n, () => {
      order.push('middle');
      timeline.at(now + 2_500_000n, () => order.push('added while draining'));
    });
    busyWait(5);
    await waitFor(() => order.length === 5, 'all five entries to run', 5_000, 1);
    expect(order).toEqual(['first', 'second', 'middle', 'added while draining', 'late']);
  });

  it('never runs an entry before its time, and clear() drops what is left', async () => {
    const timeline = new Timeline();
    const ranAt: bigint[] = [];
    const target = process.hrtime.bigint() + 4_000_000n;
    const first = new Promise<void>((resolve) =>
      timeline.at(target, () => {
        ranAt.push(process.hrtime.bigint());
        resolve();
      }),
    );
    timeline.at(target + 50_000_000n, () => ranAt.push(0n));
    await first;
    timeline.clear();
    // Entries run in time order: once one due after the dropped entry has run, it would have too.
    await new Promise<void>((resolve) => timeline.at(target + 60_000_000n, resolve));
    expect(ranAt).toHaveLength(1);
    expect((ranAt[0] as bigint) >= target).toBe(true);
  });
});

describe('pingGapPlan', () => {
  it('puts about one PING per interval between the sends', () => {
    expect(pingGapPlan(25, 20)).toEqual({ perGap: 1, everyGaps: 1 });
    expect(pingGapPlan(500, 20)).toEqual({ perGap: 25, everyGaps: 1 });
    expect(pingGapPlan(10, 20)).toEqual({ perGap: 1, everyGaps: 2 });
    expect(pingGapPlan(10, 40)).toEqual({ perGap: 1, everyGaps: 4 });
  });
});

import { describe, expect, it } from 'vitest';
import type { ChatMessage, Outcome } from '../../src/shared/message';
import { SegmentedArrivals } from '../../src/main/lab/common/arrival-plan';
import { OpenModelScheduler } from '../../src/main/lab/engine/load/open-model-scheduler';

const accepted: Outcome = { status: 'accepted', changes: [], packet: { bundle: false, messages: [], bytes: 0 }, timings: {} };

describe('open-model scheduler', () => {
  it('never waits for a message to finish before sending the next, and accounts for every one', async () => {
    // Each message takes 300 ms; a closed loop would manage 1 in 300 ms, the plan asks for 100.
    let concurrent = 0;
    let peak = 0;
    const dueTimes: number[] = [];
    const send = async (message: ChatMessage): Promise<Outcome> => {
      dueTimes.push(message.dueAtNs ?? 0);
      peak = Math.max(peak, ++concurrent);
      await new Promise((resolve) => setTimeout(resolve, 300));
      concurrent--;
      return accepted;
    };
    let outcomes = 0;
    const scheduler = new OpenModelScheduler({
      plan: new SegmentedArrivals([{ startRate: 500, endRate: 500, durationMs: 200 }]),
      compose: () => ({ user: 'viewer-1', text: 'hue=0.5', kind: 'valid' }),
      send,
      onOutcome: () => outcomes++,
    });
    const startNs = Number(process.hrtime.bigint());
    await scheduler.run(startNs);
    expect(scheduler.sent).toBe(100);
    expect(outcomes).toBe(100);
    expect(scheduler.completed).toBe(100);
    expect(peak).toBeGreaterThan(50);
    // Due times are the plan's, not the moment each was sent: 2 ms apart from time zero.
    expect(Number(dueTimes[0]) - startNs).toBeLessThan(1000);
    expect((dueTimes[10] ?? 0) - (dueTimes[0] ?? 0)).toBeCloseTo(20_000_000, 0);
  });

  it('counts a throwing or rejecting send as failed, and stop() waits for messages in flight', async () => {
    const outcomes: Outcome[] = [];
    let calls = 0;
    const scheduler = new OpenModelScheduler({
      plan: new SegmentedArrivals([{ startRate: 1000, endRate: 1000, durationMs: 10_000 }]),
      compose: () => ({ user: 'viewer-1', text: 'hue=0.5', kind: 'valid' }),
      send: (): Promise<Outcome> => {
        calls++;
        if (calls % 2 === 0) throw new Error('boom');
        return new Promise((resolve, reject) => setTimeout(() => (calls % 3 === 0 ? reject(new Error('late boom')) : resolve(accepted)), 50));
      },
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    const running = scheduler.run();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await scheduler.stop();
    await running;
    expect(scheduler.sent).toBeGreaterThan(10);
    expect(scheduler.sent).toBeLessThan(10_000);
    expect(outcomes).toHaveLength(scheduler.sent);
    expect(outcomes.filter((outcome) => outcome.status === 'failed').length).toBeGreaterThanOrEqual(Math.floor(scheduler.sent / 2));
  });

  it('counts messages it could not start on time', async () => {
    let blocked = false;
    const scheduler = new OpenModelScheduler({
      plan: new SegmentedArrivals([{ startRate: 1000, endRate: 1000, durationMs: 300 }]),
      compose: () => ({ user: 'viewer-1', text: 'hue=0.5', kind: 'valid' }),
      send: async () => {
        if (!blocked) {
          // Hold the event loop for 50 ms once: the ~50 messages due meanwhile start late.
          blocked = true;
          const until = Date.now() + 50;
          while (Date.now() < until);
        }
        return accepted;
      },
      onOutcome: () => undefined,
      slipToleranceNs: 1_000_000,
    });
    await scheduler.run();
    expect(scheduler.late).toBeGreaterThanOrEqual(40);
  });

  it('takes outcomes from a callback send, at once or later, each counted once even when the send throws after answering', async () => {
    let calls = 0;
    const seen: number[] = [];
    const scheduler = new OpenModelScheduler({
      plan: new SegmentedArrivals([{ startRate: 2000, endRate: 2000, durationMs: 100 }]),
      compose: () => ({ user: 'viewer-1', text: 'hue=0.5', kind: 'valid' }),
      send: () => Promise.reject(new Error('the callback form is preferred')),
      sendWith: (_message, done) => {
        const call = ++calls;
        if (call % 3 === 0) setTimeout(() => done(accepted), 5);
        else done(accepted);
        if (call % 5 === 0) throw new Error('after answering');
      },
      onOutcome: (outcome) => seen.push(outcome.status === 'accepted' ? 1 : 0),
    });
    await scheduler.run();
    expect(scheduler.sent).toBe(200);
    expect(scheduler.completed).toBe(200);
    expect(seen).toHaveLength(200);
    // A send that threw before its (late) answer is failed, and the late answer is ignored: calls 15, 30, … 195.
    expect(seen.filter((value) => value === 0)).toHaveLength(13);
  });
});

import { describe, expect, it } from 'vitest';
import { Emitter } from '../../src/shared/emitter';
import type { RunFrame, RunSummary } from '../../src/shared/run';
import { AlertMonitor } from '../../src/main/lab/alerts/alert-monitor';
import { watchRunAlerts } from '../../src/main/lab/alerts/watch-run-alerts';

function frame(sequence: number, e2eP99Ms: number): RunFrame {
  return {
    runId: 'r',
    sequence,
    atMs: (sequence + 1) * 100,
    intervalMs: 100,
    sent: 10,
    completed: 10,
    throughput: 100,
    inFlight: 0,
    late: 0,
    outcomes: { accepted: 10, rejected: 0, failed: 0, byCode: {} },
    stages: { e2e: { count: 10, p50: 1e6, p95: 2e6, p99: e2eP99Ms * 1e6, max: e2eP99Ms * 1e6 } },
    eventLoopDelay: { p50: 1e6, p99: 2e6, max: 3e6 },
    cpuPercent: 10,
    heapUsedBytes: 1,
    rssBytes: 1,
    limiterFallbacks: 0,
  };
}

describe('watchRunAlerts', () => {
  it('evaluates each frame of a run and resolves what still fires when the run ends', async () => {
    const frames = new Emitter<RunFrame>();
    const finished = new Emitter<RunSummary>();
    const lines: string[] = [];
    const monitor = new AlertMonitor({
      rules: [{ id: 'e2e-slow', metric: 'e2e.p99', comparison: '>', threshold: 10, forMs: 200 }],
      handlers: [{ name: 'lines', handle: (notification) => void lines.push(`${notification.event.kind} ${notification.change}`) }],
    });
    const watch = watchRunAlerts({ onDidRunFrame: frames.event, onDidFinishRun: finished.event }, monitor);
    [1, 15, 15, 15, 15].forEach((p99, sequence) => frames.fire(frame(sequence, p99)));
    finished.fire({} as RunSummary);
    const events = await watch.done;
    expect(events.map((event) => event.kind)).toEqual(['firing', 'resolved']);
    const [fired] = events;
    expect(fired && fired.firedAtMs - fired.activeSinceMs).toBe(200);
    expect(lines).toEqual(['firing open', 'resolved close']);
  });
});

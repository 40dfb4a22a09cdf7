import { describe, expect, it } from 'vitest';
import type { AlertEvent, AlertNotification } from '../../src/shared/alerts';
import { AlertMonitor } from '../../src/main/lab/alerts/alert-monitor';
import { createConsoleAlertHandler } from '../../src/main/lab/alerts/console-alert-handler';
import { createStoreAlertHandler } from '../../src/main/lab/alerts/store-alert-handler';
import { createTerminalAlertHandler } from '../../src/main/cli/format-alert';

describe('alert handlers', () => {
  it('deliver to console, store and terminal; a failing handler does not stop the others', async () => {
    const consoleEvents: AlertNotification[] = [];
    const stored: AlertEvent[] = [];
    const lines: string[] = [];
    const monitor = new AlertMonitor({
      rules: [{ id: 'heap-high', metric: 'heap.usedBytes', comparison: '>', threshold: 100 * 1_048_576, severity: 'warning' }],
      handlers: [
        createConsoleAlertHandler((notification) => consoleEvents.push(notification)),
        createStoreAlertHandler(async (event) => void stored.push(event)),
        createTerminalAlertHandler({ write: (line) => lines.push(line) }),
        { name: 'broken', handle: () => Promise.reject(new Error('disk full')) },
      ],
    });
    monitor.observe({ atMs: 0, heapUsedBytes: 200 * 1_048_576, outcomes: { accepted: 5, cooldown: 7 }, redisRttMs: 0.3 });
    await monitor.flush();
    const events = await monitor.finish({ atMs: 100, heapUsedBytes: 10 });
    expect(events.map((event) => event.kind)).toEqual(['firing', 'resolved']);
    expect(consoleEvents.map((n) => n.change)).toEqual(['open', 'close']);
    expect(stored.map((event) => event.kind)).toEqual(['firing', 'resolved']);
    expect(lines[0]).toBe('[alert warning] FIRING heap-high: heap.usedBytes = 200.0 MiB (> 100.0 MiB); coincided: outcomes cooldown×7, redis rtt 0.30 ms, heap 200.0 MiB');
    expect(lines[1]).toMatch(/^\[alert warning\] RESOLVED heap-high/);
    expect(monitor.failures().map((failure) => `${failure.handler}: ${failure.error}`)).toContain('broken: disk full');
  });
});

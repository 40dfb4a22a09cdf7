import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { AlertEvent, AlertNotification } from '../../src/shared/alerts';
import { AlertMonitor } from '../../src/main/lab/alerts/alert-monitor';
import { createConsoleAlertHandler } from '../../src/main/lab/alerts/console-alert-handler';
import { createStoreAlertHandler } from '../../src/main/lab/alerts/store-alert-handler';
import { createTerminalAlertHandler } from '../../src/main/cli/format-alert';
import { createWebhookAlertHandler } from '../../src/main/lab/alerts/webhook-alert-handler';

describe('alert handlers', () => {
  it('deliver to console, store, terminal and a webhook; a failing handler does not stop the others', async () => {
    const posted: unknown[] = [];
    let answer = 200;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        posted.push(JSON.parse(body));
        response.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const consoleEvents: AlertNotification[] = [];
    const stored: AlertEvent[] = [];
    const lines: string[] = [];
    const monitor = new AlertMonitor({
      rules: [{ id: 'heap-high', metric: 'heap.usedBytes', comparison: '>', threshold: 100 * 1_048_576, severity: 'warning' }],
      handlers: [
        createConsoleAlertHandler((notification) => consoleEvents.push(notification)),
        createStoreAlertHandler(async (event) => void stored.push(event)),
        createTerminalAlertHandler({ write: (line) => lines.push(line) }),
        createWebhookAlertHandler({ url: `http://127.0.0.1:${port}/hook` }),
        { name: 'broken', handle: () => Promise.reject(new Error('disk full')) },
      ],
    });
    try {
      monitor.observe({ atMs: 0, heapUsedBytes: 200 * 1_048_576, outcomes: { accepted: 5, cooldown: 7 }, redisRttMs: 0.3 });
      await monitor.flush();
      answer = 500;
      const events = await monitor.finish({ atMs: 100, heapUsedBytes: 10 });
      expect(events.map((event) => event.kind)).toEqual(['firing', 'resolved']);
      expect(consoleEvents.map((n) => n.change)).toEqual(['open', 'close']);
      expect(stored.map((event) => event.kind)).toEqual(['firing', 'resolved']);
      expect(lines[0]).toBe('[alert warning] FIRING heap-high: heap.usedBytes = 200.0 MiB (> 100.0 MiB); coincided: outcomes cooldown×7, redis rtt 0.30 ms, heap 200.0 MiB');
      expect(lines[1]).toMatch(/^\[alert warning\] RESOLVED heap-high/);
      expect(posted).toHaveLength(2);
      expect(posted[0]).toMatchObject({ change: 'open', alert: { ruleId: 'heap-high', kind: 'firing' } });
      const failures = monitor.failures().map((failure) => `${failure.handler}: ${failure.error}`);
      expect(failures).toContain('broken: disk full');
      expect(failures).toContain('webhook: Webhook http://127.0.0.1:' + port + '/hook answered 500 Internal Server Error; expected a 2xx status.');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a webhook URL that is not http(s)', () => {
    expect(() => createWebhookAlertHandler({ url: 'ftp://example/hook' })).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
  });
});

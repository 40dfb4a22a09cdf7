import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveMetrics, type MetricsProvider } from '../server/metrics-route';

/** A bare HTTP server answering GET /metrics (for `cvlab agent`, which has no console to serve). */
export async function listenMetrics(provider: MetricsProvider, options: { host?: string; port?: number } = {}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && (request.url === '/metrics' || request.url?.startsWith('/metrics?'))) {
      void serveMetrics(request, response, provider);
      return;
    }
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('Only GET /metrics is served here.\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}/metrics`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

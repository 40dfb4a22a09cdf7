import type { IncomingMessage, ServerResponse } from 'node:http';

/** Produces the Prometheus text exposition for /metrics (prom-client's registry fits here). */
export interface MetricsProvider {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Serves GET /metrics from `provider`, or says plainly that no metrics are registered yet. */
export async function serveMetrics(
  _request: IncomingMessage,
  response: ServerResponse,
  provider: MetricsProvider | undefined,
): Promise<void> {
  if (!provider) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('No metrics provider is registered in this cvlab serve.\n');
    return;
  }
  try {
    const body = await provider.metrics();
    response.writeHead(200, { 'Content-Type': provider.contentType });
    response.end(body);
  } catch (error) {
    response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(`Collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

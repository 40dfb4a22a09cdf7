import { MetricsExporter } from '../metrics-export/metrics-exporter';
import { listenMetrics } from '../metrics-export/metrics-http-server';
import { InstanceAgent } from '../multi/instance-agent';
import { checkRedisAnswers } from './redis-preflight';

/** `cvlab agent` as the command line asks for it. */
export interface AgentHostOptions {
  readonly redisUrl: string;
  readonly agentId?: string;
  /** Join only this run (a local child instance). */
  readonly runId?: string;
  readonly once?: boolean;
  /** Serve `/metrics` here; absent: none. */
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly log: (line: string) => void;
}

/** A started agent: where its `/metrics` is (or why it is not), and how it ends. */
export interface AgentHost {
  readonly metricsUrl?: string;
  /** Why `/metrics` is not served, in plain words (the agent runs without it). */
  readonly metricsProblem?: string;
  /** Resolves when a `once` agent has finished its run, or the agent was closed. */
  done(): Promise<void>;
  /** Hands back the share it is running (the console counts it as lost) and leaves. */
  close(): Promise<void>;
}

/** Starts an engine instance that joins multi-instance runs announced on the shared Redis (exit 3 when it does not answer). */
export async function startAgent(options: AgentHostOptions): Promise<AgentHost> {
  await checkRedisAnswers(options.redisUrl);
  const metrics = options.metrics ? new MetricsExporter() : undefined;
  const agent = await InstanceAgent.start({
    redisUrl: options.redisUrl,
    ...(options.agentId ? { agentId: options.agentId } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.once ? { once: true } : {}),
    ...(metrics ? { metrics } : {}),
    log: options.log,
  });
  let endpoint: Awaited<ReturnType<typeof listenMetrics>> | undefined;
  let metricsProblem: string | undefined;
  if (metrics && options.metrics) {
    try {
      endpoint = await listenMetrics(metrics, options.metrics);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      metricsProblem = code === 'EADDRINUSE' ? `port ${options.metrics.port} is in use; pass --metrics-port 0 or another port` : (error as Error).message;
    }
  }
  return {
    ...(endpoint ? { metricsUrl: endpoint.url } : {}),
    ...(metricsProblem !== undefined ? { metricsProblem } : {}),
    done: async () => {
      try {
        await agent.done();
      } finally {
        await endpoint?.close();
      }
    },
    close: () => agent.close(),
  };
}

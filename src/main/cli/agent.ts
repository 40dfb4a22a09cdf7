import type { Command } from 'commander';
import { MetricsExporter } from '../lab/metrics-export/metrics-exporter';
import { listenMetrics } from '../lab/metrics-export/metrics-http-server';
import { InstanceAgent } from '../lab/multi/instance-agent';
import { checkRedisAnswers } from '../lab/session/redis-preflight';
import { BadInputError } from '../../shared/exit-codes';
import { REDIS_URL_EXPECTED, REDIS_URL_PATTERN } from '../../shared/rig';
import { listExitCodes } from './exit-status';
import { onStopRequest } from './on-stop-request';

interface AgentOptions {
  redis?: string;
  agentId?: string;
  runId?: string;
  once?: boolean;
  metricsHost: string;
  metricsPort: string;
}

/** `cvlab agent --redis <url>`: an engine instance on this machine that joins multi-instance runs announced on Redis. */
export function registerAgentCommand(program: Command): void {
  const command = program
    .command('agent')
    .description('join multi-instance runs announced on a shared Redis: run this machine\'s share and send back frames and histograms')
    .option('--redis <url>', 'the shared Redis (default: $REDIS_URL)')
    .option('--agent-id <id>', 'name of this instance in reports (default: host-pid-random)')
    .option('--run-id <id>', 'join only this run')
    .option('--once', 'leave after one run')
    .option('--metrics-host <host>', 'address of the /metrics endpoint', '127.0.0.1')
    .option('--metrics-port <port>', 'port of the /metrics endpoint (Prometheus text); "off" for none', '9465')
    .action(async (options: AgentOptions) => {
      const redisUrl = options.redis ?? process.env['REDIS_URL'];
      if (!redisUrl || !REDIS_URL_PATTERN.test(redisUrl)) {
        throw new BadInputError(`--redis ${redisUrl ?? '(missing)'}: expected ${REDIS_URL_EXPECTED} of the Redis the console uses`);
      }
      // A child instance of a local run (--run-id) never opens the shared metrics port.
      const metricsOff = options.metricsPort === 'off' || options.runId !== undefined;
      const port = Number(options.metricsPort);
      if (!metricsOff && (!Number.isInteger(port) || port < 0 || port > 65535)) {
        throw new BadInputError(`--metrics-port ${options.metricsPort}: expected a whole number between 0 and 65535, or "off"`);
      }
      await checkRedisAnswers(redisUrl);
      const metrics = metricsOff ? undefined : new MetricsExporter();
      const agent = await InstanceAgent.start({
        redisUrl,
        ...(options.agentId ? { agentId: options.agentId } : {}),
        ...(options.runId ? { runId: options.runId } : {}),
        ...(options.once ? { once: true } : {}),
        ...(metrics ? { metrics } : {}),
        log: (line) => console.error(line),
      });
      let endpoint: Awaited<ReturnType<typeof listenMetrics>> | undefined;
      if (metrics) {
        try {
          endpoint = await listenMetrics(metrics, { host: options.metricsHost, port });
          console.error(`metrics: ${endpoint.url}`);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          console.error(`cvlab agent: no /metrics (${code === 'EADDRINUSE' ? `port ${port} is in use; pass --metrics-port 0 or another port` : (error as Error).message}); running without it`);
        }
      }
      // Stopping hands back the share it is running (the console counts it as lost) and leaves.
      const stopListening = onStopRequest(() => void agent.close());
      try {
        await agent.done();
      } finally {
        stopListening();
        await endpoint?.close();
      }
    });
  listExitCodes(command, {
    0: 'left: after one run with --once, or stopped (Ctrl-C, SIGTERM, SIGHUP or its parent ending)',
    3: 'unavailable: the shared Redis did not answer',
  });
}

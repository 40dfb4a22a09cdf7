import type { Command } from 'commander';
import { startAgent } from '../lab/session/agent-host';
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
      const agent = await startAgent({
        redisUrl,
        ...(options.agentId ? { agentId: options.agentId } : {}),
        ...(options.runId ? { runId: options.runId } : {}),
        ...(options.once ? { once: true } : {}),
        ...(metricsOff ? {} : { metrics: { host: options.metricsHost, port } }),
        log: (line) => console.error(line),
      });
      if (agent.metricsUrl) console.error(`metrics: ${agent.metricsUrl}`);
      if (agent.metricsProblem) console.error(`cvlab agent: no /metrics (${agent.metricsProblem}); running without it`);
      // Stopping hands back the share it is running (the console counts it as lost) and leaves.
      const stopListening = onStopRequest(() => void agent.close());
      try {
        await agent.done();
      } finally {
        stopListening();
      }
    });
  listExitCodes(command, {
    0: 'left: after one run with --once, or stopped (Ctrl-C, SIGTERM, SIGHUP or its parent ending)',
    3: 'unavailable: the shared Redis did not answer',
  });
}

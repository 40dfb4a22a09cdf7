import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab';
import { projectRoot } from '../lab/files/paths';
import { LabServer } from '../lab/server/lab-server';
import { isLoopbackHost } from '../lab/server/bot-command-guard';
import { MetricsExporter } from '../lab/metrics-export/metrics-exporter';
import { BadInputError, ResourceUnavailableError } from '../../shared/exit-codes';
import { listExitCodes } from './exit-status';
import { onStopRequest } from './on-stop-request';

/** `cvlab serve`: the console in a browser, with the LabApi over an authenticated WebSocket. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description(
      'serve the console to a browser (token in the printed URL); loopback only unless --host says otherwise',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '5170')
    .option('--metrics-public', 'serve /metrics without the token (for a Prometheus scraper on a trusted network)')
    .option('--allow-bot-commands', "let consoles start a bot's shell command although --host is beyond loopback (on loopback they always may)")
    .action(async (options: { host: string; port: string; metricsPublic?: boolean; allowBotCommands?: boolean }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new BadInputError(`--port ${options.port}: expected a whole number between 0 and 65535`);
      }
      const rendererDir = join(projectRoot(), 'out', 'renderer');
      if (!existsSync(join(rendererDir, 'index.html'))) {
        throw new ResourceUnavailableError(`the console is not built (no ${join(rendererDir, 'index.html')}): run \`npm run build\` first`);
      }
      if (!isLoopbackHost(options.host)) {
        console.error(
          `Warning: listening on ${options.host}; anyone who can reach it and has the token can drive the bench${options.allowBotCommands ? ' and start shell commands on this machine (--allow-bot-commands)' : ''}${options.metricsPublic ? ', and anyone who can reach it can read /metrics' : ''}.`,
        );
        if (!options.allowBotCommands) console.error('Consoles may not start a bot command here (only "wait for my bot"); --allow-bot-commands lets them.');
      }
      // /metrics: computed at scrape time from the frames of the console's runs (nothing per message).
      const metrics = new MetricsExporter({ defaultLabels: { instance: 'serve' } });
      const lab = new Lab({ host: 'serve', metrics });
      let server: LabServer;
      try {
        server = await LabServer.start({ lab, rendererDir, host: options.host, port, metrics, metricsPublic: Boolean(options.metricsPublic), allowBotCommands: Boolean(options.allowBotCommands) });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === 'EADDRINUSE' ? `port ${port} is in use (try --port 0)` : (error as Error).message;
        await lab.dispose();
        throw new ResourceUnavailableError(`cvlab serve could not listen on ${options.host}:${port}: ${reason}`);
      }
      console.log(`cvlab console: ${server.url}`);
      // Stopping ends what the console started too (a run, its agents, the probe's link).
      await new Promise<void>((stopped) => {
        const stopListening = onStopRequest(
          () => {
            stopListening();
            void Promise.all([server.close(), lab.dispose()]).finally(stopped);
          },
        );
      });
    });
  listExitCodes(command, {
    0: 'stopped (Ctrl-C, SIGTERM, SIGHUP or its parent ending)',
    3: 'unavailable: the port is in use (--port 0 picks a free one), or the console is not built',
  });
}

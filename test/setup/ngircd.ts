// A private IRC server for the chat recorder's tests: ngircd (a Debian package) on a free port on
// loopback, configured in a temp folder of its own, stopped and removed by stop() (and by an exit
// hook should a test file die first).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersTcp, freePort } from './global-services';
import { waitFor } from './wait-for';

export interface PrivateIrcServer {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts ngircd with a private configuration: nicks up to 31 characters (Twitch's anonymous
 * `justinfan12345` is longer than RFC 2812's 9), no penalty for a client that sends fast (the
 * feeder posts a whole log's lines), no DNS or ident look-ups.
 */
export async function startNgircd(): Promise<PrivateIrcServer> {
  const folder = mkdtempSync(join(tmpdir(), 'cvlab-ngircd-'));
  const port = await freePort();
  const config = join(folder, 'ngircd.conf');
  writeFileSync(
    config,
    [
      '[Global]',
      '  Name = irc.cvlab.test',
      '  Info = cvlab test server',
      '  Listen = 127.0.0.1',
      `  Ports = ${port}`,
      `  PidFile = ${join(folder, 'ngircd.pid')}`,
      `  MotdFile = ${join(folder, 'motd')}`,
      '[Limits]',
      '  MaxNickLength = 31',
      '  MaxPenaltyTime = 0',
      '  MaxConnectionsIP = 0',
      '  PingTimeout = 120',
      '  PongTimeout = 20',
      '[Options]',
      '  DNS = no',
      '  Ident = no',
      '  PAM = no',
      '',
    ].join('\n'),
  );
  writeFileSync(join(folder, 'motd'), 'cvlab test server\n');
  const child = spawn('/usr/sbin/ngircd', ['--nodaemon', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const cleanup = (): void => {
    child.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    await waitFor(async () => child.exitCode === null && (await answersTcp('127.0.0.1', port)), `ngircd to listen on 127.0.0.1:${port}`, 15_000);
  } catch (error) {
    cleanup();
    throw new Error(`${(error as Error).message}${errors ? `; ngircd said: ${errors.trim()}` : ''}`, { cause: error });
  }
  return {
    host: '127.0.0.1',
    port,
    stop: async () => {
      process.off('exit', cleanup);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

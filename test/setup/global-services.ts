// Finds the real services the integration tests talk to, once per test run.
// REDIS_URL / DATABASE_URL win when set; else the local defaults; where no Redis answers,
// a private redis-server is started on a free port. Never a silent skip: a missing service
// stops the run with one line naming what to install.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Resolves true once something accepts a TCP connection at host:port. */
export function answersTcp(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let privateRedis: ChildProcess | undefined;
let privateRedisDir: string | undefined;

export async function setup(): Promise<void> {
  // Once per test run, so what `cvlab serve`, the browser tests and the command-line tests run
  // is the source as it is now (a built CLI starts in a fraction of tsx's time).
  const build = spawnSync(process.execPath, [join('node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stdout}\n${build.stderr}`);
  const redisUrl = new URL(process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL);
  if (!(await answersTcp(redisUrl.hostname, Number(redisUrl.port || 6379)))) {
    if (!hasCommand('redis-server')) {
      throw new Error(`No Redis answers at ${redisUrl.href} and redis-server is not installed: apt-get install redis-server (or set REDIS_URL).`);
    }
    const port = await freePort();
    privateRedisDir = mkdtempSync(join(tmpdir(), 'cvlab-redis-'));
    privateRedis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', privateRedisDir], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 50 && !(await answersTcp('127.0.0.1', port)); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.env['REDIS_URL'] = `redis://127.0.0.1:${port}`;
  } else {
    process.env['REDIS_URL'] = redisUrl.href;
  }

  const databaseUrl = new URL(process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL);
  if (!(await answersTcp(databaseUrl.hostname, Number(databaseUrl.port || 5432)))) {
    throw new Error(`No PostgreSQL answers at ${databaseUrl.href}: start it (pg_ctlcluster … start) or set DATABASE_URL.`);
  }
  process.env['DATABASE_URL'] = databaseUrl.href;
}

export async function teardown(): Promise<void> {
  privateRedis?.kill();
  if (privateRedisDir) rmSync(privateRedisDir, { recursive: true, force: true });
}

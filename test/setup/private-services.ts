// Private Redis and PostgreSQL servers for fault tests: each on a free port in a temp folder of its
// own, so a test can kill, freeze and restart them without touching the machine's own services.
// Every server started here is stopped and its folder removed by remove(), and by an exit hook
// should a test file die first.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersTcp, freePort } from './global-services';
import { waitFor } from './wait-for';

export { waitFor };

const cleanups = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort at exit
    }
  }
});

/** Signals every process of a process tree (the root first), ignoring ones already gone. */
function signalTree(rootPid: number, signal: NodeJS.Signals): void {
  const pids = [rootPid, ...childrenOf(rootPid)];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (after the parenthesised command name) is the parent pid.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry), ...childrenOf(Number(entry)));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

/** A private redis-server. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no goodbye to clients. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps no data). */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers. */
  freeze(): void;
  thaw(): void;
  remove(): Promise<void>;
}

/** Starts a redis-server on a free loopback port in a temp folder. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cvlab-fault-redis-'));
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    await waitFor(() => answersTcp('127.0.0.1', port, 500), `redis-server on port ${port}`, 15_000);
  };
  const killNow = (): void => {
    if (child?.pid !== undefined && child.exitCode === null) signalTree(child.pid, 'SIGKILL');
  };
  const exited = (): Promise<void> =>
    new Promise((resolve) => (child === undefined || child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  const cleanup = (): void => {
    if (child?.pid !== undefined) signalTree(child.pid, 'SIGCONT');
    killNow();
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      killNow();
      await exited();
    },
    restart: launch,
    freeze: () => child?.pid !== undefined && signalTree(child.pid, 'SIGSTOP'),
    thaw: () => child?.pid !== undefined && signalTree(child.pid, 'SIGCONT'),
    async remove() {
      cleanup();
      await exited();
      cleanups.delete(cleanup);
    },
  };
}

/** The newest PostgreSQL server binaries installed (Debian keeps them under /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))) : [];
  majors.sort((a, b) => Number(b) - Number(a));
  if (majors[0] === undefined) {
    throw new Error('No PostgreSQL server binaries (initdb) under /usr/lib/postgresql: apt-get install postgresql.');
  }
  return join(root, majors[0], 'bin');
}

/** A private PostgreSQL cluster. */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: every connection is cut, as when the server crashes. */
  crash(): Promise<void>;
  /** SIGKILL to the postmaster and its backends. */
  kill(): Promise<void>;
  /** A clean shutdown (`-m fast`). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder (crash recovery runs when needed). */
  start(): Promise<void>;
  /** SIGSTOP to every server process: connections stay open and nothing answers. */
  freeze(): void;
  thaw(): void;
  /** A query through psql (tests read back what was kept). */
  psql(sql: string): string;
  remove(): Promise<void>;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root (the server refuses to run as root). */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/** initdb + pg_ctl start of a fresh cluster on a free loopback port, in a temp folder. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cvlab-fault-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (name: string, args: string[]): string => {
    const [command, commandArgs] = pgCommand(join(bin, name), args);
    return execFileSync(command, commandArgs, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString();
  };
  run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const postmasterPid = (): number | undefined => {
    try {
      return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  };
  const start = async (): Promise<void> => {
    run('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', join(dir, 'server.log'), '-o', serverOptions]);
    await waitFor(() => answersTcp('127.0.0.1', port, 500), `PostgreSQL on port ${port}`, 30_000);
  };
  const waitGone = (pid: number | undefined): Promise<void> =>
    waitFor(() => {
      if (pid === undefined) return true;
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the PostgreSQL server to exit', 30_000);
  const thaw = (): void => {
    const pid = postmasterPid();
    if (pid !== undefined) signalTree(pid, 'SIGCONT');
  };
  const cleanup = (): void => {
    thaw();
    const pid = postmasterPid();
    if (pid !== undefined) signalTree(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async crash() {
      const pid = postmasterPid();
      run('pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', dataDir]);
      await waitGone(pid);
    },
    async kill() {
      const pid = postmasterPid();
      if (pid !== undefined) signalTree(pid, 'SIGKILL');
      await waitGone(pid);
      // The lock file is left behind by a SIGKILL; the next start sees a dead pid and goes on.
    },
    async stop() {
      const pid = postmasterPid();
      run('pg_ctl', ['stop', '-m', 'fast', '-w', '-D', dataDir]);
      await waitGone(pid);
    },
    start,
    freeze() {
      const pid = postmasterPid();
      if (pid !== undefined) signalTree(pid, 'SIGSTOP');
    },
    thaw,
    psql(sql: string) {
      const [command, args] = pgCommand(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
      return execFileSync(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
    },
    async remove() {
      const pid = postmasterPid();
      cleanup();
      await waitGone(pid);
      cleanups.delete(cleanup);
    },
  };
}

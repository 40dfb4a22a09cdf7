// A private Redis Cluster for tests: N masters (and R replicas each) of the machine's redis-server,
// each on a free port with a free cluster-bus port in a temp folder of its own, created with
// `redis-cli --cluster create`. A node can be killed and started again on the same port and
// folder (its nodes.conf brings it back into the cluster, without data). Everything started here
// is stopped and removed by remove(), and by an exit hook should a test file die first.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { answersTcp, freePort } from './global-services';
import { waitFor } from './wait-for';

const run = promisify(execFile);

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

export interface ClusterNodeProcess {
  readonly port: number;
  readonly address: string;
}

export interface PrivateCluster {
  /** redis+cluster://127.0.0.1:<first>,127.0.0.1:<second>,… (every node as a seed). */
  readonly url: string;
  readonly nodes: readonly ClusterNodeProcess[];
  /** The node (host:port) that serves a key's slot as a master now. */
  masterOf(key: string): Promise<string>;
  /** SIGKILL one node. */
  kill(address: string): Promise<void>;
  /** Starts a killed node again (same port and folder: it rejoins with its nodes.conf, empty). */
  restart(address: string): Promise<void>;
  /** Waits until every running node says cluster_state:ok and every replica is in sync with its master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** One line of `redis-cli -p <port> <args>` from a node. */
  cli(address: string, ...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

/** A free port whose neighbour for the cluster bus is free too (each node needs two). */
async function twoFreePorts(): Promise<[number, number]> {
  return [await freePort(), await freePort()];
}

/** Starts `masters` masters with `replicas` replicas each and waits until the cluster is ok. */
export async function startPrivateCluster(options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {}): Promise<PrivateCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const root = mkdtempSync(join(tmpdir(), 'cvlab-cluster-'));
  const children = new Map<string, ChildProcess>();
  const nodes: (ClusterNodeProcess & { busPort: number; dir: string })[] = [];
  for (let index = 0; index < masters * (1 + replicas); index++) {
    const [port, busPort] = await twoFreePorts();
    const dir = join(root, String(port));
    mkdirSync(dir);
    nodes.push({ port, busPort, dir, address: `127.0.0.1:${port}` });
  }
  const launch = async (node: (typeof nodes)[number]): Promise<void> => {
    const child = spawn(
      'redis-server',
      [
        '--port', String(node.port), '--cluster-port', String(node.busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
        '--save', '', '--appendonly', 'no', '--dir', node.dir,
      ],
      { stdio: 'ignore' },
    );
    children.set(node.address, child);
    await waitFor(() => answersTcp('127.0.0.1', node.port, 500), `redis-server (cluster node) on port ${node.port}`, 15_000);
  };
  const cleanup = (): void => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  await Promise.all(nodes.map(launch));
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 60_000 });

  const cli = async (address: string, ...args: string[]): Promise<string> => {
    const [host, port] = address.split(':') as [string, string];
    const { stdout } = await run('redis-cli', ['-h', host, '-p', port, ...args], { timeout: 10_000 });
    return stdout.trim();
  };
  const running = (): (typeof nodes)[number][] => nodes.filter((node) => children.get(node.address)?.exitCode === null && children.get(node.address)?.signalCode === null);
  const masterOfSlot = async (slot: number): Promise<string | undefined> => {
    for (const node of running()) {
      const slots = await cli(node.address, '--json', 'cluster', 'slots').catch(() => '');
      if (!slots) continue;
      const ranges = JSON.parse(slots) as [number, number, [string, number, string], ...unknown[]][];
      for (const [from, to, master] of ranges) if (slot >= from && slot <= to) return `${master[0]}:${master[1]}`;
      return undefined;
    }
    return undefined;
  };
  const waitHealthy = async (timeoutMs = 30_000): Promise<void> => {
    await waitFor(
      async () => {
        for (const node of running()) {
          const info = await cli(node.address, 'cluster', 'info').catch(() => '');
          if (!info.includes('cluster_state:ok')) return false;
          // A replica that has not synced yet would not take over (its data counts as too old).
          const replication = await cli(node.address, 'info', 'replication').catch(() => '');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return true;
      },
      'cluster_state:ok on every node',
      timeoutMs,
      100,
    );
  };
  await waitHealthy();
  return {
    url: `redis+cluster://${nodes.map((node) => node.address).join(',')}`,
    nodes: nodes.map(({ port, address }) => ({ port, address })),
    async masterOf(key) {
      const master = await masterOfSlot(calculateSlot(key));
      if (!master) throw new Error(`no node serves the slot of ${key}`);
      return master;
    },
    async kill(address) {
      const child = children.get(address);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async restart(address) {
      const node = nodes.find((candidate) => candidate.address === address);
      if (!node) throw new Error(`no node ${address} in this cluster`);
      await launch(node);
    },
    waitHealthy,
    cli,
    async remove() {
      const exits = [...children.values()].filter((child) => child.exitCode === null && child.signalCode === null).map((child) => new Promise((resolve) => child.once('exit', resolve)));
      cleanup();
      await Promise.all(exits);
      cleanups.delete(cleanup);
    },
  };
}

import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { lookup } from 'node:dns/promises';
import { Redis } from 'ioredis';
import { readClusterView, resolveRedisTarget, slotOfKey, type RedisTarget } from './common/redis-target';
import pg from 'pg';
import type { RigConfig } from '../../shared/rig';
import { LATENCY_TIMER_LIMIT_MS, latencyTimerFix, readUsbLatencyTimerMs } from './loopback/usb-latency-timer';
import { listProbePorts } from './loopback/probe-transport';
import { findUdpListener } from './common/find-udp-listener';

/** One line of `cvlab doctor`: a part of the bench, OK or the reason in plain words. */
export interface DoctorCheck {
  readonly name: 'Redis' | 'PostgreSQL' | 'OSC target' | 'OSC tap' | 'Serial' | 'Electron';
  readonly ok: boolean;
  readonly detail: string;
}

const TIMEOUT_MS = 1500;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Resolves to true when nothing else has the UDP port (we could bind it ourselves). */
function udpPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

async function checkRedis(url: string | undefined): Promise<DoctorCheck> {
  if (!url) return { name: 'Redis', ok: true, detail: 'not configured: the in-process memory store and limiter are used' };
  let target: RedisTarget;
  try {
    // A plain URL that names a Cluster node is reported as the Cluster (runs use it so).
    target = await resolveRedisTarget(url, TIMEOUT_MS);
  } catch (error) {
    return { name: 'Redis', ok: false, detail: `${(error as Error).message}; fix redisUrl in the rig` };
  }
  if (target.cluster) return checkRedisCluster(url, target);
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const started = process.hrtime.bigint();
    await redis.ping();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    return { name: 'Redis', ok: true, detail: `${redactPassword(url)} answers (Redis ${version}, round trip ${ms.toFixed(2)} ms)` };
  } catch (error) {
    return { name: 'Redis', ok: false, detail: `${redactPassword(url)} does not answer (${(error as Error).message}); start redis-server or fix redisUrl in the rig` };
  } finally {
    redis.disconnect();
  }
}

/** One node of CLUSTER NODES: address, master or replica, failing, the slots it serves. */
interface ClusterNodeLine {
  readonly id: string;
  readonly address: string;
  readonly master: boolean;
  readonly masterId: string;
  readonly failing: boolean;
  readonly slots: number;
  readonly ranges: string;
}

/** Reads CLUSTER NODES (every Redis with Cluster support has it; CLUSTER SHARDS is Redis 7 only). */
function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', endpoint = '', flags = '', masterId = '', , , , , ...slotRanges] = line.trim().split(' ');
      const ranges = slotRanges.filter((range) => !range.startsWith('['));
      const slots = ranges.reduce((total, range) => {
        const [from, to] = range.split('-').map(Number) as [number, number | undefined];
        return total + (to === undefined ? 1 : to - from + 1);
      }, 0);
      return { id, address: endpoint.split('@')[0] ?? endpoint, master: flags.includes('master'), masterId, failing: /fail/.test(flags), slots, ranges: ranges.join(',') };
    });
}

/** The Cluster's row: nodes, masters and replicas, slots served, where a run's keys and announcements go. */
async function checkRedisCluster(url: string, target: RedisTarget): Promise<DoctorCheck> {
  // Plain connections to the seeds: a Cluster that serves not every slot never gets ready for a Cluster client.
  const view = await readClusterView(target, TIMEOUT_MS);
  if (!view) return { name: 'Redis', ok: false, detail: `the Redis Cluster at ${target.address} does not answer (no seed answered within ${TIMEOUT_MS} ms); start its nodes or fix redisUrl in the rig` };
  const nodes = parseClusterNodes(view.nodes);
  const version = target.version ?? '?';
  const masters = nodes.filter((node) => node.master && node.slots > 0);
  const replicas = nodes.filter((node) => !node.master);
  const served = Number(/cluster_slots_ok:(\d+)/.exec(view.info)?.[1] ?? 0);
  const state = /cluster_state:(\w+)/.exec(view.info)?.[1] ?? '?';
  const failing = nodes.filter((node) => node.failing).map((node) => node.address);
  const layout = masters
    .map((node) => {
      const own = replicas.filter((replica) => replica.masterId === node.id).map((replica) => replica.address);
      return `${node.address} slots ${node.ranges}${own.length > 0 ? ` (replica ${own.join(', ')})` : ' (no replica)'}`;
    })
    .join('; ');
  const announceSlot = slotOfKey('cvlab:{agents}:announce');
  const announceNode =
    masters.find((node) =>
      node.ranges.split(',').some((range) => {
        const [from, to] = range.split('-').map(Number) as [number, number | undefined];
        return announceSlot >= from && announceSlot <= (to ?? from);
      }),
    )?.address ?? 'no node';
  const pubSub = target.shardedPubSub ? "sharded pub/sub (SPUBLISH) on each run's slot" : 'PUBLISH (Redis < 7: no sharded pub/sub)';
  const detail =
    `Redis Cluster at ${target.address}${target.url !== url ? ` (${redactPassword(url)} is a Cluster node: runs use it as redis+cluster://)` : ''}, Redis ${version}, cluster_state:${state}, ` +
    `${served} of 16384 slots served, ${masters.length} masters and ${replicas.length} replicas: ${layout}. ` +
    `Each run's keys share one slot chosen by its namespace (whichever master serves it); multi-instance announcements use slot ${announceSlot} on ${announceNode}; state changes by ${pubSub}; round trip to ${view.node} ${view.roundTripMs.toFixed(2)} ms` +
    (failing.length > 0 ? `; failing: ${failing.join(', ')}` : '');
  if (state !== 'ok' || served < 16384) return { name: 'Redis', ok: false, detail: `${detail}. Not every slot is served: start the failed master again or fix the Cluster (redis-cli --cluster check ${view.node})` };
  return { name: 'Redis', ok: true, detail };
}

async function checkPostgres(url: string | undefined): Promise<DoctorCheck> {
  if (!url) return { name: 'PostgreSQL', ok: true, detail: 'not configured: the embedded database (PGlite) in the data folder is used' };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ version: string }>('select version()');
    const version = /PostgreSQL [\d.]+/.exec(result.rows[0]?.version ?? '')?.[0] ?? 'PostgreSQL';
    return { name: 'PostgreSQL', ok: true, detail: `${redactPassword(url)} answers (${version})` };
  } catch (error) {
    return { name: 'PostgreSQL', ok: false, detail: `${redactPassword(url)} does not answer (${(error as Error).message}); start PostgreSQL or fix databaseUrl` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function checkOscTarget(rig: RigConfig): Promise<DoctorCheck> {
  const { host, port } = rig.osc;
  if (isLoopback(host)) {
    const address = host === 'localhost' ? '127.0.0.1' : host;
    // The kernel's socket table first: binding the converter's port, even for an instant, could
    // take it from a converter starting at that moment. A bind test where there is no table.
    const listening = (await findUdpListener(address, port)) ?? !(await udpPortFree(port, address));
    return !listening
      ? { name: 'OSC target', ok: false, detail: `nothing listens on ${host}:${port}: start the converter or \`cvlab probe-emulator\` (messages are still sent and timed)` }
      : { name: 'OSC target', ok: true, detail: `${host}:${port} has a listener` };
  }
  try {
    const { address } = await lookup(host);
    return { name: 'OSC target', ok: true, detail: `${host}:${port} resolves to ${address} (UDP cannot confirm a listener on another machine)` };
  } catch {
    return { name: 'OSC target', ok: false, detail: `cannot resolve ${host}: check osc.host in the rig` };
  }
}

async function checkTap(rig: RigConfig): Promise<DoctorCheck> {
  const port = rig.osc.tapPort;
  if (port === undefined) return { name: 'OSC tap', ok: true, detail: 'not configured: end-to-end stops at the kernel hand-off' };
  return (await udpPortFree(port))
    ? { name: 'OSC tap', ok: true, detail: `127.0.0.1:${port} is free for the tap` }
    : { name: 'OSC tap', ok: false, detail: `127.0.0.1:${port} is already in use: another cvlab running? change osc.tapPort` };
}

async function checkSerial(rig: RigConfig): Promise<DoctorCheck> {
  let ports: { path: string }[];
  try {
    ports = await listProbePorts();
  } catch (error) {
    return { name: 'Serial', ok: false, detail: `cannot list serial ports (${(error as Error).message})` };
  }
  const seen = ports.length ? `ports seen: ${ports.map((port) => port.path).join(', ')}` : 'no serial ports seen';
  if (!rig.serial) return { name: 'Serial', ok: true, detail: `no probe configured; ${seen}` };
  if (!existsSync(rig.serial.path)) {
    return { name: 'Serial', ok: false, detail: `no serial port at ${rig.serial.path}: is the probe plugged in? ${seen}` };
  }
  // A USB-serial adapter's latency timer holds every reply that long: the clock model needs 1 ms.
  const timerMs = await readUsbLatencyTimerMs(rig.serial.path);
  if (timerMs !== null && timerMs > LATENCY_TIMER_LIMIT_MS) {
    return {
      name: 'Serial',
      ok: false,
      detail: `${rig.serial.path} is present, but its USB-serial adapter holds replies for up to ${timerMs} ms (latency timer): set it to 1 ms with ${latencyTimerFix(rig.serial.path)}`,
    };
  }
  const timer = timerMs === null ? '' : `, latency timer ${timerMs} ms`;
  return { name: 'Serial', ok: true, detail: `${rig.serial.path} is present (${rig.serial.baud} baud${timer}); ${seen}` };
}

/** Where the Electron binary is, or why it is not there. */
export function findElectronBinary(): { path?: string; reason?: string } {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown;
    if (typeof binary === 'string' && existsSync(binary)) return { path: binary };
    return { reason: 'the electron package is installed but its binary is missing' };
  } catch (error) {
    const message = (error as Error).message;
    return {
      reason: /Cannot find module/.test(message)
        ? 'the electron package is not installed'
        : "Electron's binary is not downloaded yet (`npm start` fetches it when the machine is online)",
    };
  }
}

function checkElectron(): DoctorCheck {
  const found = findElectronBinary();
  // Not a problem of the bench: the same console runs in a browser (`npm start` falls back to it).
  return found.path
    ? { name: 'Electron', ok: true, detail: found.path }
    : { name: 'Electron', ok: true, detail: `not available (${found.reason}): the console runs in a browser with \`cvlab serve\`` };
}

/** Checks every part of the bench the rig names; never throws. */
export async function runDoctor(rig: RigConfig): Promise<DoctorCheck[]> {
  const databaseUrl = rig.databaseUrl ?? process.env['DATABASE_URL'];
  return Promise.all([
    checkRedis(rig.redisUrl),
    checkPostgres(databaseUrl),
    checkOscTarget(rig),
    checkTap(rig),
    checkSerial(rig),
    Promise.resolve(checkElectron()),
  ]);
}

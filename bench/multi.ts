// Multi-instance benchmark: propagation between instances against a raw ioredis
// publish→subscribe floor, throughput with 1, 2 and 4 instances, the global cap error, and
// fan-out to 1,000 WebSocket subscribers against a raw `ws` broadcast floor, and the same
// propagation and throughput on a private 3-master Redis Cluster (sharded pub/sub) against raw
// SPUBLISH→SSUBSCRIBE and a raw EVALSHA round trip on the run's slot, all in one run.
// Prints one JSON line. Targets (issue 7): propagation p50 ≤ 1.2× the pub/sub floor; global
// cap error ≤ 1%; fan-out p99 to 1,000 subscribers < 10 ms and ≤ 1.2× the broadcast floor.
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Histogram } from 'hdr-histogram-js';
import { Cluster, Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { RigSchema, type RigConfig } from '../src/shared/rig';
import { MultiInstanceSchema, ScenarioSchema } from '../src/shared/scenario';
import { createHistogram, initHistograms } from '../src/main/lab/common/create-histogram';
import { createPipeline } from '../src/main/lab/engine/pipeline/chat-pipeline';
import { loadRig } from '../src/main/lab/files/rig-file';
import { fanoutClock } from '../src/main/lab/common/fanout-message';
import { FanoutServer } from '../src/main/lab/engine/fanout/fanout-server';
import { RemoteSubscriberPool } from '../src/main/lab/fanout/remote-subscriber-pool';
import { mergeHistograms } from '../src/main/lab/multi/merge-histograms';
import { runMultiInstance } from '../src/main/lab/multi/multi-instance-run';
import { localClockMs, measureRedisClock } from '../src/main/lab/multi/redis-clock';
import { createRedisClient, resolveRedisTarget } from '../src/main/lab/common/redis-target';
import { startPrivateCluster, type PrivateCluster } from '../test/setup/private-cluster';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** The Redis the propagation child process publishes on (the cluster part points it at the Cluster). */
const PUBLISHER_REDIS_URL = process.env['BENCH_PUBLISHER_REDIS_URL'] ?? REDIS_URL;
/** A Redis Cluster to measure (redis+cluster://…); absent: a private 3-master one is started. */
const CLUSTER_URL = process.env['BENCH_CLUSTER_URL'];
const PROPAGATION_SAMPLES = Number(process.env['BENCH_PROPAGATION_SAMPLES'] ?? 2_000);
const SUBSCRIBERS = Number(process.env['BENCH_SUBSCRIBERS'] ?? 1_000);
const FANOUT_CHANGES = Number(process.env['BENCH_FANOUT_CHANGES'] ?? 150);
const THROUGHPUT_RATE = Number(process.env['BENCH_THROUGHPUT_RATE'] ?? 8_000);
/** Parts to run (comma list of propagation, throughput, cap, fanout, cluster); all by default. */
const PARTS = new Set((process.env['BENCH_PARTS'] ?? 'propagation,throughput,cap,fanout,cluster').split(','));

const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;
const figures = (histogram: Histogram): { p50: number; p99: number; n: number } => ({
  p50: ms(histogram.getValueAtPercentile(50)),
  p99: ms(histogram.getValueAtPercentile(99)),
  n: histogram.totalCount,
});
const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
const sleep = (time: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, time));
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Floor: one ioredis PUBLISH at a time, stamped by the sender, received by a subscriber in the same process. */
async function pubSubFloor(): Promise<Histogram> {
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const channel = `cvlab:{bench-${randomBytes(4).toString('hex')}}:floor`;
  await subscriber.subscribe(channel);
  const histogram = createHistogram();
  let received: (() => void) | undefined;
  subscriber.on('message', (_channel: string, text: string) => {
    histogram.recordValue(Math.max(1, Math.round((localClockMs() - Number(text)) * 1e6)));
    received?.();
  });
  for (let index = 0; index < PROPAGATION_SAMPLES; index++) {
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await publisher.publish(channel, String(localClockMs()));
    await arrived;
  }
  subscriber.disconnect();
  publisher.disconnect();
  return histogram;
}

/**
 * Second floor, timed exactly as cvlab's propagation is: a bare Lua PUBLISH stamped with Redis
 * TIME, received in the same process, measured against Redis time through the clock offset.
 */
async function redisTimeFloor(): Promise<Histogram> {
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const channel = `cvlab:{bench-${randomBytes(4).toString('hex')}}:floor`;
  await subscriber.subscribe(channel);
  const clock = await measureRedisClock(publisher, channel);
  const histogram = createHistogram();
  let received: (() => void) | undefined;
  subscriber.on('message', (_channel: string, text: string) => {
    const [seconds, microseconds] = text.split(':');
    const publishedAtMs = Number(seconds) * 1000 + Number(microseconds) / 1000;
    histogram.recordValue(Math.max(1, Math.round((localClockMs() + clock.offsetMs - publishedAtMs) * 1e6)));
    received?.();
  });
  const script = "local t = redis.call('TIME') redis.call('PUBLISH', KEYS[1], t[1] .. ':' .. t[2]) return 1";
  for (let index = 0; index < PROPAGATION_SAMPLES; index++) {
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await publisher.eval(script, 1, channel);
    await arrived;
  }
  subscriber.disconnect();
  publisher.disconnect();
  return histogram;
}

const openLimiter = (rig: RigConfig, redisUrl = REDIS_URL): RigConfig => ({
  ...rig,
  redisUrl,
  limiter: { userRate: 1e6, userBurst: 1e6, globalRate: 1e6, globalBurst: 1e6 },
  variables: rig.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
});

/** Child role: instance A of the propagation measurement, processing one message per request from the parent. */
async function publisherInstance(namespace: string): Promise<void> {
  const rig = await loadRig();
  const pipeline = await createPipeline(openLimiter({ ...rig, osc: { host: '127.0.0.1', port: 9 } }, PUBLISHER_REDIS_URL), { namespace, instanceId: 'a', tap: false, keepState: true });
  process.on('message', (message: { index: number } | { close: true }) => {
    if ('close' in message) return void pipeline.close().then(() => process.exit(0));
    void pipeline.process({ user: `viewer${message.index}`, text: `hue=${(message.index % 100) / 100}` }).then((outcome) => process.send?.({ status: outcome.status }));
  });
  process.send?.({ ready: true });
}

/** cvlab: a change accepted on instance A (its own process), seen by instance B here, timed as the agents time it (against Redis TIME). */
async function pipelinePropagation(rig: RigConfig, redisUrl = REDIS_URL): Promise<Histogram> {
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const b = await createPipeline(openLimiter({ ...rig, osc: { host: '127.0.0.1', port: 9 } }, redisUrl), { namespace, instanceId: 'b', tap: false });
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'publisher', BENCH_NAMESPACE: namespace, BENCH_PUBLISHER_REDIS_URL: redisUrl }, execArgv: process.execArgv });
  const reply = (): Promise<Record<string, unknown>> => new Promise((resolve) => child.once('message', (message: Record<string, unknown>) => resolve(message)));
  await reply();
  const clockConnection = createRedisClient(await resolveRedisTarget(redisUrl));
  const clock = await measureRedisClock(clockConnection, `cvlab:{${namespace}}:changes`);
  clockConnection.disconnect();
  const histogram = createHistogram();
  let received: (() => void) | undefined;
  b.onDidChangeState((change) => {
    if (change.origin !== 'remote' || change.publishedAtMs === undefined) return;
    histogram.recordValue(Math.max(1, Math.round((localClockMs() + clock.offsetMs - change.publishedAtMs) * 1e6)));
    received?.();
  });
  for (let index = 0; index < PROPAGATION_SAMPLES; index++) {
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const done = reply();
    child.send({ index });
    if ((await done)['status'] === 'accepted') await Promise.race([arrived, sleep(1_000)]);
  }
  child.send({ close: true });
  await new Promise((resolve) => child.once('exit', resolve));
  await b.close();
  return histogram;
}

/** Floor on a Cluster: one SPUBLISH at a time on a run-like slot, SSUBSCRIBEd in the same process, stamped by the sender. */
async function shardedPubSubFloor(clusterUrl: string): Promise<Histogram> {
  const target = await resolveRedisTarget(clusterUrl);
  const publisher = createRedisClient(target) as Cluster;
  const subscriber = createRedisClient(target, { shardedSubscribers: true }) as Cluster;
  const channel = `cvlab:{bench-${randomBytes(4).toString('hex')}}:changes`;
  const histogram = createHistogram();
  let received: (() => void) | undefined;
  subscriber.on('smessage', (_channel: string, text: string) => {
    histogram.recordValue(Math.max(1, Math.round((localClockMs() - Number(text)) * 1e6)));
    received?.();
  });
  // ioredis refuses SSUBSCRIBE until it has started the slot's subscriber.
  for (let attempt = 0; ; attempt++) {
    try {
      await subscriber.ssubscribe(channel);
      break;
    } catch (error) {
      if (attempt > 100) throw error;
      await sleep(50);
    }
  }
  for (let index = 0; index < PROPAGATION_SAMPLES; index++) {
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await publisher.spublish(channel, String(localClockMs()));
    await Promise.race([arrived, sleep(1_000)]);
  }
  subscriber.disconnect();
  publisher.disconnect();
  return histogram;
}

/** Floor on a Cluster: a bare EVALSHA (a script that reads TIME) on a run-like slot, one at a time. */
async function evalshaFloor(clusterUrl: string): Promise<Histogram> {
  const client = createRedisClient(await resolveRedisTarget(clusterUrl)) as Cluster & { benchTime(key: string): Promise<unknown> };
  client.defineCommand('benchTime', { numberOfKeys: 1, lua: "return redis.call('TIME')" });
  const key = `cvlab:{bench-${randomBytes(4).toString('hex')}}:state`;
  await client.benchTime(key);
  const histogram = createHistogram();
  for (let index = 0; index < PROPAGATION_SAMPLES; index++) {
    const started = process.hrtime.bigint();
    await client.benchTime(key);
    histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - started)));
  }
  client.disconnect();
  return histogram;
}

/** The Cluster row: propagation against raw sharded pub/sub, commits against a raw EVALSHA, throughput with 1, 2, 4 instances. */
async function clusterRow(rig: RigConfig): Promise<Record<string, unknown>> {
  let privateCluster: PrivateCluster | undefined;
  if (!CLUSTER_URL) {
    log('cluster: starting a private 3-master Redis Cluster');
    privateCluster = await startPrivateCluster({ masters: 3 });
  }
  const url = CLUSTER_URL ?? (privateCluster as PrivateCluster).url;
  try {
    const target = await resolveRedisTarget(url);
    log(`cluster: ${target.address} (Redis ${target.version ?? '?'}, ${target.shardedPubSub ? 'sharded pub/sub' : 'PUBLISH'}): floors and cvlab, interleaved`);
    const floor = createHistogram();
    const evalsha = createHistogram();
    const cvlab = createHistogram();
    for (let round = 0; round < 2; round++) {
      for (const [into, part] of [[floor, await shardedPubSubFloor(url)], [evalsha, await evalshaFloor(url)], [cvlab, await pipelinePropagation(rig, url)]] as const) {
        into.add(part);
        part.destroy();
      }
    }
    const clusterRig = RigSchema.parse({ ...rig, osc: { host: '127.0.0.1', port: 9 }, redisUrl: url, limiter: { userRate: 1e6, userBurst: 1_000_000, globalRate: 1e6, globalBurst: 1_000_000 } });
    const scenario = ScenarioSchema.parse({ name: 'bench-cluster-throughput', executor: { type: 'constant-arrival-rate', rate: THROUGHPUT_RATE, duration: '3s' }, traffic: { users: 5000, mix: { valid: 100 } }, seed: 5 });
    const perSecond: Record<string, number> = {};
    let commit: { p50: number; p99: number; n: number } | undefined;
    let betweenProcesses: ReturnType<typeof figures> | undefined;
    for (const instances of [1, 2, 4]) {
      log(`cluster throughput: ${instances} instance(s) offered ${THROUGHPUT_RATE} msg/s`);
      const summary = await runMultiInstance({ scenario: { ...scenario, multiInstance: MultiInstanceSchema.parse({ instances }) }, rig: clusterRig });
      perSecond[String(instances)] = Math.round(summary.completed / (summary.elapsedMs / 1000));
      const limit = summary.stages.limit;
      if (instances === 1 && limit) commit = { p50: ms(limit.p50), p99: ms(limit.p99), n: limit.count };
      if (instances === 2 && summary.propagationHistogram) {
        const merged = mergeHistograms([summary.propagationHistogram]);
        betweenProcesses = figures(merged);
        merged.destroy();
      }
    }
    const row = {
      seeds: target.address,
      version: target.version,
      shardedPubSub: target.shardedPubSub,
      propagation: {
        floorSharded: figures(floor),
        cvlab: figures(cvlab),
        ratioP50: ratio(cvlab.getValueAtPercentile(50), floor.getValueAtPercentile(50)),
        ratioP99: ratio(cvlab.getValueAtPercentile(99), floor.getValueAtPercentile(99)),
        betweenProcesses,
      },
      commit: { floorEvalsha: figures(evalsha), cvlabLimitStage: commit, ratioP50: commit ? ratio(commit.p50, ms(evalsha.getValueAtPercentile(50))) : undefined },
      throughput: { offered: THROUGHPUT_RATE, perSecond, scaling2: ratio(perSecond['2'] ?? 0, perSecond['1'] ?? 0), scaling4: ratio(perSecond['4'] ?? 0, perSecond['1'] ?? 0) },
    };
    floor.destroy();
    evalsha.destroy();
    cvlab.destroy();
    return row;
  } finally {
    await privateCluster?.remove();
  }
}

/** Fan-out to subscribers in a separate process: cvlab's FanoutServer, or a bare `ws` broadcast (the floor). */
async function fanout(kind: 'cvlab' | 'floor'): Promise<Histogram> {
  let publish: (text: string) => void;
  let url: string;
  let close: () => Promise<void>;
  if (kind === 'cvlab') {
    const server = await FanoutServer.listen({ maxClients: SUBSCRIBERS + 10 });
    url = server.url;
    let version = 0;
    publish = () => server.publish({ variable: 'hue', value: 0.5, version: ++version, writer: 'bench' });
    close = () => server.close();
  } else {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const address = wss.address() as { port: number };
    url = `ws://127.0.0.1:${address.port}/`;
    publish = (text) => {
      for (const client of wss.clients) client.send(text);
    };
    close = () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
  }
  const pool = await RemoteSubscriberPool.connect(url, SUBSCRIBERS);
  try {
    for (let index = 1; index <= FANOUT_CHANGES; index++) {
      publish(JSON.stringify({ variable: 'hue', value: 0.5, version: index, writer: 'bench', acceptedAtMs: fanoutClock() }));
      await sleep(10);
    }
    await pool.waitForReceived(FANOUT_CHANGES);
    const report = await pool.report();
    return mergeHistograms([report.histogram]);
  } finally {
    await pool.close();
    await close();
  }
}

async function main(): Promise<void> {
  await initHistograms();
  const rig = await loadRig();
  const machine = { cpus: cpus().length, loadBefore: loadavg()[0] };

  log('propagation: raw pub/sub floor and cvlab, interleaved');
  const floorParts: Histogram[] = [];
  const timedFloorParts: Histogram[] = [];
  const cvlabParts: Histogram[] = [];
  for (let round = 0; round < 2 && PARTS.has('propagation'); round++) {
    floorParts.push(await pubSubFloor());
    timedFloorParts.push(await redisTimeFloor());
    cvlabParts.push(await pipelinePropagation(rig));
  }
  const floor = createHistogram();
  const cvlab = createHistogram();
  const timedFloor = createHistogram();
  for (const part of floorParts) floor.add(part);
  for (const part of timedFloorParts) timedFloor.add(part);
  for (const part of cvlabParts) cvlab.add(part);

  const openRig = RigSchema.parse({ ...rig, osc: { host: '127.0.0.1', port: 9 }, redisUrl: REDIS_URL, limiter: { userRate: 1e6, userBurst: 1_000_000, globalRate: 1e6, globalBurst: 1_000_000 } });
  const throughputScenario = ScenarioSchema.parse({ name: 'bench-throughput', executor: { type: 'constant-arrival-rate', rate: THROUGHPUT_RATE, duration: '3s' }, traffic: { users: 5000, mix: { valid: 100 } }, seed: 3 });
  const throughput: Record<string, number> = {};
  let multiProcessPropagation: ReturnType<typeof figures> | undefined;
  for (const instances of PARTS.has('throughput') ? [1, 2, 4] : []) {
    log(`throughput: ${instances} instance(s) offered ${THROUGHPUT_RATE} msg/s`);
    const summary = await runMultiInstance({ scenario: { ...throughputScenario, multiInstance: MultiInstanceSchema.parse({ instances }) }, rig: openRig });
    throughput[String(instances)] = Math.round(summary.completed / (summary.elapsedMs / 1000));
    if (instances === 2 && summary.propagationHistogram) {
      const merged = mergeHistograms([summary.propagationHistogram]);
      multiProcessPropagation = figures(merged);
      merged.destroy();
    }
  }

  if (PARTS.has('cap')) log('global cap: 3 instances against a burst-only cap of 300');
  const capRig = RigSchema.parse({ ...openRig, limiter: { userRate: 1000, userBurst: 1000, globalRate: 1, globalBurst: 300 }, variables: rig.variables.map((variable) => ({ ...variable, cooldownMs: 0 })) });
  const capScenario = ScenarioSchema.parse({ name: 'bench-cap', executor: { type: 'constant-arrival-rate', rate: 600, duration: '2s' }, traffic: { users: 300, mix: { valid: 100 } }, seed: 4, multiInstance: { instances: 3 } });
  const capped = PARTS.has('cap') ? await runMultiInstance({ scenario: capScenario, rig: capRig }) : undefined;
  const capAllowed = 300 + Math.ceil(((capped?.elapsedMs ?? 0) + 1000) / 1000);
  const capAccepted = capped?.outcomes.accepted ?? 0;
  const capError = Math.max(0, capAccepted - capAllowed) / capAllowed;

  log(`fan-out: ${SUBSCRIBERS} subscribers in a separate process, raw ws floor and cvlab, interleaved`);
  const fanoutFloor = createHistogram();
  const fanoutCvlab = createHistogram();
  for (let round = 0; round < 2 && PARTS.has('fanout'); round++) {
    const f = await fanout('floor');
    fanoutFloor.add(f);
    f.destroy();
    const c = await fanout('cvlab');
    fanoutCvlab.add(c);
    c.destroy();
  }

  const cluster = PARTS.has('cluster') ? await clusterRow(rig) : undefined;

  const propagation = {
    floor: figures(floor),
    cvlab: figures(cvlab),
    ratioP50: ratio(cvlab.getValueAtPercentile(50), floor.getValueAtPercentile(50)),
    ratioP99: ratio(cvlab.getValueAtPercentile(99), floor.getValueAtPercentile(99)),
    redisTimeFloor: figures(timedFloor),
    ratioP50RedisTimeFloor: ratio(cvlab.getValueAtPercentile(50), timedFloor.getValueAtPercentile(50)),
    betweenProcesses: multiProcessPropagation,
  };
  const fan = {
    subscribers: SUBSCRIBERS,
    floor: figures(fanoutFloor),
    cvlab: figures(fanoutCvlab),
    ratioP50: ratio(fanoutCvlab.getValueAtPercentile(50), fanoutFloor.getValueAtPercentile(50)),
    ratioP99: ratio(fanoutCvlab.getValueAtPercentile(99), fanoutFloor.getValueAtPercentile(99)),
  };
  const result = {
    bench: 'multi',
    unit: 'ms',
    propagation,
    throughput: { offered: THROUGHPUT_RATE, perSecond: throughput, scaling2: ratio(throughput['2'] ?? 0, throughput['1'] ?? 0), scaling4: ratio(throughput['4'] ?? 0, throughput['1'] ?? 0) },
    globalCap: { allowed: capAllowed, accepted: capAccepted, error: Math.round(capError * 10_000) / 10_000 },
    fanout: fan,
    ...(cluster ? { cluster } : {}),
    targets: {
      propagationP50WithinFloor: propagation.ratioP50 <= 1.2,
      globalCapErrorWithin1Percent: capError <= 0.01,
      fanoutP99Under10ms: fan.cvlab.p99 < 10,
      fanoutP99WithinFloor: fan.ratioP99 <= 1.2,
    },
    machine: { ...machine, loadAfter: loadavg()[0] },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.env['BENCH_ROLE'] === 'publisher') await publisherInstance(process.env['BENCH_NAMESPACE'] ?? 'bench');
else {
  await main();
  process.exit(0);
}

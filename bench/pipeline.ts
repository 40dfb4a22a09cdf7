// Pipeline benchmark: messages through the memory store and through Redis, against the floors
// measured in the same run (raw dgram send→receive, raw ioredis round trip). Prints ONE JSON line.
// Targets: memory ≥ 100k msg/s and e2e p50 ≤ 1.5× the UDP floor; Redis ≥ 30k msg/s, e2e p50
// ≤ 1.3× (UDP floor + one round trip), e2e p99 < 2 ms at 5,000 msg/s; ≤ 500 bytes allocated per
// message (memory store); the commit script's evalsha µs per call before and after; the Redis
// commit connection's writes, one per command against one per event-loop turn, in the same run.
//
// Bytes per message: a child process (node --expose-gc, young generation 256 MiB so no scavenge
// runs inside the window) sends N messages through processWith() between two forced GCs; the
// heap grows by what they allocated. A PerformanceObserver('gc') confirms no collection ran in
// the window (else the figure is void and retried smaller). The figure is the median of five such
// children: V8 compiles a little differently in each process. The same child measures a bare
// connected dgram send the same way: what Node itself allocates per datagram.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { Message, encode } from 'node-osc';
import { RigSchema, type RigConfig } from '../src/shared/rig';
import { STAGES, type ChatMessage, type Outcome } from '../src/shared/message';
import { createPipeline } from '../src/main/lab/engine/pipeline/chat-pipeline';
import { monotonicNs } from '../src/main/lab/common/monotonic-clock';
import type { LabPipeline } from '../src/main/lab/engine/pipeline/pipeline-types';
import { redisCommitScript } from '../src/main/lab/engine/pipeline/redis-commit.lua';
import { loadRig } from '../src/main/lab/files/rig-file';
import { freePort } from '../test/setup/global-services';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 100_000);
const LATENCY_SAMPLES = Number(process.env['BENCH_LATENCY_SAMPLES'] ?? 5_000);
const OPEN_LOOP_RATE = 5_000;
const OPEN_LOOP_SECONDS = Number(process.env['BENCH_OPEN_LOOP_SECONDS'] ?? 4);
const ALLOCATION_MESSAGES = Number(process.env['BENCH_ALLOCATION_MESSAGES'] ?? 20_000);
const SCRIPT_CALLS = Number(process.env['BENCH_SCRIPT_CALLS'] ?? 20_000);
const COMMIT_WRITE_ROUNDS = Number(process.env['BENCH_COMMIT_WRITE_ROUNDS'] ?? 3);
const COMMIT_WRITE_MESSAGES = Number(process.env['BENCH_COMMIT_WRITE_MESSAGES'] ?? 30_000);
const CONCURRENCY = 256;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** The commit script before this bench's targets (ten redis.call()s, global bucket in its own key). */
const SCRIPT_BEFORE_COMMIT = '299268e';

const here = dirname(fileURLToPath(import.meta.url));
const newHistogram = (): hdr.Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
const us = (ns: number): number => Math.round(ns / 10) / 100;
const round2 = (value: number): number => Math.round(value * 100) / 100;
const summary = (histogram: hdr.Histogram): { p50: number; p99: number; n: number } => ({
  p50: us(histogram.getValueAtPercentile(50)),
  p99: us(histogram.getValueAtPercentile(99)),
  n: histogram.totalCount,
});

const texts = ['hue=0.4', 'sat=80%', 'bright=0.25', 'zoom==-0.5', 'shape=sine', 'hue=0.1 sat=0.9', 'rotate=45', 'invert=on'];
const users = Array.from({ length: 50_000 }, (_, index) => `viewer${index}`);
// Built once: the bench measures the pipeline, not the making of messages.
const messages: ChatMessage[] = Array.from({ length: 8_192 }, (_, index) => ({ user: users[index % users.length]!, text: texts[index % texts.length]! }));
const message = (index: number): ChatMessage => messages[index % messages.length]!;

async function benchRig(targetPort?: number): Promise<RigConfig> {
  const demo = await loadRig();
  const port = targetPort ?? (await freePort());
  // Limits high and cooldowns off: this measures the pipeline, not the limiter saying no.
  return RigSchema.parse({
    ...demo,
    // The tap hears a copy of every datagram on loopback, as the UDP floor's receiver does.
    osc: { host: '127.0.0.1', port, tapPort: await freePort() },
    limiter: { userRate: 1e9, userBurst: 1e9, globalRate: 1e9, globalBurst: 1e9 },
    variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
  });
}

// ───────────────────────── allocation (child process) ─────────────────────────

/** Runs in the child: bytes allocated per message (processWith, memory store) and per bare dgram send. */
async function allocationChild(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the allocation child needs --expose-gc');
  const gcStarts: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
  }).observe({ entryTypes: ['gc'] });
  const sink = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  sink.on('message', () => undefined);
  await new Promise<void>((done) => sink.bind(0, '127.0.0.1', () => done()));
  // Buckets that never refill within the bench (and never refuse): as an audience's buckets stay
  // partly empty between messages. With refill near-instant, every bucket would be full (and
  // forgotten, and made again) after each sweep: limiter churn, not the per-message cost.
  const rig = RigSchema.parse({
    ...(await benchRig()),
    osc: { host: '127.0.0.1', port: sink.address().port },
    limiter: { userRate: 1, userBurst: 1e9, globalRate: 1, globalBurst: 1e12 },
  });

  /** Heap growth per call of `body` over `count` calls, or undefined when a GC ran in the window. */
  const measure = async (body: (index: number) => void, count: number): Promise<number | undefined> => {
    for (let index = 0; index < 30_000; index++) body(index);
    await new Promise((settle) => setTimeout(settle, 50));
    gc();
    gc();
    await new Promise((settle) => setTimeout(settle, 20));
    const startMs = performance.now();
    const before = getHeapStatistics().used_heap_size;
    for (let index = 0; index < count; index++) body(index);
    const after = getHeapStatistics().used_heap_size;
    const endMs = performance.now();
    // GC entries are delivered later: wait for them before judging the window.
    await new Promise((settle) => setTimeout(settle, 100));
    if (gcStarts.some((start) => start >= startMs && start <= endMs)) return undefined;
    return (after - before) / count;
  };
  const measureSure = async (body: (index: number) => void): Promise<{ bytes: number | null; messages: number }> => {
    for (let count = ALLOCATION_MESSAGES; count >= 1_000; count = Math.floor(count / 2)) {
      const bytes = await measure(body, count);
      if (bytes !== undefined) return { bytes: Math.round(bytes), messages: count };
    }
    return { bytes: null, messages: 0 };
  };

  const pipeline = await createPipeline(rig, { namespace: `bench-alloc-${process.pid}`, redisUrl: null, tap: false });
  let accepted = 0;
  const done = (outcome: Outcome): void => {
    if (outcome.status === 'accepted') accepted++;
  };
  const audience = messages.map((entry, index) => ({ user: users[index % 1_000]!, text: entry.text }));
  const perMessage = await measureSure((index) => pipeline.processWith(audience[index % audience.length]!, done));
  await pipeline.close();

  const bare = createSocket('udp4');
  await new Promise<void>((done) => bare.connect(sink.address().port, '127.0.0.1', () => done()));
  const datagram = encode(new Message('/lzx/colorizer/hue', { type: 'f', value: 0.4 }));
  const perSend = await measureSure(() => bare.send(datagram));
  bare.close();
  sink.close();
  process.stdout.write(`${JSON.stringify({ perMessage, perSend, accepted })}\n`);
}

/** Children measured: V8 compiles differently from one process to the next (±20 bytes), so the median of several. */
const ALLOCATION_CHILDREN = Number(process.env['BENCH_ALLOCATION_CHILDREN'] ?? 5);

function allocation(): Record<string, unknown> {
  type ChildResult = { perMessage: { bytes: number | null; messages: number }; perSend: { bytes: number | null } };
  const results: ChildResult[] = [];
  let failure = '';
  for (let index = 0; index < ALLOCATION_CHILDREN; index++) {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--max-semi-space-size=256', '--min-semi-space-size=256', '--import', 'tsx', fileURLToPath(import.meta.url)],
      { env: { ...process.env, BENCH_PIPELINE_ALLOCATION_CHILD: '1' }, encoding: 'utf8', cwd: resolve(here, '..') },
    );
    try {
      results.push(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as ChildResult);
    } catch {
      failure = child.stderr.slice(-500);
    }
  }
  const median = (values: (number | null)[]): number | null => {
    const known = values.filter((value): value is number => value !== null).sort((left, right) => left - right);
    return known.length === 0 ? null : known[Math.floor(known.length / 2)]!;
  };
  if (results.length === 0) return { error: `the allocation child failed: ${failure}` };
  const perMessage = results.map((result) => result.perMessage.bytes);
  const bytesPerMessage = median(perMessage);
  const bareDgramSendBytes = median(results.map((result) => result.perSend.bytes));
  return {
    method:
      'heap delta over N processWith() calls (1000 viewers, the bench mix) between forced GCs; young generation 256 MiB; PerformanceObserver(gc) saw no collection in the window; median of several processes',
    messages: Math.min(...results.map((result) => result.perMessage.messages)),
    processes: results.length,
    bytesPerMessageEach: perMessage,
    bytesPerMessage,
    bareDgramSendBytes,
    pipelineOwnBytesPerMessage: bytesPerMessage !== null && bareDgramSendBytes !== null ? bytesPerMessage - bareDgramSendBytes : null,
  };
}

// ───────────────────────── floors ─────────────────────────

/** The floor for the network part: a pre-encoded packet, send → receive on loopback, one at a time. */
async function udpFloor(samples: number): Promise<hdr.Histogram> {
  const port = await freePort();
  const receiver = createSocket('udp4');
  const sender = createSocket('udp4');
  await new Promise<void>((done) => receiver.bind(port, '127.0.0.1', () => done()));
  const packet = encode(new Message('/lzx/colorizer/hue', { type: 'f', value: 0.4 }));
  const histogram = newHistogram();
  for (let index = 0; index < samples + 500; index++) {
    const started = monotonicNs();
    await new Promise<void>((done) => {
      receiver.once('message', () => {
        if (index >= 500) histogram.recordValue(Math.max(1, Math.round(monotonicNs() - started)));
        done();
      });
      sender.send(packet, port, '127.0.0.1');
    });
  }
  receiver.close();
  sender.close();
  return histogram;
}

async function redisFloor(samples: number): Promise<hdr.Histogram> {
  const redis = new Redis(REDIS_URL);
  const histogram = newHistogram();
  for (let index = 0; index < samples + 500; index++) {
    const started = monotonicNs();
    await redis.ping();
    if (index >= 500) histogram.recordValue(Math.max(1, Math.round(monotonicNs() - started)));
  }
  redis.disconnect();
  return histogram;
}

/** A converter stand-in in its own process: counts the OSC datagrams it receives. */
async function startUdpSink(): Promise<{ port: number; stop: () => Promise<number> }> {
  const port = await freePort();
  const code = `const s=require('node:dgram').createSocket({type:'udp4',recvBufferSize:8<<20});let n=0;s.on('message',(d)=>{if(d.length>0)n++});s.bind(${port},'127.0.0.1',()=>process.stdout.write('ready\\n'));process.stdin.on('end',()=>{process.stdout.write(n+'\\n');process.exit(0)});process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('ready')) await new Promise((settle) => setTimeout(settle, 10));
  return {
    port,
    stop: async () => {
      // Let the last datagrams land before asking for the count.
      await new Promise((settle) => setTimeout(settle, 200));
      child.stdin.end();
      await new Promise((settle) => child.once('exit', settle));
      return Number(output.trim().split('\n').at(-1));
    },
  };
}

// ───────────────────────── pipeline figures ─────────────────────────

/** `planned` messages at OPEN_LOOP_RATE, each due at its planned time (dueAtNs) and sent when due; their e2e. */
async function openLoop(pipeline: LabPipeline, planned: number): Promise<hdr.Histogram> {
  const e2e = newHistogram();
  const intervalNs = 1e9 / OPEN_LOOP_RATE;
  const done = (outcome: Outcome): void => {
    if (outcome.timings.e2e !== undefined) e2e.recordValue(Math.max(1, Math.round(outcome.timings.e2e)));
  };
  await new Promise<void>((finish) => {
    const startNs = monotonicNs() + 1e6;
    let next = 0;
    const tick = (): void => {
      const nowNs = monotonicNs();
      while (next < planned && startNs + next * intervalNs <= nowNs) {
        const base = message(next);
        pipeline.processWith({ user: base.user, text: base.text, dueAtNs: startNs + next * intervalNs }, done);
        next++;
      }
      if (next < planned) setImmediate(tick);
      else setTimeout(finish, 200);
    };
    setImmediate(tick);
  });
  return e2e;
}

async function measure(redisUrl: string | null): Promise<Record<string, unknown>> {
  const converter = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  converter.on('message', () => undefined);
  await new Promise<void>((done) => converter.bind(0, '127.0.0.1', () => done()));
  const rig = await benchRig(converter.address().port);
  const kind = redisUrl ? 'redis' : 'memory';
  const pipeline: LabPipeline = await createPipeline(rig, { namespace: `bench-${process.pid}-${kind}`, redisUrl });

  // Latency: one message at a time, each awaited on the tap, like the UDP floor.
  const stages = Object.fromEntries(STAGES.map((stage) => [stage, newHistogram()]));
  let onTap: ((ns: number) => void) | undefined;
  pipeline.onDidTap((ns) => onTap?.(ns));
  const record = (outcome: Outcome): void => {
    for (const [stage, value] of Object.entries(outcome.timings)) if (value !== undefined) stages[stage]!.recordValue(Math.max(1, Math.round(value)));
  };
  for (let index = 0; index < LATENCY_SAMPLES + 500; index++) {
    const tapped = new Promise<number>((settle) => (onTap = settle));
    const outcome = await pipeline.process(message(index));
    const tapNs = await tapped;
    if (index < 500 || outcome.status !== 'accepted') continue;
    record(outcome);
    stages['tap']!.recordValue(Math.max(1, Math.round(tapNs)));
  }
  onTap = undefined;

  // Open loop at 5,000 msg/s: each message due at its planned time (dueAtNs), sent when due.
  const openLoopTap = newHistogram();
  const unsubscribe = pipeline.onDidTap((ns) => openLoopTap.recordValue(Math.max(1, Math.round(ns))));
  const planned = OPEN_LOOP_RATE * OPEN_LOOP_SECONDS;
  const openLoopE2e = await openLoop(pipeline, planned);
  unsubscribe.dispose();

  // Throughput: a second pipeline without the tap sends to a converter stand-in in another
  // process (as the converter is another device), with a bounded number of messages in flight.
  // Every 1,024 messages the loop yields, as a bot reading chat from sockets would.
  const sink = await startUdpSink();
  const { tapPort: _tapPort, ...osc } = rig.osc;
  const throughputPipeline = await createPipeline(RigSchema.parse({ ...rig, osc: { ...osc, port: sink.port } }), {
    namespace: `bench-${process.pid}-${kind}-throughput`,
    redisUrl,
    tap: false,
  });
  let accepted = 0;
  const count = (outcome: Outcome): void => {
    if (outcome.status === 'accepted') accepted++;
  };
  const started = monotonicNs();
  if (!redisUrl) {
    // The memory path answers at once: no promise, no concurrency to manage.
    for (let index = 0; index < MESSAGES; index++) {
      if (index % 1024 === 0) await new Promise((settle) => setImmediate(settle));
      throughputPipeline.processWith(message(index), count);
    }
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < MESSAGES) {
          const index = next++;
          if (index % 1024 === 0) await new Promise((settle) => setImmediate(settle));
          count(await throughputPipeline.process(message(index)));
        }
      }),
    );
  }
  const seconds = (monotonicNs() - started) / 1e9;
  const throughputCounters = throughputPipeline.counters();
  await throughputPipeline.close();
  const received = await sink.stop();
  const counters = pipeline.counters();
  await pipeline.close();
  converter.close();
  return {
    throughputPerSecond: Math.round(MESSAGES / seconds),
    accepted,
    receivedByConverter: received,
    limiterFallbacks: counters.limiterFallbacks + throughputCounters.limiterFallbacks,
    stagesUs: Object.fromEntries(Object.entries(stages).filter(([, histogram]) => histogram.totalCount > 0).map(([stage, histogram]) => [stage, summary(histogram)])),
    openLoop: { ratePerSecond: OPEN_LOOP_RATE, planned, e2eUs: summary(openLoopE2e), tapUs: summary(openLoopTap) },
  };
}

// ───────────────────────── commit script: evalsha µs per call ─────────────────────────

/** A private redis-server for the script figures: its command statistics are the bench's alone. */
async function privateRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cvlab-bench-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (attempt > 100) throw new Error('the private redis-server did not start');
      await new Promise((settle) => setTimeout(settle, 50));
    }
  }
  return {
    url,
    stop: () => {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** evalsha calls, µs and µs per call from INFO commandstats. */
async function evalshaStats(redis: Redis): Promise<{ calls: number; usecPerCall: number }> {
  const info = await redis.info('commandstats');
  const line = info.split('\n').find((entry) => entry.startsWith('cmdstat_evalsha:')) ?? '';
  const field = (name: string): number => Number(new RegExp(`${name}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  return { calls: field('calls'), usecPerCall: field('usec_per_call') };
}

/** Runs `calls` commits of one script through EVALSHA (64 in flight) and reads Redis's own timing. */
async function scriptCost(url: string, lua: string, keysOf: (user: string) => string[], argsOf: (user: string, index: number) => (string | number)[]): Promise<{ calls: number; usecPerCall: number }> {
  const redis = new Redis(url);
  await redis.flushall();
  const sha = (await redis.script('LOAD', lua)) as string;
  await redis.config('RESETSTAT');
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < SCRIPT_CALLS) {
        const index = next++;
        const user = users[index % 1_000]!;
        const keys = keysOf(user);
        await redis.evalsha(sha, keys.length, ...keys, ...argsOf(user, index));
      }
    }),
  );
  const stats = await evalshaStats(redis);
  redis.disconnect();
  return stats;
}

async function scriptFigures(rig: RigConfig): Promise<Record<string, unknown>> {
  const server = await privateRedis();
  const prefix = 'cvlab:{bench}:';
  const assignment = (index: number): (string | number)[] => ['hue', 'a', (index % 100) / 100, 0.5, 1];
  try {
    const after = await scriptCost(
      server.url,
      redisCommitScript(rig),
      (user) => [`${prefix}state`, `${prefix}u:${user}`],
      (user, index) => [user, `{"i":"bench","w":${JSON.stringify(user)}`, `${prefix}changes`, '600000', '1e15', 1, ...assignment(index)],
    );
    let before: Record<string, unknown>;
    try {
      // The script as it was, taken from git and built for the same rig: the same Redis, the same calls.
      const source = execFileSync('git', ['show', `${SCRIPT_BEFORE_COMMIT}:src/main/lab/pipeline/redis-commit.lua.ts`], { cwd: resolve(here, '..'), encoding: 'utf8' });
      const dir = mkdtempSync(join(tmpdir(), 'cvlab-bench-script-'));
      const file = join(dir, 'redis-commit-before.lua.ts');
      const resolver = pathToFileURL(resolve(here, '../src/main/lab/common/value-resolver.ts')).href;
      writeFileSync(file, source.replace(/from '\.\/value-resolver'/, `from '${resolver}'`).replace(/from '\.\.\/\.\.\/\.\.\/shared\/rig'/, `from '${pathToFileURL(resolve(here, '../src/shared/rig.ts')).href}'`));
      const old = (await import(pathToFileURL(file).href)) as { redisCommitScript: (rig: RigConfig) => string };
      rmSync(dir, { recursive: true, force: true });
      const stats = await scriptCost(
        server.url,
        old.redisCommitScript(rig),
        (user) => [`${prefix}state`, `${prefix}u:${user}`, `${prefix}global`],
        (user, index) => [user, `{"i":"bench","w":${JSON.stringify(user)}`, `${prefix}changes`, '600000', 1, ...assignment(index)],
      );
      before = { commit: SCRIPT_BEFORE_COMMIT, redisCalls: 10, ...stats };
    } catch (error) {
      before = { commit: SCRIPT_BEFORE_COMMIT, error: `could not run the earlier script: ${String(error).slice(0, 200)}` };
    }
    return { redis: 'private redis-server', callsEach: SCRIPT_CALLS, before, after: { redisCalls: 6, ...after } };
  } finally {
    server.stop();
  }
}

// ───────────────────────── commit writes: one per command or one per turn ─────────────────────────

/** redis-server's own CPU time so far, ms (INFO cpu: user + system). */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

const median = (values: number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)]!;

/**
 * The Redis store with its commit connection writing each command as it is made (as before)
 * and holding the commits of one event-loop turn for one write, in the same run against a
 * private redis-server: the two variants take turns, round after round, so the machine's load
 * falls on both alike. Per round and variant: CPU per message of this process and of
 * redis-server with 256 messages in flight (work, not timing: little moved by load), and the
 * open-loop e2e p99 at 5,000 msg/s. Figures are the median of the rounds; ratios after / before.
 */
async function commitWriteFigures(): Promise<Record<string, unknown>> {
  const server = await privateRedis();
  const admin = new Redis(server.url);
  const converter = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  converter.on('message', () => undefined);
  await new Promise<void>((done) => converter.bind(0, '127.0.0.1', () => done()));
  try {
    const { tapPort: _tapPort, ...osc } = (await benchRig(converter.address().port)).osc;
    const rig = RigSchema.parse({ ...(await benchRig()), osc });
    const variants = { perCommand: false, perTurn: true } as const;
    type Round = { nodeUsPerMessage: number; redisUsPerMessage: number; openLoopE2eP99Us: number };
    const rounds: Record<keyof typeof variants, Round[]> = { perCommand: [], perTurn: [] };
    for (let round = 0; round < COMMIT_WRITE_ROUNDS; round++) {
      for (const [name, coalesce] of Object.entries(variants) as [keyof typeof variants, boolean][]) {
        const pipeline = await createPipeline(rig, { namespace: `bench-${process.pid}-writes-${name}-${round}`, redisUrl: server.url, tap: false, redisCoalesceWrites: coalesce });
        for (let index = 0; index < 2_000; index++) await pipeline.process(message(index));
        const cpuBefore = process.cpuUsage();
        const redisBefore = await redisCpuMs(admin);
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < COMMIT_WRITE_MESSAGES) await pipeline.process(message(next++));
          }),
        );
        const cpu = process.cpuUsage(cpuBefore);
        const redisMs = (await redisCpuMs(admin)) - redisBefore;
        const e2e = await openLoop(pipeline, OPEN_LOOP_RATE * Math.max(1, OPEN_LOOP_SECONDS / 2));
        await pipeline.close();
        rounds[name].push({
          nodeUsPerMessage: round2((cpu.user + cpu.system) / COMMIT_WRITE_MESSAGES),
          redisUsPerMessage: round2((redisMs * 1000) / COMMIT_WRITE_MESSAGES),
          openLoopE2eP99Us: us(e2e.getValueAtPercentile(99)),
        });
      }
    }
    const figures = (list: Round[]): Round & { rounds: Round[] } => ({
      nodeUsPerMessage: median(list.map((entry) => entry.nodeUsPerMessage)),
      redisUsPerMessage: median(list.map((entry) => entry.redisUsPerMessage)),
      openLoopE2eP99Us: median(list.map((entry) => entry.openLoopE2eP99Us)),
      rounds: list,
    });
    const before = figures(rounds.perCommand);
    const after = figures(rounds.perTurn);
    return {
      redis: 'private redis-server',
      messagesEach: COMMIT_WRITE_MESSAGES,
      inFlight: CONCURRENCY,
      before: { writes: 'one per command', ...before },
      after: { writes: 'one per event-loop turn', ...after },
      ratios: {
        nodeCpuAfterOverBefore: round2(after.nodeUsPerMessage / before.nodeUsPerMessage),
        redisCpuAfterOverBefore: round2(after.redisUsPerMessage / before.redisUsPerMessage),
        openLoopE2eP99AfterOverBefore: round2(after.openLoopE2eP99Us / before.openLoopE2eP99Us),
      },
    };
  } finally {
    converter.close();
    admin.disconnect();
    server.stop();
  }
}

// ───────────────────────── main ─────────────────────────

if (process.env['BENCH_PIPELINE_ALLOCATION_CHILD'] === '1') {
  await allocationChild();
  process.exit(0);
}

// BENCH_PIPELINE_ONLY=commit-writes: that comparison alone (a few minutes less).
if (process.env['BENCH_PIPELINE_ONLY'] === 'commit-writes') {
  const load = loadavg()[0] ?? 0;
  const commitWrites = await commitWriteFigures();
  console.log(JSON.stringify({ bench: 'pipeline', only: 'commitWrites', machine: { cpus: cpus().length, loadAverage1mBefore: round2(load), loadAverage1mAfter: round2(loadavg()[0] ?? 0), node: process.version }, commitWrites }));
  process.exit(0);
}

const loadBefore = loadavg()[0] ?? 0;
const allocated = allocation();
const udp = await udpFloor(LATENCY_SAMPLES);
const roundTrip = await redisFloor(LATENCY_SAMPLES);
const memory = await measure(null);
const redis = await measure(REDIS_URL);
const script = await scriptFigures(await benchRig());
const commitWrites = await commitWriteFigures();
const tapP50 = (result: Record<string, unknown>): number => (result['stagesUs'] as Record<string, { p50: number }>)['tap']!.p50;
const openLoopP99Ms = (result: Record<string, unknown>): number => (result['openLoop'] as { e2eUs: { p99: number } }).e2eUs.p99 / 1000;
const udpP50 = us(udp.getValueAtPercentile(50));
const rttP50 = us(roundTrip.getValueAtPercentile(50));
const ratios = {
  memoryE2eTapP50VsUdpFloor: round2(tapP50(memory) / udpP50),
  redisE2eTapP50VsUdpPlusRoundTrip: round2(tapP50(redis) / (udpP50 + rttP50)),
};
const bytesPerMessage = allocated['bytesPerMessage'] as number | null | undefined;
console.log(
  JSON.stringify({
    bench: 'pipeline',
    messages: MESSAGES,
    latencySamples: LATENCY_SAMPLES,
    unit: 'µs',
    machine: { cpus: cpus().length, loadAverage1mBefore: round2(loadBefore), loadAverage1mAfter: round2(loadavg()[0] ?? 0), node: process.version },
    floors: { udpSendReceive: summary(udp), redisRoundTrip: summary(roundTrip) },
    allocation: allocated,
    memory,
    redis,
    commitScript: script,
    commitWrites,
    ratios,
    targets: {
      memoryE2eP50Within1_5xUdp: ratios.memoryE2eTapP50VsUdpFloor <= 1.5,
      memoryAtLeast100kPerSecond: (memory['throughputPerSecond'] as number) >= 100_000,
      redisE2eP50Within1_3xUdpPlusRtt: ratios.redisE2eTapP50VsUdpPlusRoundTrip <= 1.3,
      redisAtLeast30kPerSecond: (redis['throughputPerSecond'] as number) >= 30_000,
      redisE2eP99Under2msAt5kPerSecond: openLoopP99Ms(redis) < 2,
      atMost500BytesPerMessage: typeof bytesPerMessage === 'number' && bytesPerMessage <= 500,
    },
  }),
);
process.exit(0);

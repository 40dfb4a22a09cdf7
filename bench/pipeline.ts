// Pipeline benchmark: 100,000 messages through the memory store and through Redis, against the
// floors measured in the same run (raw dgram send→receive, raw ioredis round trip).
// Prints one JSON line. Targets (issue 2): memory e2e p50 ≤ 1.5× UDP floor and ≥ 100k msg/s;
// Redis e2e p50 ≤ 1.3× (UDP floor + one round trip) and ≥ 30k msg/s.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import * as hdr from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { Message, encode } from 'node-osc';
import { RigSchema, type RigConfig } from '../src/shared/rig';
import { STAGES } from '../src/shared/message';
import { createPipeline } from '../src/main/lab/pipeline/chat-pipeline';
import type { ChatPipeline } from '../src/main/lab/pipeline/pipeline-types';
import { loadRig } from '../src/main/lab/rig-file';
import { freePort } from '../test/setup/global-services';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 100_000);
const LATENCY_SAMPLES = Number(process.env['BENCH_LATENCY_SAMPLES'] ?? 5_000);
const CONCURRENCY = 256;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const newHistogram = (): hdr.Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
const us = (ns: number): number => Math.round(ns / 10) / 100;
const summary = (histogram: hdr.Histogram): { p50: number; p99: number; n: number } => ({
  p50: us(histogram.getValueAtPercentile(50)),
  p99: us(histogram.getValueAtPercentile(99)),
  n: histogram.totalCount,
});

const texts = ['hue=0.4', 'sat=80%', 'bright=0.25', 'zoom==-0.5', 'shape=sine', 'hue=0.1 sat=0.9', 'rotate=45', 'invert=on'];
const message = (index: number): { user: string; text: string } => ({ user: `viewer${index % 50_000}`, text: texts[index % texts.length]! });

/** The floor for the network part: a pre-encoded packet, send → receive on loopback, one at a time. */
async function udpFloor(samples: number): Promise<hdr.Histogram> {
  const port = await freePort();
  const receiver = createSocket('udp4');
  const sender = createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(port, '127.0.0.1', () => resolve()));
  const packet = encode(new Message('/lzx/colorizer/hue', { type: 'f', value: 0.4 }));
  const histogram = newHistogram();
  for (let index = 0; index < samples + 500; index++) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      receiver.once('message', () => {
        if (index >= 500) histogram.recordValue(Number(process.hrtime.bigint() - started));
        resolve();
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
    const started = process.hrtime.bigint();
    await redis.ping();
    if (index >= 500) histogram.recordValue(Number(process.hrtime.bigint() - started));
  }
  redis.disconnect();
  return histogram;
}

/** A converter stand-in in its own process: counts the datagrams it receives. */
async function startUdpSink(): Promise<{ port: number; stop: () => Promise<number> }> {
  const port = await freePort();
  const code = `const s=require('node:dgram').createSocket({type:'udp4',recvBufferSize:8<<20});let n=0;s.on('message',()=>n++);s.bind(${port},'127.0.0.1',()=>process.stdout.write('ready\\n'));process.stdin.on('end',()=>{process.stdout.write(n+'\\n');process.exit(0)});process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    port,
    stop: async () => {
      // Let the last datagrams land before asking for the count.
      await new Promise((resolve) => setTimeout(resolve, 200));
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
      return Number(output.trim().split('\n').at(-1));
    },
  };
}

async function benchRig(): Promise<RigConfig> {
  const demo = await loadRig();
  const port = await freePort();
  // Limits high and cooldowns off: this measures the pipeline, not the limiter saying no.
  return RigSchema.parse({
    ...demo,
    // The tap is the receiving end (the converter's place), as the UDP floor's receiver is.
    osc: { host: '127.0.0.1', port, tapPort: port },
    limiter: { userRate: 1e9, userBurst: 1e9, globalRate: 1e9, globalBurst: 1e9 },
    variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
  });
}

async function measure(redisUrl: string | null): Promise<Record<string, unknown>> {
  const rig = await benchRig();
  const pipeline: ChatPipeline = await createPipeline(rig, { namespace: `bench-${process.pid}-${redisUrl ? 'redis' : 'memory'}`, redisUrl });

  // Latency: one message at a time, each awaited on the tap, like the UDP floor.
  const stages = Object.fromEntries(STAGES.map((stage) => [stage, newHistogram()]));
  let onTap: ((ns: number) => void) | undefined;
  pipeline.onDidTap((ns) => onTap?.(ns));
  for (let index = 0; index < LATENCY_SAMPLES + 500; index++) {
    const tapped = new Promise<number>((resolve) => (onTap = resolve));
    const outcome = await pipeline.process(message(index));
    const tapNs = await tapped;
    if (index < 500 || outcome.status !== 'accepted') continue;
    for (const [stage, value] of Object.entries(outcome.timings)) if (value !== undefined) stages[stage]!.recordValue(Math.max(1, value));
    stages['tap']!.recordValue(tapNs);
  }
  onTap = undefined;

  // Throughput: a second pipeline without the tap sends to a converter stand-in in another
  // process (as the converter is another device), with a bounded number of messages in flight.
  // Every 1,024 messages the loop yields, as a bot reading chat from sockets would.
  const sink = await startUdpSink();
  const throughputPipeline = await createPipeline(
    RigSchema.parse({ ...rig, osc: { host: '127.0.0.1', port: sink.port } }),
    { namespace: `bench-${process.pid}-${redisUrl ? 'redis' : 'memory'}-throughput`, redisUrl, tap: false },
  );
  let accepted = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < MESSAGES) {
        const index = next++;
        if (index % 1024 === 0) await new Promise((resolve) => setImmediate(resolve));
        const outcome = await throughputPipeline.process(message(index));
        if (outcome.status === 'accepted') accepted++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const throughputCounters = throughputPipeline.counters();
  await throughputPipeline.close();
  const received = await sink.stop();
  const counters = pipeline.counters();
  await pipeline.close();
  return {
    throughputPerSecond: Math.round(MESSAGES / seconds),
    accepted,
    receivedByConverter: received,
    limiterFallbacks: counters.limiterFallbacks + throughputCounters.limiterFallbacks,
    stagesUs: Object.fromEntries(Object.entries(stages).filter(([, histogram]) => histogram.totalCount > 0).map(([stage, histogram]) => [stage, summary(histogram)])),
  };
}

const udp = await udpFloor(LATENCY_SAMPLES);
const roundTrip = await redisFloor(LATENCY_SAMPLES);
const memory = await measure(null);
const redis = await measure(REDIS_URL);
const tapP50 = (result: Record<string, unknown>): number => (result['stagesUs'] as Record<string, { p50: number }>)['tap']!.p50;
const udpP50 = us(udp.getValueAtPercentile(50));
const rttP50 = us(roundTrip.getValueAtPercentile(50));
const ratios = {
  memoryE2eTapP50VsUdpFloor: Math.round((tapP50(memory) / udpP50) * 100) / 100,
  redisE2eTapP50VsUdpPlusRoundTrip: Math.round((tapP50(redis) / (udpP50 + rttP50)) * 100) / 100,
};
console.log(
  JSON.stringify({
    bench: 'pipeline',
    messages: MESSAGES,
    latencySamples: LATENCY_SAMPLES,
    unit: 'µs',
    floors: { udpSendReceive: summary(udp), redisRoundTrip: summary(roundTrip) },
    memory,
    redis,
    ratios,
    targets: {
      memoryE2eP50Within1_5xUdp: ratios.memoryE2eTapP50VsUdpFloor <= 1.5,
      memoryAtLeast100kPerSecond: (memory['throughputPerSecond'] as number) >= 100_000,
      redisE2eP50Within1_3xUdpPlusRtt: ratios.redisE2eTapP50VsUdpPlusRoundTrip <= 1.3,
      redisAtLeast30kPerSecond: (redis['throughputPerSecond'] as number) >= 30_000,
    },
  }),
);
process.exit(0);

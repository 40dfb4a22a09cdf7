// Load-lab benchmark: `sustained` (1000 viewers, 5,000 msg/s, 20 s) on the demo rig with the
// memory store and with Redis, then the generator's own ceiling against a pipeline that does
// nothing (the highest rate whose schedule slip p99 stays under 1 ms), then a replay of a
// one-hour chat log at speed 60 against the same pipeline (each second's count against the
// log's, scaled; slip at up to 20,000 msg/s). Prints ONE JSON line.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunFrame } from '../src/shared/run';
import type { RigConfig } from '../src/shared/rig';
import type { RunSummary } from '../src/shared/run';
import { ScenarioSchema, type ScenarioInput } from '../src/shared/scenario';
import { histogramBackend } from '../src/main/lab/common/create-histogram';
import { RunController } from '../src/main/lab/run/run-controller';
import { loadScenario } from '../src/main/lab/files/scenario-file';
import { loadRig } from '../src/main/lab/files/rig-file';
import { freePort } from '../test/setup/services';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 20);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const ms = (ns: number | undefined): number | null => (ns === undefined ? null : Math.round(ns / 1e3) / 1e3);

async function run(scenario: ScenarioInput, rig: RigConfig, controller = new RunController()): Promise<RunSummary> {
  await controller.start({ scenario, rig });
  const summary = await controller.finished();
  if (!summary) throw new Error('the run ended without a summary');
  return summary;
}

function figures(summary: RunSummary): Record<string, unknown> {
  return {
    sent: summary.sent,
    accepted: summary.outcomes.accepted,
    rejected: summary.outcomes.rejected,
    failed: summary.outcomes.failed,
    unaccounted: summary.unaccounted,
    throughputPerSecond: Math.round(summary.throughput),
    e2eSamples: summary.stages.e2e?.count ?? 0,
    e2eP50Ms: ms(summary.stages.e2e?.p50),
    e2eP99Ms: ms(summary.stages.e2e?.p99),
    e2eMaxMs: ms(summary.stages.e2e?.max),
    slipP99Ms: ms(summary.stages.slip?.p99),
    lateStarts: summary.slip.late,
    cpuPercentMean: Math.round(summary.resources.cpuPercentMean),
    rssMaxMiB: Math.round(summary.resources.rssMaxBytes / 1024 / 1024),
    eventLoopDelayP99Ms: ms(summary.resources.eventLoopDelayP99),
    hostEventLoopDelayP99Ms: ms(summary.resources.hostEventLoopDelayP99),
  };
}

const demo = await loadRig();
const rig = async (): Promise<RigConfig> => ({ ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() } });
const sustained = await loadScenario('resources/scenarios/sustained.json');
const sustainedInput = { ...sustained, executor: { type: 'constant-arrival-rate' as const, rate: 5000, duration: seconds * 1000 }, traffic: { ...sustained.traffic, users: 1000 } };

const loadBefore = loadavg()[0];
const memory = await run(sustainedInput, await rig());
const redis = await run(sustainedInput, { ...(await rig()), redisUrl });
const ceiling = await run(
  ScenarioSchema.parse({
    name: 'generator-ceiling',
    executor: { type: 'constant-arrival-rate', rate: 5000, duration: '40s' },
    traffic: { users: 1000 },
    capacitySearch: { startRate: 5000, stepRate: 5000, maxRate: 100_000, stepDuration: '2s' },
    thresholds: { 'slip.p99': '<1ms' },
    seed: 1,
  }),
  await rig(),
  new RunController({ pipelineModule: new URL('./no-op-pipeline.ts', import.meta.url).href }),
);

// A one-hour log: about 100 messages a second, with a 120 s raid at 333/s every ten minutes
// (20,000 msg/s once played at speed 60). Messages of a second spread over it as chat does.
const LOG_SECONDS = Number(process.env['BENCH_REPLAY_LOG_SECONDS'] ?? 3600);
const SPEED = 60;
const logRate = (second: number): number => (second % 600 >= 300 && second % 600 < 420 ? 333 : 80 + Math.round(40 * Math.sin(second / 37) ** 2));
const folder = mkdtempSync(join(tmpdir(), 'cvlab-bench-replay-'));
const logPath = join(folder, 'one-hour.jsonl');
const expectedPerRunSecond: number[] = [];
{
  const out = createWriteStream(logPath);
  for (let second = 0; second < LOG_SECONDS; second++) {
    const count = logRate(second);
    let chunk = '';
    for (let index = 0; index < count; index++) {
      const t = second + index / count;
      const runSecond = Math.floor(t / SPEED);
      expectedPerRunSecond[runSecond] = (expectedPerRunSecond[runSecond] ?? 0) + 1;
      chunk += `{"t":${t.toFixed(4)},"user":"viewer_${(second * 31 + index) % 20_000}","text":"${index % 4 === 0 ? `hue=${(index % 100) / 100}` : 'what a colour'}"}\n`;
    }
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
const replayController = new RunController({ pipelineModule: new URL('./no-op-pipeline.ts', import.meta.url).href });
const replayFrames: RunFrame[] = [];
replayController.onDidRunFrame((frame) => replayFrames.push(frame));
const replay = await run(ScenarioSchema.parse({ name: 'replay-one-hour', executor: { type: 'replay', file: logPath, speed: SPEED }, seed: 1 }), await rig(), replayController);
rmSync(folder, { recursive: true, force: true });
// Frames fall on the run's 100 ms grid: ten make a second of the run.
const framesPerSecond = Math.round(1000 / (replay.run.intervalMs || 100));
const measuredPerRunSecond: number[] = [];
for (const frame of replayFrames) {
  const second = Math.floor(frame.sequence / framesPerSecond);
  measuredPerRunSecond[second] = (measuredPerRunSecond[second] ?? 0) + frame.sent;
}
const deviations = expectedPerRunSecond.map((expected, second) => Math.abs((measuredPerRunSecond[second] ?? 0) - expected) / expected);
const worstDeviation = Math.max(...deviations);
const peakPerSecond = Math.max(...expectedPerRunSecond);

const memoryP99 = memory.stages.e2e?.p99 ?? Number.NaN;
const redisP99 = redis.stages.e2e?.p99 ?? Number.NaN;
console.log(
  JSON.stringify({
    bench: 'load',
    scenario: 'sustained',
    users: 1000,
    rate: 5000,
    seconds,
    histograms: histogramBackend(),
    memory: figures(memory),
    redis: figures(redis),
    generatorCeiling: {
      slipP99LimitMs: 1,
      kneePerSecond: ceiling.capacity?.knee ?? null,
      brokeAtPerSecond: ceiling.capacity?.brokeAt ?? null,
      steps: ceiling.capacity?.steps.map((step) => ({ rate: step.rate, achieved: Math.round(step.achievedPerSecond), slipP99Ms: ms(step.slipP99), held: step.passed })),
    },
    replay: {
      logSeconds: LOG_SECONDS,
      speed: SPEED,
      messages: replay.sent,
      planned: replay.run.plannedMessages,
      unaccounted: replay.unaccounted,
      peakPerSecond,
      slipP99Ms: ms(replay.stages.slip?.p99),
      slipMaxMs: ms(replay.stages.slip?.max),
      lateStarts: replay.slip.late,
      secondsCompared: expectedPerRunSecond.length,
      secondsWithin2Percent: deviations.filter((deviation) => deviation <= 0.02).length,
      worstSecondDeviationPercent: Math.round(worstDeviation * 10_000) / 100,
      engineEventLoopDelayP99Ms: ms(replay.resources.eventLoopDelayP99),
    },
    ratios: {
      redisOverMemoryE2eP99: Math.round((redisP99 / memoryP99) * 100) / 100,
      ceilingOverTargetRate: ceiling.capacity?.knee !== undefined ? ceiling.capacity.knee / 5000 : null,
    },
    targets: {
      memoryE2eP99Under1ms: memoryP99 < 1e6,
      redisE2eP99Under2ms: redisP99 < 2e6,
      slipP99Under0_5ms: Math.max(memory.stages.slip?.p99 ?? Infinity, redis.stages.slip?.p99 ?? Infinity) < 0.5e6,
      zeroUnaccounted: memory.unaccounted === 0 && redis.unaccounted === 0,
      replayEverySecondWithin2Percent: worstDeviation <= 0.02 && replay.sent === replay.run.plannedMessages,
      replaySlipP99Under1msAt20kPerSecond: peakPerSecond >= 19_000 && (replay.stages.slip?.p99 ?? Infinity) < 1e6,
    },
    machine: { cpus: cpus().length, loadAverage1mBefore: Math.round((loadBefore ?? 0) * 100) / 100, loadAverage1mAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100, node: process.version },
  }),
);

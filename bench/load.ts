// Load-lab benchmark: `sustained` (1000 viewers, 5,000 msg/s, 20 s) on the demo rig with the
// memory store and with Redis, then the generator's own ceiling against a pipeline that does
// nothing (the highest rate whose schedule slip p99 stays under 1 ms). Prints ONE JSON line.
import { cpus, loadavg } from 'node:os';
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
    ratios: {
      redisOverMemoryE2eP99: Math.round((redisP99 / memoryP99) * 100) / 100,
      ceilingOverTargetRate: ceiling.capacity?.knee !== undefined ? ceiling.capacity.knee / 5000 : null,
    },
    targets: {
      memoryE2eP99Under1ms: memoryP99 < 1e6,
      redisE2eP99Under2ms: redisP99 < 2e6,
      slipP99Under0_5ms: Math.max(memory.stages.slip?.p99 ?? Infinity, redis.stages.slip?.p99 ?? Infinity) < 0.5e6,
      zeroUnaccounted: memory.unaccounted === 0 && redis.unaccounted === 0,
    },
    machine: { cpus: cpus().length, loadAverage1mBefore: Math.round((loadBefore ?? 0) * 100) / 100, loadAverage1mAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100, node: process.version },
  }),
);

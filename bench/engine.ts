// Engine-thread benchmark (issue 10). Prints ONE JSON line:
// 1. `sustained` at 5,000 msg/s (memory store) with the engine in its worker thread: the engine
//    thread's event-loop delay p99 beside the host thread's, and the same run with the engine on
//    the host thread (the baseline measured in this same process) for the ratio;
// 2. `cvlab run burst` ten times in a row, saved (PostgreSQL with the audit log unless
//    BENCH_STORE=pglite), each run's e2e p99 read from its --json summary.
// Targets: engine-thread loop delay p99 < 1 ms at 5,000 msg/s; burst e2e p99 < 2 ms in 10 of 10.
// Needs the build (`npx electron-vite build`) for part 2.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RigConfig } from '../src/shared/rig';
import type { RunSummary } from '../src/shared/run';
import { RunController } from '../src/main/lab/run/run-controller';
import { loadScenario } from '../src/main/lab/files/scenario-file';
import { histogramBackend } from '../src/main/lab/common/create-histogram';
import { createPipeline } from '../src/main/lab/engine/pipeline/chat-pipeline';
import { loadRig } from '../src/main/lab/files/rig-file';
import { freePort } from '../test/setup/services';
import { threadId } from 'node:worker_threads';
import { RunService } from '../src/main/lab/session/run-service';
import { ScenarioSchema, type ScenarioInput } from '../src/shared/scenario';
import { InstanceAgent } from '../src/main/lab/multi/instance-agent';
import { runMultiInstance } from '../src/main/lab/multi/multi-instance-run';

const ROOT = join(import.meta.dirname, '..');
const seconds = Number(process.env['BENCH_SECONDS'] ?? 20);
const burstRuns = Number(process.env['BENCH_BURST_RUNS'] ?? 10);
const store = process.env['BENCH_STORE'] ?? 'postgres';
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const ms = (ns: number | undefined): number | null => (ns === undefined ? null : Math.round(ns / 1e3) / 1e3);
const round = (value: number): number => Math.round(value * 100) / 100;

const demo = await loadRig();
const rig = async (): Promise<RigConfig> => ({ ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() } });

async function sustained(controller: RunController): Promise<RunSummary> {
  const scenario = await loadScenario('resources/scenarios/sustained.json');
  await controller.start({ scenario: { ...scenario, executor: { type: 'constant-arrival-rate', rate: 5000, duration: seconds * 1000 }, traffic: { ...scenario.traffic, users: 1000 } }, rig: await rig() });
  const summary = await controller.finished();
  if (!summary) throw new Error('the run ended without a summary');
  return summary;
}

function figures(summary: RunSummary): Record<string, unknown> {
  return {
    engineThreadId: summary.run.engineThreadId ?? null,
    sent: summary.sent,
    unaccounted: summary.unaccounted,
    engineLoopDelayP99Ms: ms(summary.resources.eventLoopDelayP99),
    engineLoopDelayMaxMs: ms(summary.resources.eventLoopDelayMax),
    hostLoopDelayP99Ms: ms(summary.resources.hostEventLoopDelayP99),
    hostLoopDelayMaxMs: ms(summary.resources.hostEventLoopDelayMax),
    e2eP50Ms: ms(summary.stages.e2e?.p50),
    e2eP99Ms: ms(summary.stages.e2e?.p99),
    tapP99Ms: ms(summary.stages.tap?.p99),
    slipP99Ms: ms(summary.stages.slip?.p99),
    cpuPercentMean: Math.round(summary.resources.cpuPercentMean),
  };
}

/** `cvlab run burst` as a user runs it, saved; its e2e p99 from the JSON summary. */
async function burst(folder: string, index: number): Promise<{ e2eP99Ms: number | null; sent: number; passed: boolean }> {
  const rigFile = join(folder, `rig-${index}.json`);
  writeFileSync(rigFile, JSON.stringify(await rig()));
  const jsonFile = join(folder, `burst-${index}.json`);
  const storeFlags = store === 'pglite' ? ['--data-dir', join(folder, 'db')] : ['--database-url', databaseUrl];
  await new Promise<void>((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'cvlab.js'), 'run', 'resources/scenarios/burst.json', '--rig', rigFile, '--json', jsonFile, ...storeFlags], { cwd: ROOT }, () => resolve());
  });
  if (!existsSync(jsonFile)) return { e2eP99Ms: null, sent: 0, passed: false };
  const summary = JSON.parse(readFileSync(jsonFile, 'utf8')) as RunSummary;
  return { e2eP99Ms: ms(summary.stages.e2e?.p99), sent: summary.sent, passed: summary.passed };
}

const loadBefore = loadavg()[0] ?? 0;
// The baseline first: the same run with the engine on the host's thread (a factory function
// keeps it there), before the first engine thread lowers the host thread's priority for good.
const onHost = await sustained(new RunController({ createPipeline }));
const inWorker = await sustained(new RunController());

const folder = mkdtempSync(join(tmpdir(), 'cvlab-bench-engine-'));
const bursts: Awaited<ReturnType<typeof burst>>[] = [];
try {
  if (!existsSync(join(ROOT, 'out', 'main', 'engine-worker.js'))) throw new Error('cvlab is not built: run `npx electron-vite build` first');
  for (let index = 0; index < burstRuns; index++) bursts.push(await burst(folder, index));
} finally {
  rmSync(folder, { recursive: true, force: true });
}

/** Each run kind through the engine session, as every host starts it: which thread its engine ran on. */
async function engineThreadOf(scenario: ScenarioInput): Promise<number | null> {
  const service = new RunService({ stores: null, warmUpMessages: 0, log: () => undefined });
  try {
    await service.start({ scenario, rig: await rig() });
    const outcome = await service.finished();
    return outcome?.summary.run.engineThreadId ?? null;
  } finally {
    await service.dispose();
  }
}
const brief = { type: 'constant-arrival-rate', rate: 50, duration: '1s' } as const;
/**
 * An instance agent's engine thread: the agent runs here (as `cvlab agent` runs in a process of
 * its own), so its host thread is this process's main thread.
 */
async function agentEngineThread(): Promise<number | null> {
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  // Its own run only: another run announced on the same Redis is not the bench's.
  const runId = `bench-kind-agent-${process.pid}`;
  const agent = await InstanceAgent.start({ redisUrl, agentId: `bench-agent-${process.pid}`, runId, once: true });
  try {
    const scenario = ScenarioSchema.parse({ name: 'kind-agent', executor: brief, multiInstance: { instances: 1, localInstances: 0 } });
    await runMultiInstance({ scenario, rig: { ...(await rig()), redisUrl }, runId });
    await agent.done();
    return agent.runs()[0]?.run.engineThreadId ?? null;
  } finally {
    await agent.close();
  }
}
const websocketScaling = JSON.parse(readFileSync(join(ROOT, 'resources', 'scenarios', 'websocket-scaling.json'), 'utf8')) as ScenarioInput;
const kinds = {
  hostThreadId: threadId,
  pipeline: await engineThreadOf({ name: 'kind-pipeline', executor: brief }),
  blackBox: await engineThreadOf({ name: 'kind-bot', executor: brief, target: { kind: 'bot', command: 'node examples/tmi-bot/bot.js', chatPort: 0, joinTimeout: '30s' } }),
  fanout: await engineThreadOf({ ...websocketScaling, name: 'kind-fanout', executor: brief }),
  multiInstanceAgent: await agentEngineThread(),
};

const burstP99s = bursts.map((run) => run.e2eP99Ms);
const workerLoopP99 = inWorker.resources.eventLoopDelayP99;
console.log(
  JSON.stringify({
    bench: 'engine',
    rate: 5000,
    seconds,
    histograms: histogramBackend(),
    engineThread: figures(inWorker),
    engineOnHostThread: figures(onHost),
    engineThreadByKind: kinds,
    burst: {
      runs: bursts.length,
      store: store === 'pglite' ? 'pglite' : 'postgres+audit',
      e2eP99Ms: burstP99s,
      under2ms: burstP99s.filter((p99) => p99 !== null && p99 < 2).length,
      worstMs: Math.max(...burstP99s.map((p99) => p99 ?? Infinity)),
    },
    ratios: {
      onHostOverEngineThreadLoopP99: workerLoopP99 > 0 ? round(onHost.resources.eventLoopDelayP99 / workerLoopP99) : null,
      onHostOverEngineThreadE2eP99: round((onHost.stages.e2e?.p99 ?? Number.NaN) / (inWorker.stages.e2e?.p99 ?? Number.NaN)),
    },
    targets: {
      engineLoopP99Under1ms: workerLoopP99 < 1e6,
      burstE2eP99Under2msAllRuns: bursts.length > 0 && bursts.every((run) => run.e2eP99Ms !== null && run.e2eP99Ms < 2),
      zeroUnaccounted: inWorker.unaccounted === 0 && onHost.unaccounted === 0,
      everyKindOffTheHostThread: [kinds.pipeline, kinds.blackBox, kinds.fanout, kinds.multiInstanceAgent].every((id) => id !== null && id !== kinds.hostThreadId),
    },
    machine: { cpus: cpus().length, loadAverage1mBefore: round(loadBefore), loadAverage1mAfter: round(loadavg()[0] ?? 0), node: process.version },
  }),
);

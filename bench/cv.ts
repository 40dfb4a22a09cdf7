// Chat → CV benchmark. Prints ONE JSON line.
// The probe emulator (a process of its own, native USB with 1 ms polling jitter both ways, its
// clock an hour off and drifting +100 ppm) plays the converter at a known delay; cvlab's own
// pipeline runs 1,000 viewers at 5,000 msg/s while the probe viewers move the test variable.
// Each matched edge is set beside the emulator's ground truth (the moment its CV really crossed,
// on the same monotonic clock): the `cv` (due → edge) and `oscToCv` (datagram → edge) p50 must be
// within 100 µs of the truth's p50. The machine's load is printed: figures taken on a busy
// machine say little.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatToCvProbe } from '../src/main/lab/loopback/chat-to-cv-probe';
import { EmulatorChild } from '../src/main/lab/loopback/emulator-child';
import { LoopbackSession } from '../src/main/lab/loopback/loopback-session';
import type { CvEdgeMatch, CvProbe } from '../src/main/lab/run/cv-probe';
import { RunController } from '../src/main/lab/run/run-controller';
import { RigSchema } from '../src/shared/rig';
import { ScenarioSchema } from '../src/shared/scenario';
import { freePort } from '../test/setup/services';

const SECONDS = Number(process.env['CV_BENCH_SECONDS'] ?? 20);
const RATE = 5000;
const USERS = 1000;
const PROBE_HZ = 5;
const DELAY_MS = 2;
const TARGET_US = 100;

const round = (value: number): number => Math.round(value * 10) / 10;
const msOf = (ns: number | undefined): number => (ns === undefined ? Number.NaN : Math.round(ns / 1e4) / 100);
function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

const folder = mkdtempSync(join(tmpdir(), 'cvlab-bench-cv-'));
const oscPort = await freePort();
const emulator = await EmulatorChild.start({ oscPort, address: '/lzx/proc/invert', link: join(folder, 'probe'), delayMs: DELAY_MS, serialJitterMs: 1, clockOffsetS: 3600, driftPpm: 100 });
const demo = JSON.parse(readFileSync(new URL('../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown>;
// The demo rig on this bench's own port, no tap; its global cap above the load's accepted changes.
const rig = RigSchema.parse({ ...demo, name: 'bench-cv', osc: { host: '127.0.0.1', port: oscPort }, limiter: { userRate: 2, userBurst: 5, globalRate: 20_000, globalBurst: 2000 } });
const scenario = ScenarioSchema.parse({
  name: 'bench-cv',
  executor: { type: 'constant-arrival-rate', rate: RATE, duration: `${SECONDS}s` },
  traffic: { users: USERS, userSkew: 0.8, variableSkew: 0.8 },
  probe: { rateHz: PROBE_HZ },
  seed: 42,
});

const session = new LoopbackSession({ rig, path: emulator.hostPath, autoReconnect: false });
let line: Record<string, unknown>;
try {
  await session.connect();
  // The run's probe, with the final matches kept for the comparison with the truth.
  const inner = new ChatToCvProbe(session, rig);
  let finalMatches: CvEdgeMatch[] = [];
  const probe: CvProbe = {
    variable: inner.variable,
    watch: async (load) => {
      const watch = await inner.watch(load);
      return {
        ...watch,
        finish: async () => {
          const finished = await watch.finish();
          finalMatches = finished.matches;
          return finished;
        },
      };
    },
  };
  const controller = new RunController({ warmUpMessages: 2000 });
  const finished = new Promise<import('../src/shared/run').RunSummary>((resolve) => controller.onDidFinishRun(resolve));
  await controller.start({ scenario, rig }, { probe });
  const summary = await finished;
  await new Promise((resolve) => setTimeout(resolve, 200)); // the last truths over the pipe
  // Each match beside the truth of its edge: the emulator's crossing nearest the mapped edge (edges are 200 ms apart).
  const truths = emulator.truths.map((truth) => ({ edgeNs: truth.edgeUs * 1000, oscReceivedNs: truth.oscReceivedUs * 1000 }));
  const cvTrue: number[] = [];
  const cvMeasured: number[] = [];
  const oscTrue: number[] = [];
  const oscMeasured: number[] = [];
  const clockErrors: number[] = [];
  for (const match of finalMatches) {
    const truth = truths.reduce((best, candidate) => (Math.abs(candidate.edgeNs - match.edgeNs) < Math.abs(best.edgeNs - match.edgeNs) ? candidate : best), truths[0] ?? { edgeNs: Number.NaN, oscReceivedNs: Number.NaN });
    if (!(Math.abs(truth.edgeNs - match.edgeNs) < 50e6)) continue;
    cvTrue.push(truth.edgeNs - match.dueNs);
    cvMeasured.push(match.edgeNs - match.dueNs);
    clockErrors.push(Math.abs(match.edgeNs - truth.edgeNs) / 1000);
    if (match.oscNs !== undefined) {
      oscTrue.push(truth.edgeNs - match.oscNs);
      oscMeasured.push(match.edgeNs - match.oscNs);
    }
  }
  const cvOffUs = Math.abs(median(cvMeasured) - median(cvTrue)) / 1000;
  const oscOffUs = Math.abs(median(oscMeasured) - median(oscTrue)) / 1000;
  const cv = summary.chatToCv;
  line = {
    bench: 'cv',
    loadAverage: loadavg().map(round),
    link: 'usb-1ms-jitter',
    converterDelayMs: DELAY_MS,
    load: { ratePerSecond: RATE, users: USERS, seconds: SECONDS, sent: summary.sent, e2eP99Ms: msOf(summary.stages.e2e?.p99), slipP99Ms: msOf(summary.stages.slip?.p99) },
    probe: { rateHz: PROBE_HZ, sent: cv?.sent, matched: cv?.matched, missed: cv?.missed, unexplained: cv?.unexplained, notPassedOn: cv?.notPassedOn, withTruth: cvTrue.length, clockBoundUs: round(cv?.clock?.boundUs ?? Number.NaN) },
    cv: { measuredP50Us: round(median(cvMeasured) / 1000), truthP50Us: round(median(cvTrue) / 1000), offUs: round(cvOffUs) },
    oscToCv: { measuredP50Us: round(median(oscMeasured) / 1000), truthP50Us: round(median(oscTrue) / 1000), offUs: round(oscOffUs) },
    clockErrorP50Us: round(median(clockErrors)),
    targets: { offUs: TARGET_US, met: cvOffUs <= TARGET_US && oscOffUs <= TARGET_US && cvTrue.length > 0 },
  };
} finally {
  await session.close();
  await emulator.close();
  rmSync(folder, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(line)}\n`);

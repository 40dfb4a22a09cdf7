// Loop-back accuracy on the links probes really have: clock-model error against the emulator's
// ground truth (and the host-arrival figure beside it), for native USB with 1 ms of polling
// jitter both ways, a UART behind a USB bridge at 115200 baud (alone, and with USB jitter and a
// probe taking up to 0.5 ms to reply), and 57,600 baud; each with the probe clock an hour off
// and drifting +100 and −100 ppm. The emulator runs in its own process; prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatorChild } from '../src/main/lab/loopback/emulator-child';
import { LoopbackSession } from '../src/main/lab/loopback/loopback-session';
import { RigSchema } from '../src/shared/rig';
import { freePort } from '../test/setup/services';

const EDGES = Number(process.env['LOOPBACK_BENCH_EDGES'] ?? 200);
const RATE_HZ = 20;
const DELAY_MS = 2;
const CLOCK_OFFSET_S = 3600;
const DRIFTS_PPM = [100, -100];
const LINKS = [
  { link: 'usb-1ms-jitter', serialJitterMs: 1 },
  { link: 'uart-115200', baud: 115200 },
  { link: 'uart-115200-usb-1ms-busy-probe', baud: 115200, serialJitterMs: 1, replyDelayMs: 0.5 },
  { link: 'uart-57600', baud: 57600 },
] as const;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

const round = (value: number): number => Math.round(value * 10) / 10;

const folder = mkdtempSync(join(tmpdir(), 'cvlab-bench-loopback-'));
const rows = [];
try {
  for (const [index, { link, ...linkOptions }] of LINKS.flatMap((model) => DRIFTS_PPM.map((driftPpm) => [model, driftPpm] as const)).map(([model, driftPpm], index) => [index, { ...model, driftPpm }] as const)) {
    const oscPort = await freePort();
    const emulator = await EmulatorChild.start({ oscPort, address: '/lzx/proc/invert', link: join(folder, `probe-${index}`), delayMs: DELAY_MS, clockOffsetS: CLOCK_OFFSET_S, ...linkOptions });
    const rig = RigSchema.parse({
      name: 'bench',
      osc: { host: '127.0.0.1', port: oscPort },
      variables: [{ name: 'invert', address: '/lzx/proc/invert', kind: 'bool', out: { min: 0, max: 1, unit: 'V' }, test: true }],
    });
    // The host opens a UART bridge at the probe's baud, so it knows the wire's speed.
    const session = new LoopbackSession({ rig, path: emulator.hostPath, autoReconnect: false, baudRate: 'baud' in linkOptions ? linkOptions.baud : 115200 });
    try {
      await session.connect();
      const result = await session.run({ edges: EDGES, rateHz: RATE_HZ });
      await new Promise((resolve) => setTimeout(resolve, 100)); // last truths over the pipe
      const truthByStamp = new Map(emulator.truths.map((truth) => [truth.probeUs, truth]));
      const clockErrors: number[] = [];
      const arrivalErrors: number[] = [];
      const measured: number[] = [];
      for (const edge of result.edges) {
        const truth = edge.probeUs === null ? undefined : truthByStamp.get(edge.probeUs);
        if (!truth || edge.latencyUs === null || edge.arrivalLatencyUs === null) continue;
        const trueLatency = truth.edgeUs - (result.epochHostUs + edge.sentUs);
        clockErrors.push(edge.latencyUs - trueLatency);
        arrivalErrors.push(edge.arrivalLatencyUs - trueLatency);
        measured.push(edge.latencyUs);
      }
      const absClock = clockErrors.map(Math.abs);
      const absArrival = arrivalErrors.map(Math.abs);
      rows.push({
        link,
        driftPpm: linkOptions.driftPpm,
        edges: clockErrors.length,
        misses: result.misses,
        spurious: result.spurious,
        measuredP50Ms: Math.round(percentile(measured, 0.5) / 10) / 100,
        // Signed median: a one-sided error (one leg of the link slower) shows here, not in |error|.
        clockBiasP50Us: round(percentile(clockErrors, 0.5)),
        clockErrorP50Us: round(percentile(absClock, 0.5)),
        clockErrorP99Us: round(percentile(absClock, 0.99)),
        arrivalErrorP50Us: round(percentile(absArrival, 0.5)),
        arrivalErrorP99Us: round(percentile(absArrival, 0.99)),
        arrivalOverClockP50: round(percentile(absArrival, 0.5) / Math.max(1, percentile(absClock, 0.5))),
        fit: { driftPpm: round(result.clock?.driftPpm ?? Number.NaN), residualUs: round(result.clock?.residualUs ?? Number.NaN), boundUs: round(result.clock?.boundUs ?? Number.NaN), linkFit: result.clock?.linkFit, kept: `${result.clock?.kept}/${result.clock?.samples}` },
        withinTarget: percentile(absClock, 0.5) <= 50 && percentile(absClock, 0.99) <= 150,
      });
    } finally {
      await session.close();
      await emulator.close();
    }
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
const worstP50 = Math.max(...rows.map((row) => row.clockErrorP50Us));
const worstP99 = Math.max(...rows.map((row) => row.clockErrorP99Us));
process.stdout.write(
  `${JSON.stringify({
    bench: 'loopback',
    delayMs: DELAY_MS,
    clockOffsetS: CLOCK_OFFSET_S,
    edgesPerRow: EDGES,
    loadAverage: loadavg().map((value) => round(value)),
    rateHz: RATE_HZ,
    rows,
    targets: { clockErrorP50Us: 50, clockErrorP99Us: 150, metP50: worstP50 <= 50, metP99: worstP99 <= 150 },
  })}\n`,
);

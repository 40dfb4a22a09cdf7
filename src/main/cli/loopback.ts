import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadRig } from '../lab/files/rig-file';
import { storeOptions, type StoreFlags } from './report';
import type { LatencyStats, LoopbackResult } from '../../shared/loopback';
import { measureLoopback, probeTestVariable, saveLoopbackFromCommandLine, startProbeEmulator, usbLatencyTimerFix, USB_LATENCY_TIMER_LIMIT_MS } from '../lab/probe-commands';
import { EXIT_CODES } from '../../shared/exit-codes';
import { ValidationError } from '../../shared/format-issues';
import { listExitCodes } from './exit-status';
import { onStopRequest } from './on-stop-request';

// `cvlab loopback` (measure through a probe) and `cvlab probe-emulator` (play converter + probe).

function number(name: string, options: { min?: number; integer?: boolean } = {}): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (
      !Number.isFinite(parsed) ||
      (options.integer && !Number.isInteger(parsed)) ||
      (options.min !== undefined && parsed < options.min)
    ) {
      throw new InvalidArgumentError(
        `${name} expects ${options.integer ? 'a whole number' : 'a number'}${options.min !== undefined ? ` ≥ ${options.min}` : ''}, got "${value}"`,
      );
    }
    return parsed;
  };
}

/** Keeps a result in the store (partial results too: nothing measured is lost), the way the console does. */
async function saveResult(result: LoopbackResult, rig: Parameters<typeof saveLoopbackFromCommandLine>[1], options: StoreFlags & { run?: string }): Promise<void> {
  try {
    const saved = await saveLoopbackFromCommandLine(result, rig, {
      databaseUrl: options.databaseUrl,
      defaultDatabaseUrl: options.dataDir ? undefined : process.env['DATABASE_URL'],
      dataDir: options.dataDir,
      runId: options.run ?? null,
    });
    process.stderr.write(`saved as ${saved.id}${saved.runId ? ` with run ${saved.runId}` : ''}\n`);
  } catch (error) {
    process.stderr.write(
      `cvlab loopback: the result could not be saved (${(error as Error).message}); it is printed above${options.run ? '' : ' and in --json when given'}\n`,
    );
  }
}

const us = (value: number): string => `${(value / 1000).toFixed(3)} ms`;

function statsLine(label: string, stats: LatencyStats | null): string {
  if (!stats) return `${label}: no edges measured`;
  return `${label}: p50 ${us(stats.p50Us)}  p95 ${us(stats.p95Us)}  p99 ${us(stats.p99Us)}  max ${us(stats.maxUs)}  jitter (p99−p50) ${us(stats.jitterUs)}  stddev ${us(stats.stddevUs)}  (n=${stats.count})`;
}

/** The link in words: "uart at 115200 baud (from the probe's HELLO)". */
export function describeLink(link: NonNullable<LoopbackResult['link']>): string {
  const source = { rig: "from the rig's serial section", hello: "from the probe's HELLO", assumed: 'assumed: a 1.0 probe does not say' }[link.source];
  return link.kind === 'uart' ? `UART at ${link.baud} baud behind a USB bridge (${source})` : `native USB (${source})`;
}

/** A warning about the USB-serial latency timer, or null when it is fine or unknown. */
export function latencyTimerWarning(path: string, latencyTimerMs: number | null | undefined): string | null {
  if (latencyTimerMs === null || latencyTimerMs === undefined || latencyTimerMs <= USB_LATENCY_TIMER_LIMIT_MS) return null;
  return `the USB-serial adapter on ${path} holds replies for up to ${latencyTimerMs} ms (its latency timer): set it to 1 ms with ${usbLatencyTimerFix(path)}`;
}

/** What the clock-fit verdict means, in a sentence; null when the link fits. */
export function linkFitWarning(clock: NonNullable<LoopbackResult['clock']>, link: LoopbackResult['link']): string | null {
  switch (clock.linkFit) {
    case 'slow-link':
      return `the link's timing does not fit: even the quickest PING took ${us(clock.minRoundTripUs)} where the wire needs ${us(clock.expectedMinRoundTripUs ?? 0)}; something holds the replies (a USB-serial adapter with a 16 ms latency timer does this), so the clock model cannot split the delay between the two directions`;
    case 'faster-than-wire':
      return `replies came back faster than a UART at ${link?.baud ?? '?'} baud can carry them: the probe is probably on native USB or at another baud; set serial.link ("usb") or serial.baud in the rig`;
    case 'loose':
      return `the PING exchanges bound the clock only to ±${us(clock.boundUs)}: the link is slow or very jittery, so edge times carry that much uncertainty`;
    default:
      return null;
  }
}

/** The clock-fit figures in words, for someone who has not read the clock model. */
export function explainClockFit(clock: NonNullable<LoopbackResult['clock']>): string {
  return `${clock.kept} of ${clock.samples} PING exchanges kept (the quickest of each quarter second: slow ones were delayed by the link and would mislead); the kept ones sit ${clock.residualUs.toFixed(1)} µs (rms) from the fitted clock line, and together they pin each edge's time to within ±${clock.boundUs.toFixed(1)} µs`;
}

/** Plain-text summary of a loop-back run, as the CLI prints it. */
export function formatLoopbackResult(result: LoopbackResult): string {
  const lines: string[] = [];
  lines.push(
    `loop-back on ${result.port} → ${result.variable} (${result.address}), threshold ${result.thresholdMv} mV, ${result.options.rateHz} Hz`,
  );
  if (result.probe) lines.push(`probe: firmware ${result.probe.firmware}, ${result.probe.adcBits}-bit ADC`);
  if (result.link) lines.push(`link: ${describeLink(result.link)}`);
  const timer = result.link ? latencyTimerWarning(result.port, result.link.latencyTimerMs) : null;
  if (timer) lines.push(`warning: ${timer}`);
  const clock = result.clock;
  lines.push(
    clock
      ? `clock fit: offset ${(clock.offsetUs / 1e6).toFixed(6)} s, drift ${clock.driftPpm.toFixed(2)} ppm, residual ${clock.residualUs.toFixed(1)} µs, bound ±${clock.boundUs.toFixed(1)} µs, ${clock.kept}/${clock.samples} PINGs kept, min round trip ${us(clock.minRoundTripUs)}`
      : 'clock fit: none (the probe answered no PING)',
  );
  if (clock) lines.push(`  that is: ${explainClockFit(clock)}`);
  const misfit = clock ? linkFitWarning(clock, result.link) : null;
  if (misfit) lines.push(`warning: ${misfit}`);
  lines.push(statsLine('latency (clock model)', result.latency));
  lines.push(statsLine('latency (host arrival)', result.arrivalLatency));
  lines.push(`  note: ${result.arrivalErrorNote}`);
  lines.push(
    `edges: ${result.sent} sent, ${result.matched} matched, ${result.misses} missed, ${result.spurious} spurious`,
  );
  const bad = result.lines;
  lines.push(
    `lines: ${bad.good} good, ${bad.garbage} garbage, ${bad.partial} partial, ${bad.oversized} oversized, ${bad.outOfOrder} out of order`,
  );
  if (result.target) {
    const verdict = result.target.passed === null ? 'NO VERDICT (no edge measured)' : result.target.passed ? 'PASS' : 'FAIL';
    lines.push(`verdict: ${verdict}: p99 ${result.latency ? us(result.latency.p99Us) : '–'} against the ${result.target.latencyMs} ms target`);
  }
  if (result.stopReason) lines.push(`stopped early: ${result.stopReason}`);
  return lines.join('\n');
}

/** Adds `cvlab loopback` and `cvlab probe-emulator` to the command line. */
export function registerLoopbackCommands(program: Command): void {
  const loopback = storeOptions(program.command('loopback'))
    .description('measure OSC → CV latency through the loop-back probe (or the emulator)')
    .option('--serial <path>', "serial port of the probe (default: the rig's serial.path)")
    .option('--baud <rate>', "baud rate (default: the rig's serial.baud, else 115200)", number('--baud', { min: 1, integer: true }))
    .option('--rig <file>', 'rig file (default: the built-in demo rig)')
    .option(
      '--edges <n>',
      'edges to send (rise and fall each count)',
      number('--edges', { min: 2, integer: true }),
      200,
    )
    .option('--rate <hz>', 'square-wave frequency, Hz', number('--rate', { min: 0.01 }), 20)
    .option(
      '--threshold-mv <mV>',
      "probe threshold (default: middle of the test variable's output range)",
      number('--threshold-mv', { integer: true }),
    )
    .option(
      '--timeout-ms <ms>',
      'an edge not seen this long after its send is a miss',
      number('--timeout-ms', { min: 1 }),
      250,
    )
    .option('--json <file>', 'also write the full result as JSON')
    .option('--run <id>', 'keep the result with this saved load run ("latest": the newest), so its report shows it')
    .option('--no-save', 'do not save the result')
    .action(
      async (
        options: StoreFlags & {
          serial?: string;
          baud?: number;
          rig?: string;
          edges: number;
          rate: number;
          thresholdMv?: number;
          timeoutMs: number;
          json?: string;
          run?: string;
          save: boolean;
        },
      ) => {
        const rig = await loadRig(options.rig);
        const result = await measureLoopback({
          rig,
          ...(options.serial ? { path: options.serial } : {}),
          ...(options.baud ? { baudRate: options.baud } : {}),
          run: {
            edges: options.edges,
            rateHz: options.rate,
            timeoutMs: options.timeoutMs,
            ...(options.thresholdMv !== undefined ? { thresholdMv: options.thresholdMv } : {}),
          },
          onConnected: (probe) => {
            process.stderr.write(
              `probe on ${probe.path}: firmware ${probe.firmware}, ${probe.adcBits}-bit ADC, link: ${describeLink(probe.link)}; calibrating and sending ${options.edges} edges…\n`,
            );
            const timer = latencyTimerWarning(probe.path, probe.link.latencyTimerMs);
            if (timer) process.stderr.write(`warning: ${timer}\n`);
          },
          // Stopped early, what was measured is kept and printed (complete: false).
          onStoppable: (stop) => onStopRequest((reason) => stop(reason)),
        });
        process.stdout.write(`${formatLoopbackResult(result)}\n`);
        if (options.json) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
        if (options.save) await saveResult(result, rig, options);
        // A run that did not finish, saw nothing or missed its target did not hold: exit 1.
        if (!result.complete) {
          process.stderr.write(`cvlab loopback: ${result.stopReason}\n`);
          process.exitCode = EXIT_CODES.failed;
        } else if (result.matched === 0) {
          process.stderr.write(
            'cvlab loopback: the probe answered but saw no edge: check the wiring, the threshold and that the converter receives OSC\n',
          );
          process.exitCode = EXIT_CODES.failed;
        } else if (result.target?.passed === false) {
          process.exitCode = EXIT_CODES.failed;
        }
      },
    );

  listExitCodes(loopback, {
    0: 'the probe measured every edge and held the target (serial.latencyTargetMs)',
    1: 'failed: the target was missed, no edge was seen, or the run did not finish (stopped early: the edges measured are kept)',
    3: 'unavailable: the probe never answered (no port at that path, no HELLO, no PONG)',
  });

  const emulator = program
    .command('probe-emulator')
    .description('play the OSC-to-CV converter and the loop-back probe in software, on a pseudo-terminal')
    .option('--rig <file>', 'rig file (its OSC port and test variable; default: the built-in demo rig)')
    .option(
      '--osc-port <port>',
      "UDP port to listen on (default: the rig's osc.port)",
      number('--osc-port', { min: 1, integer: true }),
    )
    .option('--link <path>', 'host-side path of the pseudo-terminal', '/tmp/cvlab-probe')
    .option('--delay-ms <ms>', 'converter delay', number('--delay-ms', { min: 0 }), 2)
    .option('--jitter-ms <ms>', 'converter jitter (uniform, added to the delay)', number('--jitter-ms', { min: 0 }), 0)
    .option('--serial-delay-ms <ms>', 'serial link delay, each way', number('--serial-delay-ms', { min: 0 }), 0)
    .option(
      '--serial-jitter-ms <ms>',
      'serial link jitter, each way (uniform; USB polls about every 1 ms)',
      number('--serial-jitter-ms', { min: 0 }),
      0,
    )
    .option('--baud <rate>', 'play a probe whose UART runs at this baud behind a USB bridge (every line takes bytes × 10 / baud); default: a native-USB probe', number('--baud', { min: 300, integer: true }))
    .option('--reply-delay-ms <ms>', 'longest time the probe takes between reading a PING and starting its PONG (uniform)', number('--reply-delay-ms', { min: 0 }), 0)
    .option('--latency-timer-ms <ms>', "a USB-serial adapter's latency timer: every host-bound line is held this long", number('--latency-timer-ms', { min: 0 }), 0)
    .option('--protocol <version>', 'probe protocol to speak: 1.1 (four-field PONG, link in HELLO) or 1.0 (three-field PONG)', '1.1')
    .option('--clock-offset-s <s>', 'probe clock offset from the host clock', number('--clock-offset-s'), 0)
    .option('--drift-ppm <ppm>', 'probe clock drift', number('--drift-ppm'), 0)
    .option(
      '--threshold-mv <mV>',
      'threshold until the host sends ARM',
      number('--threshold-mv', { integer: true }),
      500,
    )
    .option('--truth <file>', "write each edge's ground truth as JSON lines")
    .action(
      async (options: {
        rig?: string;
        oscPort?: number;
        link: string;
        delayMs: number;
        jitterMs: number;
        serialDelayMs: number;
        serialJitterMs: number;
        baud?: number;
        replyDelayMs: number;
        latencyTimerMs: number;
        protocol: string;
        clockOffsetS: number;
        driftPpm: number;
        thresholdMv: number;
        truth?: string;
      }) => {
        if (options.protocol !== '1.0' && options.protocol !== '1.1') {
          throw new ValidationError('--protocol', [`expected 1.0 or 1.1, got "${options.protocol}"`]);
        }
        const rig = await loadRig(options.rig);
        const variable = probeTestVariable(rig);
        const emulatorOptions = {
          ...(options.baud ? { baud: options.baud } : {}),
          replyDelayMs: options.replyDelayMs,
          latencyTimerMs: options.latencyTimerMs,
          protocol: options.protocol,
          oscPort: options.oscPort ?? rig.osc.port,
          address: variable.address,
          link: options.link,
          delayMs: options.delayMs,
          jitterMs: options.jitterMs,
          serialDelayMs: options.serialDelayMs,
          serialJitterMs: options.serialJitterMs,
          clockOffsetS: options.clockOffsetS,
          driftPpm: options.driftPpm,
          thresholdMv: options.thresholdMv,
          ...(options.truth ? { truthFile: options.truth } : {}),
        } as const;
        // Taken before anything else opens, so a stop request during start-up is not lost.
        let stopRequested: () => void = () => undefined;
        const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
        const stopListening = onStopRequest(() => stopRequested());
        let emulator;
        try {
          emulator = await startProbeEmulator(emulatorOptions);
        } catch (error) {
          stopListening();
          throw error;
        }
        const hostPath = emulator.hostPath;
        const wire = options.baud ? `UART at ${options.baud} baud` : 'native USB';
        process.stdout.write(
          `probe emulator: OSC ${variable.address} on udp ${options.oscPort ?? rig.osc.port}, delay ${options.delayMs} ms, ${wire}, protocol ${options.protocol}; serial port for the host: ${hostPath}\n`,
        );
        process.stdout.write(`run: cvlab loopback --serial ${hostPath}${options.rig ? ` --rig ${options.rig}` : ''}\n`);
        await stopped;
        stopListening();
        await emulator.close();
      },
    );
  listExitCodes(emulator, {
    0: 'stopped (Ctrl-C, SIGTERM, SIGHUP or its parent ending): socat and the pseudo-terminal links are gone',
    3: 'unavailable: its UDP port is taken (another converter or emulator), or socat could not make the pseudo-terminals',
  });
}

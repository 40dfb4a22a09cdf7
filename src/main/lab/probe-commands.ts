import { ServiceUnreachableError } from '../../shared/exit-codes';
import { ValidationError } from '../../shared/format-issues';
import type { LoopbackOptionsInput, LoopbackResult } from '../../shared/loopback';
import type { RigConfig, VariableConfig } from '../../shared/rig';
import { registerEmulator } from './loopback/emulator-registry';
import { saveLoopbackResult } from './loopback/loopback-service';
import { LoopbackSession, testVariable } from './loopback/loopback-session';
import { ProbeEmulator, type ProbeEmulatorOptions } from './loopback/probe-emulator';
import { ProbeError } from './loopback/probe-error';
import { LATENCY_TIMER_LIMIT_MS, latencyTimerFix } from './loopback/usb-latency-timer';
import { RunStores, type RunStoresOptions } from './session/run-stores';

/** The probe as `cvlab loopback` found it, before the edges are sent. */
export interface ProbeConnected {
  readonly path: string;
  readonly firmware: string;
  readonly adcBits: number;
  readonly link: LoopbackSession['link'];
}

/** A USB-serial latency timer above this many ms holds the probe's replies (see usbLatencyTimerFix). */
export const USB_LATENCY_TIMER_LIMIT_MS = LATENCY_TIMER_LIMIT_MS;

/** The command that sets a USB-serial adapter's latency timer to 1 ms. */
export const usbLatencyTimerFix = latencyTimerFix;

/** The rig's test variable (the one the probe watches); a ValidationError naming the rig when it has none. */
export function probeTestVariable(rig: RigConfig): VariableConfig {
  return testVariable(rig);
}

/**
 * One loop-back run from the command line: connects the probe, calibrates, sends the edges and
 * closes. Stopped early (`stop`), what was measured is returned (complete: false). A probe that
 * never answers is a ServiceUnreachableError.
 */
export async function measureLoopback(options: {
  readonly rig: RigConfig;
  readonly path?: string;
  readonly baudRate?: number;
  readonly run: LoopbackOptionsInput;
  /** Told once the probe answered, before the edges go. */
  readonly onConnected?: (probe: ProbeConnected) => void;
  /** Hands the caller a way to stop the run early; returns what undoes its listening. */
  readonly onStoppable?: (stop: (reason: string) => void) => () => void;
}): Promise<LoopbackResult> {
  const { rig } = options;
  testVariable(rig);
  if (!options.path && !rig.serial?.path) {
    throw new ValidationError('Serial port', [
      `rig "${rig.name}" names none (serial.path) and --serial was not given: pass --serial <path> (start an emulator with \`cvlab probe-emulator\`, it prints its path)`,
    ]);
  }
  const session = new LoopbackSession({ rig, ...(options.path ? { path: options.path } : {}), ...(options.baudRate ? { baudRate: options.baudRate } : {}), autoReconnect: false });
  try {
    const hello = await session.connect();
    options.onConnected?.({ path: session.path, firmware: hello.firmware, adcBits: hello.adcBits, link: session.link });
    const stopListening = options.onStoppable?.((reason) => session.stop(reason));
    try {
      return await session.run(options.run);
    } finally {
      stopListening?.();
    }
  } catch (error) {
    // The probe never answered (no port, no HELLO, no PONG): a needed service is unreachable.
    if (error instanceof ProbeError) throw new ServiceUnreachableError(`the loop-back probe on ${session.path}`, error.message);
    throw error;
  } finally {
    await session.close();
  }
}

/** Saves a loop-back result the one way results are saved (LoopbackService's), in the store the flags and the rig name. */
export async function saveLoopbackFromCommandLine(result: LoopbackResult, rig: RigConfig, keep: RunStoresOptions & { readonly runId: string | null }): Promise<{ id: string; runId: string | null }> {
  const stores = RunStores.choose(keep);
  try {
    return await saveLoopbackResult(stores.providerFor(rig), result, { rig: rig.name, runId: keep.runId, startedAtMs: Date.parse(result.startedAt) });
  } finally {
    await stores.close();
  }
}

/** A started probe emulator: its pseudo-terminal's path for the host, and how to stop it. */
export interface RunningEmulator {
  readonly hostPath: string;
  close(): Promise<void>;
}

/** Starts the converter + probe emulator and lists it for the console's port list (a pseudo-terminal is not listed by the OS). */
export async function startProbeEmulator(options: ProbeEmulatorOptions): Promise<RunningEmulator> {
  const probe = new ProbeEmulator(options);
  const { hostPath } = await probe.start();
  const unregister = registerEmulator({ path: hostPath, pid: process.pid, oscPort: options.oscPort, startedAt: new Date().toISOString() });
  process.once('exit', unregister);
  return {
    hostPath,
    close: async () => {
      await probe.close();
      unregister();
    },
  };
}

export type { ProbeEmulatorOptions } from './loopback/probe-emulator';

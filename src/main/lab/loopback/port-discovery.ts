import type { ProbePort } from '../../../shared/loopback';
import { runningEmulators } from './emulator-registry';
import { listProbePorts, ProbeTransport } from './probe-transport';
import { readUsbLatencyTimerMs } from './usb-latency-timer';

// What the port picker offers: the serial ports the operating system lists, plus running
// `cvlab probe-emulator`s (pseudo-terminals are not listed). USB ports and emulators are asked
// HELLO? briefly, so the picker can say which ones are probes; a built-in UART (/dev/ttyS*)
// with nothing on it is never asked, since it would only wait out the timeout.

export interface DiscoverOptions {
  /** Ask each candidate HELLO? and report the probes that answer (default true). */
  identify?: boolean;
  /** Paths not to open (the probe already connected). */
  skip?: readonly string[];
  helloTimeoutMs?: number;
  baudRate?: number;
}

async function identify(path: string, helloTimeoutMs: number, baudRate: number): Promise<ProbePort['probe']> {
  const transport = new ProbeTransport({ path, helloTimeoutMs, baudRate });
  try {
    const hello = await transport.open();
    return { firmware: hello.firmware, adcBits: hello.adcBits, ...(hello.link ? { link: hello.link } : {}) };
  } catch {
    return undefined;
  } finally {
    await transport.close();
  }
}

/** Serial ports and running emulators, probes (by HELLO) first. */
export async function discoverProbePorts(options: DiscoverOptions = {}): Promise<ProbePort[]> {
  const listed = await listProbePorts().catch(() => [] as ProbePort[]);
  const emulators = runningEmulators();
  const ports: ProbePort[] = [
    ...emulators.map((entry) => ({ path: entry.path, emulator: { pid: entry.pid }, manufacturer: 'cvlab probe-emulator' })),
    ...listed.filter((port) => !emulators.some((entry) => entry.path === port.path)),
  ];
  const skip = new Set(options.skip ?? []);
  const ask = options.identify ?? true;
  const described = await Promise.all(
    ports.map(async (port) => {
      const latencyTimerMs = await readUsbLatencyTimerMs(port.path);
      const worthAsking = ask && !skip.has(port.path) && (port.emulator !== undefined || port.vendorId !== undefined);
      const probe = worthAsking ? await identify(port.path, options.helloTimeoutMs ?? 1200, options.baudRate ?? 115200) : undefined;
      return { ...port, ...(probe ? { probe } : {}), ...(latencyTimerMs !== null ? { latencyTimerMs } : {}) };
    }),
  );
  const rank = (port: ProbePort): number => (port.probe ? 0 : port.emulator ? 1 : port.vendorId ? 2 : 3);
  return described.sort((left, right) => rank(left) - rank(right));
}

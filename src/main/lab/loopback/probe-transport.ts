import { access } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import type { HostLine, LineCounts, ProbeLine, ProbeLink, ProbePort } from '../../../shared/loopback';
import { ArrivalStamper } from './arrival-stamper';
import { ProbeError } from './probe-error';
import { formatHostLine, parseProbeLine } from './probe-protocol';
import { writeNow } from './write-now';

// The serial link to a probe: open by path and baud, HELLO handshake, timed lines both ways.
// serialport does the I/O (the maintained Node serial library, native binding per platform);
// its ReadlineParser splits lines. Arrival time is when the port became readable (ArrivalStamper),
// before the thread-pool read and the parsing, so neither is counted as serial latency.

export interface ProbeHello {
  firmware: string;
  adcBits: number;
  /** Protocol 1.1: how the probe says it is attached. */
  link?: ProbeLink;
}

export interface ProbeTransportOptions {
  path: string;
  baudRate?: number;
  /** How long to wait for HELLO after opening. */
  helloTimeoutMs?: number;
}

export interface Disposable {
  dispose(): void;
}

/** Bytes without a newline after which the parser's buffer is dropped (noise at the wrong baud has none). */
const RUNAWAY_BYTES = 4096;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lists serial ports the operating system reports (pseudo-terminals are not listed; type their path). */
export async function listProbePorts(): Promise<ProbePort[]> {
  const ports = await SerialPort.list();
  return ports.map((port) => ({
    path: port.path,
    ...(port.manufacturer ? { manufacturer: port.manufacturer } : {}),
    ...(port.serialNumber ? { serialNumber: port.serialNumber } : {}),
    ...(port.vendorId ? { vendorId: port.vendorId } : {}),
    ...(port.productId ? { productId: port.productId } : {}),
  }));
}

async function describeOpenError(path: string, error: Error): Promise<ProbeError> {
  const text = error.message;
  if (/no such file|ENOENT|cannot find/i.test(text)) {
    let seen = 'none';
    try {
      const ports = await listProbePorts();
      if (ports.length > 0) seen = ports.map((port) => port.path).join(', ');
    } catch {
      seen = 'unknown (listing ports failed)';
    }
    return new ProbeError('missing', `no serial port at ${path}: is the probe plugged in? ports seen: ${seen}`);
  }
  if (/permission denied|EACCES|EPERM/i.test(text)) {
    return new ProbeError(
      'permission',
      `permission denied opening ${path}: add your user to the dialout group (sudo usermod -aG dialout $USER, then log in again) or check the device's permissions`,
    );
  }
  if (/lock|busy|EBUSY|temporarily unavailable/i.test(text)) {
    return new ProbeError('busy', `serial port ${path} is in use by another program (a serial monitor?): close it and try again`);
  }
  return new ProbeError('open-failed', `could not open serial port ${path}: ${text}`);
}

/** One probe connection: handshake, timed line I/O, line counters, reconnect. */
export class ProbeTransport {
  readonly path: string;
  readonly baudRate: number;
  private readonly helloTimeoutMs: number;
  private port: SerialPort | undefined;
  private parser: ReadlineParser | undefined;
  private closingOnPurpose = false;
  /** true between a successful handshake and the next close; only such a close is news to listeners. */
  private established = false;
  private handshakeClosed: ((reason: string) => void) | undefined;
  private helloInfo: ProbeHello | null = null;
  private readonly lineListeners = new Set<(line: ProbeLine, arrivalNs: bigint, bytes: number) => void>();
  private lastLineNs = 0n;
  private readonly closeListeners = new Set<(reason: string) => void>();
  private readonly problemSamples: string[] = [];
  private counts: LineCounts = { good: 0, garbage: 0, partial: 0, oversized: 0, outOfOrder: 0, extraFields: 0 };

  constructor(options: ProbeTransportOptions) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? 115200;
    this.helloTimeoutMs = options.helloTimeoutMs ?? 3000;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** The probe's HELLO from the last successful open. */
  get hello(): ProbeHello | null {
    return this.helloInfo;
  }

  /** Opens the port and waits for HELLO; throws a ProbeError in plain words when it cannot. */
  async open(): Promise<ProbeHello> {
    if (this.isOpen && this.helloInfo) return this.helloInfo;
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      throw await describeOpenError(this.path, error as Error);
    }
    this.attach(port);
    try {
      this.helloInfo = await this.handshake();
      this.established = true;
      return this.helloInfo;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private attach(port: SerialPort): void {
    const parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    this.port = port;
    this.parser = parser;
    this.closingOnPurpose = false;
    const stamper = new ArrivalStamper(port);
    port.on('data', (chunk: Buffer) => {
      stamper.chunk();
      parser.write(chunk);
      if (parser.buffer.length > RUNAWAY_BYTES) {
        parser.buffer = Buffer.alloc(0);
        this.counts.oversized += 1;
      }
    });
    parser.on('data', (text: string) => this.receive(text, stamper.line()));
    // Errors after open surface as 'close' (disconnected) or failed writes; keep them from crashing the process.
    port.on('error', () => undefined);
    port.on('close', (error: (Error & { disconnected?: boolean }) | null) => {
      if (parser.buffer.length > 0) this.counts.partial += 1;
      this.port = undefined;
      this.parser = undefined;
      const established = this.established;
      this.established = false;
      if (this.closingOnPurpose) return;
      const reason = error?.disconnected ? `serial port ${this.path} disappeared (unplugged or its pseudo-terminal closed)` : `serial port ${this.path} closed`;
      this.handshakeClosed?.(reason);
      if (established) for (const listener of this.closeListeners) listener(reason);
    });
  }

  private receive(text: string, arrivalNs: bigint): void {
    this.lastLineNs = arrivalNs;
    const parsed = parseProbeLine(text);
    if (parsed.kind === 'empty') return;
    if (parsed.kind === 'problem') {
      this.counts[parsed.problem] += 1;
      if (this.problemSamples.length < 5) this.problemSamples.push(JSON.stringify(parsed.text.slice(0, 40)));
      return;
    }
    this.counts.good += 1;
    if (parsed.extraFields > 0) this.counts.extraFields += 1;
    // The line as it crossed the wire: its text (a \r included) and the newline.
    for (const listener of this.lineListeners) listener(parsed.line, arrivalNs, text.length + 1);
  }

  private async handshake(): Promise<ProbeHello> {
    return new Promise<ProbeHello>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        clearInterval(resend);
        subscription.dispose();
        this.handshakeClosed = undefined;
      };
      const subscription = this.onDidReceive((line) => {
        if (line.kind !== 'hello') return;
        finish();
        resolve({ firmware: line.firmware, adcBits: line.adcBits, ...(line.link ? { link: line.link } : {}) });
      });
      this.handshakeClosed = (reason) => {
        finish();
        reject(new ProbeError('closed', `${reason} while waiting for HELLO`));
      };
      const timer = setTimeout(() => {
        finish();
        const noise = this.counts.garbage + this.counts.partial + this.counts.oversized;
        const heard = noise > 0 ? `received ${noise} line(s) that were not protocol (first: ${this.problemSamples[0] ?? '?'})` : 'nothing was received';
        reject(
          new ProbeError(
            'no-hello',
            `no HELLO from ${this.path} within ${this.helloTimeoutMs} ms at ${this.baudRate} baud: ${heard}. Check the baud rate (the firmware uses 115200) and that the device runs the cvlab-probe firmware`,
          ),
        );
      }, this.helloTimeoutMs);
      // Ask now and every half second: a board that resets when the port opens misses the first ask.
      const ask = (): void => {
        try {
          this.send({ kind: 'hello?' });
        } catch {
          // closed meanwhile: the close listener reports it
        }
      };
      const resend = setInterval(ask, 500);
      ask();
    });
  }

  /** Writes one line; returns the host time (hrtime ns) taken right before the write. */
  send(line: HostLine): bigint {
    return this.sendTimed(line).sentNs;
  }

  /** Writes one line; returns the host time right before the write and the line's length in bytes. */
  sendTimed(line: HostLine): { sentNs: bigint; bytes: number } {
    const port = this.port;
    if (!port?.isOpen) throw new ProbeError('not-connected', `serial port ${this.path} is not open`);
    const text = formatHostLine(line);
    return { sentNs: writeNow(port, text), bytes: Buffer.byteLength(text, 'latin1') };
  }

  /** Writes raw bytes (tests use it to put noise on the wire). */
  sendRaw(text: string): void {
    this.port?.write(text);
  }

  /** hrtime ns of the last line received, whatever it was (noise included): 0n before any. */
  get lastLineAtNs(): bigint {
    return this.lastLineNs;
  }

  /** Listens to every parsed probe line with its arrival time (hrtime ns) and its length on the wire. */
  onDidReceive(listener: (line: ProbeLine, arrivalNs: bigint, bytes: number) => void): Disposable {
    this.lineListeners.add(listener);
    return { dispose: () => this.lineListeners.delete(listener) };
  }

  /** Listens for the port closing without close() being called. */
  onDidClose(listener: (reason: string) => void): Disposable {
    this.closeListeners.add(listener);
    return { dispose: () => this.closeListeners.delete(listener) };
  }

  /** Counts an out-of-order line (the session decides what is out of order). */
  countOutOfOrder(): void {
    this.counts.outOfOrder += 1;
  }

  /** Line counters since the counters were last reset. */
  lineCounts(): LineCounts {
    return { ...this.counts };
  }

  resetCounts(): void {
    this.counts = { good: 0, garbage: 0, partial: 0, oversized: 0, outOfOrder: 0, extraFields: 0 };
    this.problemSamples.length = 0;
  }

  /** Waits until the port is back (replugged, pseudo-terminal recreated) and says HELLO again. */
  async waitForReturn(options: { intervalMs?: number; signal?: AbortSignal } = {}): Promise<ProbeHello> {
    const interval = options.intervalMs ?? 500;
    for (;;) {
      if (options.signal?.aborted) throw new ProbeError('closed', `stopped waiting for ${this.path} to come back`);
      try {
        await access(this.path);
        return await this.open();
      } catch {
        await sleep(interval);
      }
    }
  }

  /** Closes the port on purpose (no close event to listeners). */
  async close(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.closingOnPurpose = true;
    this.established = false;
    if (!port.isOpen) {
      this.port = undefined;
      return;
    }
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

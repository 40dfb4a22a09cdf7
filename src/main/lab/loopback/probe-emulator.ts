import { createSocket, type Socket } from 'node:dgram';
import { appendFileSync, writeFileSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import { decode } from 'node-osc';
import { ResourceUnavailableError } from '../../../shared/exit-codes';
import type { EdgeDirection, HostLine, ProbeLine } from '../../../shared/loopback';
import { ArrivalStamper } from './arrival-stamper';
import { PseudoTerminalPair } from './pseudo-terminal-pair';
import { formatPongV10, formatProbeLine, parseHostLine } from './probe-protocol';
import { Timeline } from './timeline';
import { writeNow } from './write-now';

// Plays the OSC-to-CV converter and the loop-back probe in software, so the loop-back page,
// the CLI and the tests work with no hardware. OSC comes in on UDP; after the configured
// converter delay (+ jitter) the emulated CV changes; a threshold crossing becomes an EDGE
// line stamped by the emulated probe clock (host time · (1 + drift) + offset). The emulator
// knows each edge's true time, and reports it as ground truth.
//
// The link is modelled as the firmware and the hardware behave, both ways and in order:
// - USB: each line waits a fixed delay plus uniform polling jitter (full-speed USB polls every
//   1 ms); a USB-serial bridge may also hold host-bound bytes for its latency timer.
// - UART (a board behind a bridge, `baud` set): each byte spends 10 bit times on the wire, one
//   line after another; the probe sees a PING when its last byte lands (rx), and a reply's
//   first byte goes out once the wire is free (the firmware flushes, then stamps tx).
// - The probe itself may take a while between reading a PING and starting its reply; a 1.0
//   probe reports only rx (three-field PONG), a 1.1 probe rx and tx.

export interface ProbeEmulatorOptions {
  /** UDP port the converter listens on (the rig's osc.port). */
  oscPort: number;
  oscHost?: string;
  /** OSC address of the test variable; its float argument is the CV in volts. */
  address: string;
  /** Host-side path of the pseudo-terminal to create with socat. */
  link?: string;
  /** Open this existing serial path instead of creating a pseudo-terminal pair. */
  serialPath?: string;
  delayMs?: number;
  jitterMs?: number;
  /** Fixed USB delay of every line, each way, ms. */
  serialDelayMs?: number;
  /** USB polling jitter of every line, each way (uniform), ms. */
  serialJitterMs?: number;
  /** UART baud between the probe and a USB bridge; absent or 0: a native-USB board (no wire time). */
  baud?: number;
  /** Longest time the probe takes between reading a PING and starting its reply (uniform), ms. */
  replyDelayMs?: number;
  /** A USB-serial bridge's latency timer: host-bound lines are held this long, ms (0: none). */
  latencyTimerMs?: number;
  /** '1.0': three-field PONG and no link in HELLO; '1.1' (default): four-field PONG, link in HELLO. */
  protocol?: '1.0' | '1.1';
  clockOffsetS?: number;
  driftPpm?: number;
  /** Threshold before any ARM, mV. */
  thresholdMv?: number;
  hysteresisMv?: number;
  firmware?: string;
  adcBits?: number;
  /** JSONL file that receives one ground-truth record per edge. */
  truthFile?: string;
  /** Random source in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

/** What really happened for one edge, in host monotonic time. */
export interface EdgeTruth {
  /** Count of edges the emulator emitted, from 0. */
  index: number;
  direction: EdgeDirection;
  /** hrtime µs the OSC datagram was read. */
  oscReceivedUs: number;
  /** hrtime µs the emulated CV crossed the threshold (what the clock model should recover). */
  edgeUs: number;
  /** The converter delay applied to this edge (configured delay + its jitter), µs. */
  delayUs: number;
  /** The probe stamp written in the EDGE line. */
  probeUs: number;
  millivolts: number;
}

const nowNs = (): bigint => process.hrtime.bigint();
const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** A software converter + probe speaking the probe protocol on a pseudo-terminal. */
export class ProbeEmulator {
  private readonly options: Required<Omit<ProbeEmulatorOptions, 'link' | 'serialPath' | 'truthFile'>> &
    Pick<ProbeEmulatorOptions, 'link' | 'serialPath' | 'truthFile'>;
  private pair: PseudoTerminalPair | undefined;
  private port: SerialPort | undefined;
  private socket: Socket | undefined;
  private millivolts = 0;
  private level: 'low' | 'high' = 'low';
  private armed = false;
  private threshold: number;
  private lastCvChangeNs = 0n;
  private lastOutNs = 0n;
  private lastInNs = 0n;
  /** When the UART wire each way is free again (lines go one after another). */
  private outWireFreeNs = 0n;
  private inWireFreeNs = 0n;
  private edgeCount = 0;
  private readonly timeline = new Timeline();
  private readonly edgeListeners = new Set<(truth: EdgeTruth) => void>();
  /** Every edge emitted so far, in order. */
  readonly truths: EdgeTruth[] = [];

  constructor(options: ProbeEmulatorOptions) {
    this.options = {
      oscHost: '127.0.0.1',
      delayMs: 2,
      jitterMs: 0,
      serialDelayMs: 0,
      serialJitterMs: 0,
      baud: 0,
      replyDelayMs: 0,
      latencyTimerMs: 0,
      protocol: '1.1',
      clockOffsetS: 0,
      driftPpm: 0,
      thresholdMv: 500,
      hysteresisMv: 20,
      firmware: options.protocol === '1.0' ? 'emulator-1.0' : 'emulator-1.1',
      adcBits: 12,
      random: Math.random,
      ...options,
    };
    this.threshold = this.options.thresholdMv;
    if (this.probeClock(nowNs()) < 0) {
      throw new Error(`--clock-offset-s ${this.options.clockOffsetS} puts the emulated probe clock below zero: a probe's clock counts up from power-on, use a larger offset`);
    }
  }

  /** The emulated probe clock at host hrtime `ns`, µs (what micros() would read). */
  probeClock(ns: bigint): number {
    const hostUs = Number(ns) / 1000;
    return Math.floor(hostUs * (1 + this.options.driftPpm * 1e-6) + this.options.clockOffsetS * 1e6);
  }

  /**
   * Starts UDP and serial; resolves with the path the host should open. The UDP port is taken
   * first (the likeliest to fail, and it leaves nothing behind); whatever fails later closes
   * what was opened before it (socat and its links included).
   */
  async start(): Promise<{ hostPath: string; devicePath: string }> {
    let devicePath: string;
    let hostPath: string;
    try {
      await this.openUdp();
      if (this.options.serialPath) {
        devicePath = this.options.serialPath;
        hostPath = '(the other end of ' + devicePath + ')';
      } else {
        hostPath = this.options.link ?? `/tmp/cvlab-probe-${process.pid}`;
        devicePath = `${hostPath}.device`;
        this.pair = await PseudoTerminalPair.open({ hostPath, devicePath });
      }
      if (this.options.truthFile) writeFileSync(this.options.truthFile, '');
      await this.openSerial(devicePath);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.write(this.hello());
    return { hostPath, devicePath };
  }

  /** socat's process id, so tests can pull the cable (kill it). */
  get linkPid(): number | undefined {
    return this.pair?.pid;
  }

  private async openSerial(path: string): Promise<void> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(new ResourceUnavailableError(`the emulator could not open ${path}: ${error.message}`)) : resolve())));
    // A probe sees a line when its bytes land, not after a thread-pool read: stamp it so.
    const parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    const stamper = new ArrivalStamper(port);
    port.on('data', (chunk: Buffer) => {
      stamper.chunk();
      parser.write(chunk);
    });
    parser.on('data', (text: string) => this.receive(text, stamper.line()));
    port.on('error', () => undefined);
    this.port = port;
  }

  private async openUdp(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (buffer) => this.onOsc(buffer, nowNs()));
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new ResourceUnavailableError(`UDP port ${this.options.oscPort} is in use: is another emulator or converter running? (--osc-port chooses another)`)
            : error,
        ),
      );
      socket.bind(this.options.oscPort, this.options.oscHost, () => resolve());
    });
    socket.on('error', () => undefined);
  }

  private onOsc(buffer: Buffer, receivedNs: bigint): void {
    let packet: unknown;
    try {
      packet = decode(buffer);
    } catch {
      return; // not OSC: a real converter ignores it too
    }
    for (const volts of this.valuesFor(packet)) this.scheduleCv(volts, receivedNs);
  }

  private valuesFor(packet: unknown): number[] {
    const node = packet as { oscType?: string; address?: string; args?: unknown[]; elements?: unknown[] };
    if (node.oscType === 'bundle') return (node.elements ?? []).flatMap((element) => this.valuesFor(element));
    if (node.address !== this.options.address) return [];
    const first = node.args?.[0];
    const value = typeof first === 'object' && first !== null ? (first as { value?: unknown }).value : first;
    return typeof value === 'number' && Number.isFinite(value) ? [value] : [];
  }

  private scheduleCv(volts: number, receivedNs: bigint): void {
    const jitter = this.options.jitterMs * this.options.random();
    let applyNs = receivedNs + msToNs(this.options.delayMs + jitter);
    // A converter updates its outputs in the order the messages came.
    if (applyNs < this.lastCvChangeNs) applyNs = this.lastCvChangeNs;
    this.lastCvChangeNs = applyNs;
    this.timeline.at(applyNs, () => this.applyCv(Math.round(volts * 1000), receivedNs, applyNs));
  }

  private applyCv(millivolts: number, receivedNs: bigint, applyNs: bigint): void {
    this.millivolts = millivolts;
    const hysteresis = this.options.hysteresisMv;
    let direction: EdgeDirection | undefined;
    if (this.level === 'low' && millivolts >= this.threshold + hysteresis) direction = 'rise';
    else if (this.level === 'high' && millivolts <= this.threshold - hysteresis) direction = 'fall';
    if (!direction) return;
    this.level = direction === 'rise' ? 'high' : 'low';
    if (!this.armed) return;
    // The edge is stamped at the moment the CV crossed, as the probe's ADC loop would.
    const probeUs = this.probeClock(applyNs);
    const truth: EdgeTruth = {
      index: this.edgeCount,
      direction,
      oscReceivedUs: Number(receivedNs) / 1000,
      edgeUs: Number(applyNs) / 1000,
      delayUs: Number(applyNs - receivedNs) / 1000,
      probeUs,
      millivolts,
    };
    this.edgeCount += 1;
    this.truths.push(truth);
    if (this.options.truthFile) appendFileSync(this.options.truthFile, `${JSON.stringify(truth)}\n`);
    for (const listener of this.edgeListeners) listener(truth);
    this.write({ kind: 'edge', channel: 0, direction, probeUs, millivolts }, applyNs);
  }

  /** HELLO as this firmware says it: the link from protocol 1.1 on. */
  private hello(): ProbeLine {
    const link = this.options.protocol === '1.1' ? (this.options.baud > 0 ? 'uart' : 'usb') : undefined;
    return { kind: 'hello', firmware: this.options.firmware, adcBits: this.options.adcBits, ...(link ? { link } : {}) };
  }

  /** true when every line crosses at once: no wire, USB or probe delays to model. */
  private get instantLink(): boolean {
    const o = this.options;
    return o.serialDelayMs === 0 && o.serialJitterMs === 0 && o.baud === 0 && o.replyDelayMs === 0 && o.latencyTimerMs === 0;
  }

  /** USB delay of one line: fixed part plus polling jitter. */
  private usbDelayNs(): bigint {
    return msToNs(this.options.serialDelayMs + this.options.serialJitterMs * this.options.random());
  }

  /** Wire time of a line of `text` on the UART, ns (0 on native USB). */
  private wireNs(text: string): bigint {
    return this.options.baud > 0 ? BigInt(Math.round((Buffer.byteLength(text, 'latin1') * 10 * 1e9) / this.options.baud)) : 0n;
  }

  private receive(text: string, arrivalNs: bigint): void {
    if (this.instantLink) {
      this.handle(text, arrivalNs);
      return;
    }
    // USB to the bridge (in order), then the UART bytes: the probe reads the line when its last
    // byte (the newline) lands. Stamps and replies start from that instant, not from when the
    // event loop got round to it, so both legs of the link get the same delay model.
    let usbNs = arrivalNs + this.usbDelayNs();
    if (usbNs < this.lastInNs) usbNs = this.lastInNs;
    this.lastInNs = usbNs;
    const startNs = usbNs > this.inWireFreeNs ? usbNs : this.inWireFreeNs;
    const rxNs = startNs + this.wireNs(`${text}\n`);
    this.inWireFreeNs = rxNs;
    this.timeline.at(rxNs, () => this.handle(text, rxNs));
  }

  private handle(text: string, atNs: bigint): void {
    const parsed = parseHostLine(text);
    if (parsed.kind !== 'line') return; // the firmware ignores what it cannot parse, too
    const line: HostLine = parsed.line;
    switch (line.kind) {
      case 'ping':
        this.pong(line.seq, atNs);
        break;
      case 'arm':
        this.threshold = line.thresholdMv;
        this.level = this.millivolts >= this.threshold ? 'high' : 'low';
        this.armed = true;
        this.write({ kind: 'ok', command: 'ARM' }, atNs);
        break;
      case 'hello?':
        this.write(this.hello(), atNs);
        break;
    }
  }

  /** Replies to a PING read at rxNs: after the probe's own delay, once the wire is free. */
  private pong(seq: number, rxNs: bigint): void {
    const rxUs = this.probeClock(rxNs);
    const readyNs = rxNs + msToNs(this.options.replyDelayMs * this.options.random());
    const txNs = readyNs > this.outWireFreeNs ? readyNs : this.outWireFreeNs;
    const text =
      this.options.protocol === '1.0'
        ? formatPongV10(seq, rxUs)
        : formatProbeLine({ kind: 'pong', seq, rxUs, txUs: Math.max(rxUs, this.probeClock(txNs)) });
    this.writeRaw(text, txNs);
  }

  private write(line: ProbeLine, fromNs?: bigint): void {
    this.writeRaw(formatProbeLine(line), fromNs);
  }

  /** Puts raw text on the serial link, through the emulated link (tests add noise with it). */
  writeRaw(text: string, fromNs = nowNs()): void {
    const port = this.port;
    if (!port) return;
    if (this.instantLink) {
      if (port.isOpen) writeNow(port, text);
      return;
    }
    // UART: after the line before it; then USB (and a bridge's latency timer) to the host, in order.
    const startNs = fromNs > this.outWireFreeNs ? fromNs : this.outWireFreeNs;
    const endNs = startNs + this.wireNs(text);
    this.outWireFreeNs = endNs;
    let deliverNs = endNs + this.usbDelayNs() + msToNs(this.options.latencyTimerMs);
    if (deliverNs < this.lastOutNs) deliverNs = this.lastOutNs;
    this.lastOutNs = deliverNs;
    this.timeline.at(deliverNs, () => {
      if (port.isOpen) writeNow(port, text);
    });
  }

  /** Listens to each edge's ground truth as it is emitted. */
  onDidEmitEdge(listener: (truth: EdgeTruth) => void): { dispose(): void } {
    this.edgeListeners.add(listener);
    return { dispose: () => this.edgeListeners.delete(listener) };
  }

  /** Stops socat (the host's port disappears), as pulling the USB cable would. */
  async pullCable(): Promise<void> {
    await this.pair?.close();
  }

  /** Closes UDP, serial and socat. */
  async close(): Promise<void> {
    this.timeline.clear();
    try {
      this.socket?.close();
    } catch {
      // a socket whose bind failed is closed already
    }
    this.socket = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.pair?.close();
  }
}

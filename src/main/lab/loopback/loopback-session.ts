import type { RigConfig, VariableConfig } from '../../../shared/rig';
import {
  DEFAULT_LATENCY_TARGET_MS,
  LoopbackOptionsSchema,
  type ClockFit,
  type LoopbackEdge,
  type LoopbackOptionsInput,
  type LoopbackProgress,
  type LoopbackResult,
  type ProbeLine,
  type ProbeLink,
} from '../../../shared/loopback';
import { parseOrThrow } from '../../../shared/format-issues';
import { ClockModel } from './clock-model';
import { EdgeMatcher } from './edge-matcher';
import { latencyStats } from './latency-stats';
import { ProbeError } from './probe-error';
import { ProbeTransport, type Disposable, type ProbeHello } from './probe-transport';
import { waitUntil } from './run-at';
import { SquareWaveSender } from './square-wave-sender';
import { readUsbLatencyTimerMs } from './usb-latency-timer';

// The engine side of the loop-back measurement: connect to the probe, fit its clock, drive the
// square wave, match edges, summarise. No UI here: the console and the CLI bind to its
// listeners. Host times are µs since the session's epoch (hrtime at construction) so every
// number stays small and exact; result.epochHostUs turns them back into hrtime µs.

export interface LoopbackSessionOptions {
  rig: RigConfig;
  /** Serial path of the probe; defaults to the rig's serial.path. */
  path?: string;
  baudRate?: number;
  helloTimeoutMs?: number;
  /** After an unexpected close, keep trying to reopen the port in the background (default true). */
  autoReconnect?: boolean;
}

export type ConnectionState =
  | { state: 'connected'; hello: ProbeHello }
  | { state: 'disconnected'; reason: string }
  | { state: 'reconnecting'; reason: string };

export const ARRIVAL_ERROR_NOTE =
  'host-arrival latency is timed when the EDGE line reaches the host, so it also contains the serial link: the probe printing the line, USB polling (up to 1 ms on full-speed USB) and the driver; it reads late and wider than the clock-model figure, which stamps the edge on the probe itself';

const OK_ARM_TIMEOUT_MS = 1000;
/** A UART frame per byte: start bit, 8 data bits, stop bit. */
const BITS_PER_BYTE = 10;

/** How the clock model treats the link: its kind, where that came from, the baud on the wire. */
export interface LinkModel {
  kind: ProbeLink;
  source: 'rig' | 'hello' | 'assumed';
  baud: number;
  latencyTimerMs: number | null;
}

/** The link to model: the rig's serial.link wins, then the probe's HELLO; a 1.0 probe with neither is taken as native USB. */
export function resolveLink(rig: RigConfig, hello: ProbeHello | null, baud: number, latencyTimerMs: number | null = null): LinkModel {
  const fromRig = rig.serial?.link;
  if (fromRig) return { kind: fromRig, source: 'rig', baud, latencyTimerMs };
  if (hello?.link) return { kind: hello.link, source: 'hello', baud, latencyTimerMs };
  return { kind: 'usb', source: 'assumed', baud, latencyTimerMs };
}

/** Time a line of `bytes` spends on the wire, µs: none on native USB. */
export function wireUs(link: LinkModel, bytes: number): number {
  return link.kind === 'uart' ? (bytes * BITS_PER_BYTE * 1e6) / link.baud : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An armed probe watching edges while something else moves the CV (chat → CV during a load run). */
export interface EdgeWatch {
  /** A probe stamp on the host's monotonic clock (ns) through the clock fit; `windowUs`: a fit local to it. */
  toHostNs(probeUs: number, windowUs?: number): number | null;
  /** The clock fit so far. */
  fit(): ClockFit | null;
  /** Why the watch lost the probe (closed, went silent), if it did. */
  readonly problem: string | undefined;
  /** Stops PINGing and hands lines back to the session. */
  stop(): void;
}

export interface EdgeWatchOptions {
  thresholdMv: number;
  channel?: number;
  /** PING/PONG before the watch is handed back (clock fit), ms. */
  calibrationMs?: number;
  /** Time between PINGs while watching, ms. */
  pingIntervalMs?: number;
  /** No line from the probe for this long: it went silent. */
  silenceTimeoutMs?: number;
}

/** Connect → calibrate → run a loop-back measurement against a probe (or the emulator). */
export class LoopbackSession {
  private readonly rig: RigConfig;
  private readonly transport: ProbeTransport;
  private readonly epochNs = process.hrtime.bigint();
  private readonly autoReconnect: boolean;
  private clock: ClockModel;
  private pingSeq = 0;
  private readonly pings = new Map<number, { sentUs: number; bytes: number }>();
  private linkModel: LinkModel;
  private stopKind: 'silent' | 'closed' | 'requested' | null = null;
  private readonly lineSubscription: Disposable;
  private reconnectAbort: AbortController | undefined;
  private stopRequested: string | null = null;
  private running = false;
  private closed = false;
  private lineHandler: ((line: ProbeLine, arrivalUs: number) => void) | undefined;
  private readonly progressListeners = new Set<(progress: LoopbackProgress) => void>();
  private readonly edgeListeners = new Set<(edge: LoopbackEdge) => void>();
  private readonly fitListeners = new Set<(fit: ClockFit) => void>();
  private readonly connectionListeners = new Set<(state: ConnectionState) => void>();

  constructor(options: LoopbackSessionOptions) {
    this.rig = options.rig;
    const path = options.path ?? options.rig.serial?.path;
    if (!path) throw new ProbeError('missing', `no serial port given: pass a path or set serial.path in rig "${options.rig.name}"`);
    this.transport = new ProbeTransport({
      path,
      baudRate: options.baudRate ?? options.rig.serial?.baud ?? 115200,
      helloTimeoutMs: options.helloTimeoutMs ?? 3000,
    });
    this.autoReconnect = options.autoReconnect ?? true;
    this.clock = this.newClock();
    this.linkModel = resolveLink(this.rig, null, this.transport.baudRate);
    this.lineSubscription = this.transport.onDidReceive((line, arrivalNs, bytes) => this.receive(line, this.toUs(arrivalNs), bytes));
    this.transport.onDidClose((reason) => this.lost(reason));
  }

  private newClock(): ClockModel {
    return new ClockModel({ hostEpochUs: Number(this.epochNs) / 1000 });
  }

  private toUs(ns: bigint): number {
    return Number(ns - this.epochNs) / 1000;
  }

  private nowUs(): number {
    return this.toUs(process.hrtime.bigint());
  }

  /** Serial path in use. */
  get path(): string {
    return this.transport.path;
  }

  get isConnected(): boolean {
    return this.transport.isOpen && this.transport.hello !== null;
  }

  /** Opens the port and waits for the probe's HELLO. Throws a ProbeError in plain words. */
  async connect(): Promise<ProbeHello> {
    this.reconnectAbort?.abort();
    const hello = await this.transport.open();
    this.clock = this.newClock();
    this.linkModel = resolveLink(this.rig, hello, this.transport.baudRate, await readUsbLatencyTimerMs(this.path));
    this.emitConnection({ state: 'connected', hello });
    return hello;
  }

  /** The probe's HELLO, once it said it. */
  get hello(): ProbeHello | null {
    return this.transport.hello;
  }

  /** The link as the clock model treats it (kind, baud, USB-serial latency timer). */
  get link(): LinkModel {
    return { ...this.linkModel };
  }

  private lost(reason: string): void {
    if (this.running && this.stopRequested === null) this.stopKind = 'closed';
    this.stopRequested ??= reason;
    this.pings.clear();
    this.emitConnection({ state: 'disconnected', reason });
    if (!this.autoReconnect || this.closed) return;
    const abort = new AbortController();
    this.reconnectAbort = abort;
    this.emitConnection({ state: 'reconnecting', reason });
    this.transport
      .waitForReturn({ signal: abort.signal })
      .then((hello) => {
        // The probe may have rebooted: its clock starts over, so the old fit is void.
        this.clock = this.newClock();
        this.linkModel = resolveLink(this.rig, hello, this.transport.baudRate, this.linkModel.latencyTimerMs);
        this.emitConnection({ state: 'connected', hello });
      })
      .catch(() => undefined);
  }

  private receive(line: ProbeLine, arrivalUs: number, bytes: number): void {
    if (line.kind === 'pong') {
      const ping = this.pings.get(line.seq);
      if (ping === undefined) {
        this.transport.countOutOfOrder();
        return;
      }
      this.pings.delete(line.seq);
      this.clock.add({
        hostSendUs: ping.sentUs,
        hostReceiveUs: arrivalUs,
        probeUs: line.rxUs,
        probeTxUs: line.txUs,
        pingWireUs: wireUs(this.linkModel, ping.bytes),
        pongWireUs: wireUs(this.linkModel, bytes),
      });
      return;
    }
    this.lineHandler?.(line, arrivalUs);
  }

  private ping(): void {
    if (!this.transport.isOpen) return;
    this.pingSeq = (this.pingSeq + 1) % 4_294_967_296;
    const seq = this.pingSeq;
    const { sentNs, bytes } = this.transport.sendTimed({ kind: 'ping', seq });
    this.pings.set(seq, { sentUs: this.toUs(sentNs), bytes });
    // Forget PINGs never answered, so a late PONG counts as out of order and memory stays flat.
    if (this.pings.size > 256) {
      const oldest = this.pings.keys().next().value;
      if (oldest !== undefined) this.pings.delete(oldest);
    }
  }

  /** Runs a PING/PONG exchange for `durationMs` and returns the clock fit (offset, drift, residual). */
  async calibrate(durationMs = 1500, intervalMs = 10): Promise<ClockFit> {
    this.requireConnection();
    const timer = setInterval(() => this.ping(), intervalMs);
    this.ping();
    await sleep(durationMs);
    clearInterval(timer);
    await sleep(Math.min(50, intervalMs * 5)); // let the last PONGs in
    const fit = this.clock.fit();
    if (!fit) {
      throw new ProbeError('no-answer', `the probe on ${this.path} answered no PING within ${durationMs} ms: is the firmware current (it must answer PING with PONG)?`);
    }
    this.emitFit(fit);
    return fit;
  }

  /** The clock fit so far, or null before any PONG. */
  clockFit(): ClockFit | null {
    return this.clock.fit();
  }

  private requireConnection(): void {
    if (!this.isConnected) throw new ProbeError('not-connected', `the probe on ${this.path} is not connected: connect first`);
  }

  /**
   * Arms the probe at `thresholdMv` and keeps its clock fitted (PINGs throughout) while
   * something else moves the CV; hands each EDGE of the channel to `onEdge` with its probe stamp
   * and its time on the host's monotonic clock through the fit so far. One watch or loop-back run
   * at a time.
   */
  async watchEdges(options: EdgeWatchOptions, onEdge: (edge: { direction: 'rise' | 'fall'; probeUs: number; hostNs: number | null }) => void): Promise<EdgeWatch> {
    if (this.running) throw new ProbeError('busy', `the probe on ${this.path} is busy with a loop-back run: stop it first`);
    if (!this.isConnected) await this.connect();
    const channel = options.channel ?? 0;
    const epochNs = Number(this.epochNs);
    this.running = true;
    this.stopRequested = null;
    this.stopKind = null;
    let lastProbeUs = -1;
    let okArm: (() => void) | undefined;
    this.lineHandler = (line) => {
      if (line.kind === 'ok') okArm?.();
      if (line.kind !== 'edge' || line.channel !== channel) return;
      if (line.probeUs < lastProbeUs) {
        this.transport.countOutOfOrder();
        return;
      }
      lastProbeUs = line.probeUs;
      const hostUs = this.clock.toHost(line.probeUs);
      onEdge({ direction: line.direction, probeUs: line.probeUs, hostNs: hostUs === null ? null : epochNs + hostUs * 1000 });
    };
    let pinger: ReturnType<typeof setInterval> | undefined;
    let silence: ReturnType<typeof setInterval> | undefined;
    const release = (): void => {
      clearInterval(pinger);
      clearInterval(silence);
      this.lineHandler = undefined;
      okArm = undefined;
      this.running = false;
    };
    try {
      const armed = new Promise<boolean>((resolve) => {
        okArm = () => resolve(true);
        setTimeout(() => resolve(false), OK_ARM_TIMEOUT_MS);
      });
      this.transport.send({ kind: 'arm', channel, thresholdMv: options.thresholdMv });
      if (!(await armed)) throw new ProbeError('no-answer', `the probe on ${this.path} did not answer ARM with OK ARM within ${OK_ARM_TIMEOUT_MS} ms`);
      silence = this.watchSilence(options.silenceTimeoutMs ?? 1500);
      pinger = setInterval(() => this.ping(), 10);
      await this.interruptibleSleep(options.calibrationMs ?? 1000);
      if (!this.clock.fit()) throw new ProbeError('no-answer', `the probe on ${this.path} answered no PING while its clock was being fitted`);
      clearInterval(pinger);
      pinger = setInterval(() => this.ping(), options.pingIntervalMs ?? 20);
    } catch (error) {
      release();
      throw error;
    }
    const clock = (): ClockModel => this.clock;
    const problem = (): string | undefined => {
      const reason = this.stopRequested;
      return reason === null ? undefined : reason === SILENT ? 'the probe went silent (no line from it for the silence timeout)' : reason;
    };
    return {
      toHostNs: (probeUs, windowUs) => {
        const hostUs = clock().toHost(probeUs, windowUs);
        return hostUs === null ? null : epochNs + hostUs * 1000;
      },
      fit: () => clock().fit(),
      get problem() {
        return problem();
      },
      stop: release,
    };
  }

  /** Asks a running run to stop; it resolves with the edges measured so far. */
  stop(reason = 'stopped by request'): void {
    if (!this.running || this.stopRequested !== null) return;
    this.stopKind = 'requested';
    this.stopRequested = reason;
  }

  /**
   * Drives the square wave on the rig's test variable and measures each edge. Resolves with
   * the results even when the port closes mid-run (complete: false, stopReason says why).
   */
  async run(input: LoopbackOptionsInput = {}): Promise<LoopbackResult> {
    const options = parseOrThrow(LoopbackOptionsSchema, input, 'loop-back options');
    if (this.running) throw new Error('a loop-back run is already in progress on this session');
    const variable = testVariable(this.rig);
    const thresholdMv = options.thresholdMv ?? Math.round(((variable.out.min + variable.out.max) / 2) * 1000);
    if (!this.isConnected) await this.connect();
    const hello = this.transport.hello;
    this.running = true;
    this.stopRequested = null;
    this.stopKind = null;
    this.transport.resetCounts();
    const startedAt = new Date();
    const startUs = this.nowUs();
    const sender = new SquareWaveSender(this.rig.osc.host, this.rig.osc.port, variable.address, Math.min(variable.out.min, variable.out.max), Math.max(variable.out.min, variable.out.max));
    const edges: LoopbackEdge[] = [];
    const matcher = new EdgeMatcher(options.timeoutMs * 1000);
    let lastEdgeProbeUs = -1;
    let okArm: (() => void) | undefined;
    const progress = (phase: LoopbackProgress['phase']): void => {
      const counts = matcher.counts;
      this.emitProgress({ phase, sent: edges.length, matched: counts.matched, misses: counts.misses, spurious: counts.spurious, total: options.edges });
    };
    const markMissed = (missed: { index: number }[]): void => {
      for (const send of missed) {
        const edge = edges[send.index];
        if (edge) {
          edge.status = 'missed';
          this.emitEdge(edge);
        }
      }
    };
    this.lineHandler = (line, arrivalUs) => {
      if (line.kind === 'ok') okArm?.();
      if (line.kind !== 'edge' || line.channel !== options.channel) return;
      if (line.probeUs < lastEdgeProbeUs) {
        this.transport.countOutOfOrder();
        return;
      }
      lastEdgeProbeUs = line.probeUs;
      const edgeHostUs = this.clock.toHost(line.probeUs);
      const verdict = matcher.matchEdge(line.direction, edgeHostUs === null ? null : edgeHostUs - startUs);
      if (verdict.kind === 'spurious') return progress('running');
      markMissed(verdict.missed);
      const edge = edges[verdict.send.index];
      if (!edge) return;
      edge.status = 'matched';
      edge.probeUs = line.probeUs;
      edge.millivolts = line.millivolts;
      edge.latencyUs = edgeHostUs === null ? null : edgeHostUs - (edge.sentUs + startUs);
      edge.arrivalLatencyUs = arrivalUs - (edge.sentUs + startUs);
      this.emitEdge(edge);
      progress('running');
    };
    const pinger = { timer: undefined as ReturnType<typeof setInterval> | undefined };
    let silence: ReturnType<typeof setInterval> | undefined;
    const startPinging = (intervalMs: number): void => {
      clearInterval(pinger.timer);
      pinger.timer = setInterval(() => this.ping(), intervalMs);
    };
    try {
      await sender.open();
      // Start from a known level: low, then arm the probe so it knows where it is.
      progress('settling');
      sender.send('low');
      await sleep(options.settleMs);
      const armed = new Promise<boolean>((resolve) => {
        okArm = () => resolve(true);
        setTimeout(() => resolve(false), OK_ARM_TIMEOUT_MS);
      });
      this.transport.send({ kind: 'arm', channel: options.channel, thresholdMv });
      if (!(await armed) && !this.stopRequested) {
        throw new ProbeError('no-answer', `the probe on ${this.path} did not answer ARM with OK ARM within ${OK_ARM_TIMEOUT_MS} ms`);
      }
      progress('calibrating');
      silence = this.watchSilence(options.silenceTimeoutMs);
      startPinging(options.calibrationPingIntervalMs);
      await this.interruptibleSleep(options.calibrationMs);
      const calibrated = this.clock.fit();
      if (calibrated) this.emitFit(calibrated);
      else if (!this.stopRequested) throw new ProbeError('no-answer', `the probe on ${this.path} answered no PING during calibration`);

      progress('running');
      // During the sends the PINGs go in the middle of the gaps between them (below), where the
      // link and both ends are quiet, rather than on a timer that collides with the edges.
      clearInterval(pinger.timer);
      const refit = setInterval(() => {
        const fit = this.clock.fit();
        if (fit) this.emitFit(fit);
      }, 1000);
      const expiry = setInterval(() => markMissed(matcher.expire(this.nowUs() - startUs)), 10);
      try {
        const halfPeriodNs = BigInt(Math.round(1e9 / options.rateHz / 2));
        const firstNs = process.hrtime.bigint() + 5_000_000n;
        const pingGaps = pingGapPlan(Number(halfPeriodNs) / 1e6, options.runPingIntervalMs);
        for (let index = 0; index < options.edges && !this.stopRequested; index += 1) {
          // Sends are due on a fixed grid, so a late one does not push the rest back.
          const dueNs = firstNs + halfPeriodNs * BigInt(index);
          if (index > 0 && (index - 1) % pingGaps.everyGaps === 0) {
            for (let slot = 0; slot < pingGaps.perGap && !this.stopRequested; slot += 1) {
              // A PING's send is stamped, so a coarse timer is precise enough to place it.
              const pingNs = dueNs - halfPeriodNs + (halfPeriodNs * BigInt(2 * slot + 1)) / BigInt(2 * pingGaps.perGap);
              await sleep(Math.max(0, Number(pingNs - process.hrtime.bigint()) / 1e6));
              this.ping();
            }
          }
          await waitUntil(dueNs);
          if (this.stopRequested) break;
          const direction = index % 2 === 0 ? 'rise' : 'fall';
          const sent = sender.send(direction === 'rise' ? 'high' : 'low');
          const sentUs = this.toUs(sent.sentNs) - startUs;
          const edge: LoopbackEdge = {
            index,
            direction,
            sentUs,
            latencyUs: null,
            arrivalLatencyUs: null,
            probeUs: null,
            millivolts: null,
            sendCallbackUs: null,
            status: 'pending',
          };
          edges.push(edge);
          matcher.addSend({ index, direction, sentUs });
          void sent.handedOff.then((ns) => (edge.sendCallbackUs = Number(ns - sent.sentNs) / 1000));
          progress('running');
        }
        // Wait for the last edges, and keep PINGing past them so the fit brackets every edge.
        progress('draining');
        startPinging(options.runPingIntervalMs);
        const drainUntil = process.hrtime.bigint() + BigInt(Math.round(options.timeoutMs * 1e6));
        while (!this.stopRequested && matcher.waiting > 0 && process.hrtime.bigint() < drainUntil) await sleep(5);
        if (!this.stopRequested) await this.interruptibleSleep(Math.max(200, options.runPingIntervalMs * 5));
      } finally {
        clearInterval(refit);
        clearInterval(expiry);
      }
      if (!this.stopRequested) markMissed(matcher.expire(Number.POSITIVE_INFINITY, true));
    } finally {
      clearInterval(pinger.timer);
      clearInterval(silence);
      this.lineHandler = undefined;
      okArm = undefined;
      sender.close();
      this.running = false;
    }

    // Final pass: map every edge with a fit local to it, now that PINGs bracket the whole run.
    const windowUs = options.fitWindowS * 1e6;
    for (const edge of edges) {
      if (edge.status !== 'matched' || edge.probeUs === null) continue;
      const hostUs = this.clock.toHost(edge.probeUs, windowUs);
      edge.latencyUs = hostUs === null ? null : hostUs - (edge.sentUs + startUs);
    }
    const fit = this.clock.fit();
    if (fit) this.emitFit(fit);
    const counts = matcher.counts;
    const stopReason = this.stopRequested ? this.describeStop(this.stopRequested, counts.matched, options.edges) : null;
    const latency = latencyStats(edges.flatMap((edge) => (edge.latencyUs === null ? [] : [edge.latencyUs])));
    const targetMs = this.rig.serial?.latencyTargetMs ?? DEFAULT_LATENCY_TARGET_MS;
    progress('done');
    return {
      startedAt: startedAt.toISOString(),
      epochHostUs: (Number(this.epochNs) / 1000) + startUs,
      durationS: (this.nowUs() - startUs) / 1e6,
      rig: this.rig.name,
      variable: variable.name,
      address: variable.address,
      port: this.path,
      probe: hello ? { firmware: hello.firmware, adcBits: hello.adcBits, ...(hello.link ? { link: hello.link } : {}) } : null,
      link: { ...this.linkModel },
      target: { latencyMs: targetMs, passed: latency ? latency.p99Us <= targetMs * 1000 : null },
      stopKind: stopReason === null ? null : (this.stopKind ?? 'requested'),
      options,
      thresholdMv,
      complete: stopReason === null,
      stopReason,
      sent: edges.length,
      matched: counts.matched,
      misses: counts.misses,
      spurious: counts.spurious,
      clock: fit,
      latency,
      arrivalLatency: latencyStats(edges.flatMap((edge) => (edge.arrivalLatencyUs === null ? [] : [edge.arrivalLatencyUs]))),
      arrivalErrorNote: ARRIVAL_ERROR_NOTE,
      lines: this.transport.lineCounts(),
      edges,
    };
  }

  /**
   * The probe is PINGed all through a run, so a healthy one always has something to say: no
   * line at all for `timeoutMs` means it hung or died (a killed emulator, a crashed board) while
   * the port stayed open. The run ends there and keeps what it measured.
   */
  private watchSilence(timeoutMs: number): ReturnType<typeof setInterval> {
    const sinceNs = process.hrtime.bigint();
    const limitNs = BigInt(timeoutMs) * 1_000_000n;
    return setInterval(() => {
      const last = this.transport.lastLineAtNs > sinceNs ? this.transport.lastLineAtNs : sinceNs;
      if (this.stopRequested === null && process.hrtime.bigint() - last > limitNs) {
        this.stopKind = 'silent';
        this.stopRequested = SILENT;
      }
    }, Math.min(100, timeoutMs / 4));
  }

  private describeStop(reason: string, matched: number, total: number): string {
    if (reason === SILENT) return `the probe went silent after ${matched} of ${total} edges (no line from it for the silence timeout); the ${matched} measured are kept`;
    if (/closed|disappeared/.test(reason)) return `serial port closed after ${matched} of ${total} edges; the ${matched} measured are kept (${reason})`;
    return `${reason} after ${matched} of ${total} edges; the ${matched} measured are kept`;
  }

  private async interruptibleSleep(ms: number): Promise<void> {
    const until = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
    while (!this.stopRequested && process.hrtime.bigint() < until) await sleep(Math.min(20, ms));
  }

  /** Progress of a run: phase and counts. */
  onDidProgress(listener: (progress: LoopbackProgress) => void): Disposable {
    this.progressListeners.add(listener);
    return { dispose: () => this.progressListeners.delete(listener) };
  }

  /** Each edge as it is matched or declared missed (latency is provisional until the run ends). */
  onDidEdge(listener: (edge: LoopbackEdge) => void): Disposable {
    this.edgeListeners.add(listener);
    return { dispose: () => this.edgeListeners.delete(listener) };
  }

  /** Each new clock fit (after calibration, about once a second during a run, and at its end). */
  onDidFitClock(listener: (fit: ClockFit) => void): Disposable {
    this.fitListeners.add(listener);
    return { dispose: () => this.fitListeners.delete(listener) };
  }

  /** Connected, disconnected (with the reason) and reconnecting. */
  onDidChangeConnection(listener: (state: ConnectionState) => void): Disposable {
    this.connectionListeners.add(listener);
    return { dispose: () => this.connectionListeners.delete(listener) };
  }

  private emitProgress(progress: LoopbackProgress): void {
    for (const listener of this.progressListeners) listener(progress);
  }

  private emitEdge(edge: LoopbackEdge): void {
    for (const listener of this.edgeListeners) listener({ ...edge });
  }

  private emitFit(fit: ClockFit): void {
    for (const listener of this.fitListeners) listener(fit);
  }

  private emitConnection(state: ConnectionState): void {
    for (const listener of this.connectionListeners) listener(state);
  }

  /** Stops reconnecting and closes the port. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop('session closed');
    this.reconnectAbort?.abort();
    this.lineSubscription.dispose();
    await this.transport.close();
  }
}

const SILENT = 'the probe went silent';

/** How the run's PINGs fill the gaps between sends: `perGap` in every `everyGaps`-th gap, about one per `intervalMs`. */
export function pingGapPlan(gapMs: number, intervalMs: number): { perGap: number; everyGaps: number } {
  if (gapMs >= intervalMs) return { perGap: Math.max(1, Math.floor(gapMs / intervalMs)), everyGaps: 1 };
  return { perGap: 1, everyGaps: Math.ceil(intervalMs / gapMs) };
}

/** The rig's loop-back test variable (the one marked `"test": true`). */
export function testVariable(rig: RigConfig): VariableConfig {
  const variable = rig.variables.find((candidate) => candidate.test);
  if (!variable) throw new Error(`rig "${rig.name}" has no loop-back test variable: mark one variable with "test": true`);
  return variable;
}


import { randomBytes } from 'node:crypto';
import {
  MAX_FRAME_DELIVERIES_PER_SECOND,
  type LoopbackOutcome,
  type LoopbackState,
  type OpenedRig,
  type ProbeState,
  type Unsubscribe,
} from '../../../shared/api';
import { Emitter } from '../../../shared/emitter';
import type {
  ClockFit,
  LoopbackEdge,
  LoopbackOptionsInput,
  LoopbackProgress,
  ProbePort,
} from '../../../shared/loopback';
import { FrameBatcher } from '../server/frame-batcher';
import type { StoreProvider } from '../store/store-provider';
import type { RigConfig } from '../../../shared/rig';
import { ChatToCvProbe } from './chat-to-cv-probe';
import { LoopbackSession } from './loopback-session';
import { latencyHistogram } from './latency-histogram';
import { discoverProbePorts } from './port-discovery';

/** What the loop-back service needs from the Lab that hosts it. */
export interface LoopbackServiceHost {
  /** The rig the probe measures (its test variable, serial settings, latency target). */
  activeRig(): Promise<OpenedRig>;
  /** Where results are saved; null: not saved (benchmarks). */
  stores(): StoreProvider | null;
  /** The load run going on, else the last one: a loop-back result is kept with it. */
  currentOrLastRunId(): string | null;
}

const toUnsubscribe =
  (disposable: { dispose(): void }): Unsubscribe =>
  () =>
    disposable.dispose();

/**
 * The probe connection and loop-back runs behind the LabApi: one probe at a time, one run at a
 * time; edges are batched to the console's frame rate and results are saved with the load run.
 */
export class LoopbackService {
  private readonly probeEmitter = new Emitter<ProbeState>();
  private readonly progressEmitter = new Emitter<LoopbackProgress>();
  private readonly edgesEmitter = new Emitter<LoopbackEdge[]>();
  private readonly finishEmitter = new Emitter<LoopbackOutcome>();
  private readonly edgeBatcher = new FrameBatcher<LoopbackEdge>(MAX_FRAME_DELIVERIES_PER_SECOND, (edges) =>
    this.edgesEmitter.fire(edges),
  );
  private probe: { session: LoopbackSession; subscriptions: { dispose(): void }[] } | undefined;
  private running = false;
  /**
   * A port scan in flight: it opens every emulator's and probe's port to ask for HELLO, and a
   * second reader on the port the probe is connected on would take lines (PONGs, EDGEs) from
   * the session. Connecting waits for it; a scan never opens the port being connected.
   */
  private scan: Promise<unknown> | undefined;
  private connectingPath: string | undefined;
  private probeState: ProbeState = { state: 'closed', path: null, detail: 'no probe open' };
  private last: LoopbackOutcome | null = null;

  constructor(private readonly host: LoopbackServiceHost) {
    // Kept here, not in a console: a reloaded page asks loopbackState() and starts from it.
    this.probeEmitter.event((state) => (this.probeState = state));
  }

  /** The probe connection, whether a run is going on, and the last outcome. */
  async loopbackState(): Promise<LoopbackState> {
    return { probe: { ...this.probeState }, running: this.running, last: this.last };
  }

  readonly onDidChangeProbe = (listener: (state: ProbeState) => void): Unsubscribe =>
    toUnsubscribe(this.probeEmitter.event(listener));
  readonly onDidLoopbackProgress = (listener: (progress: LoopbackProgress) => void): Unsubscribe =>
    toUnsubscribe(this.progressEmitter.event(listener));
  readonly onDidLoopbackEdges = (listener: (edges: LoopbackEdge[]) => void): Unsubscribe =>
    toUnsubscribe(this.edgesEmitter.event(listener));
  readonly onDidFinishLoopback = (listener: (outcome: LoopbackOutcome) => void): Unsubscribe =>
    toUnsubscribe(this.finishEmitter.event(listener));

  /** Serial ports and running emulators, with the probes that answered HELLO. */
  async listProbePorts(): Promise<ProbePort[]> {
    const baud = (await this.host.activeRig().catch(() => undefined))?.rig.serial?.baud;
    const skip = [this.probe?.session.path, this.connectingPath].filter((path): path is string => path !== undefined);
    const scan = discoverProbePorts({ skip, ...(baud ? { baudRate: baud } : {}) });
    const earlier = this.scan;
    this.scan = Promise.all([earlier, scan.catch(() => undefined)]);
    return scan;
  }

  /** Opens the probe on `path` with the active rig's test variable. */
  async connectProbe(path: string): Promise<ProbeState> {
    this.connectingPath = path;
    try {
      await this.scan;
      return await this.connectUnscanned(path);
    } finally {
      this.connectingPath = undefined;
    }
  }

  private async connectUnscanned(path: string): Promise<ProbeState> {
    await this.closeProbe();
    const { rig } = await this.host.activeRig();
    const session = new LoopbackSession({ rig, path, ...(rig.serial?.baud ? { baudRate: rig.serial.baud } : {}) });
    const subscriptions = [
      session.onDidChangeConnection((state) =>
        this.probeEmitter.fire({
          state: state.state,
          path,
          detail:
            state.state === 'connected' ? describeHello(state.hello) : state.reason,
        }),
      ),
      session.onDidProgress((progress) => this.progressEmitter.fire(progress)),
      session.onDidEdge((edge) => this.edgeBatcher.push(edge)),
    ];
    this.probe = { session, subscriptions };
    try {
      const hello = await session.connect();
      const state: ProbeState = { state: 'connected', path, detail: describeHello(hello) };
      this.probeState = state;
      return state;
    } catch (error) {
      await this.closeProbe();
      throw error;
    }
  }

  /** Closes the probe's port. */
  async disconnectProbe(): Promise<ProbeState> {
    await this.closeProbe();
    const state: ProbeState = { state: 'closed', path: null, detail: 'no probe open' };
    this.probeEmitter.fire(state);
    return state;
  }

  /** Fits the probe clock to the host's. */
  calibrateProbe(): Promise<ClockFit> {
    return this.requireProbe().calibrate();
  }

  /** Starts a loop-back run; its outcome arrives through onDidFinishLoopback. */
  async startLoopback(options: LoopbackOptionsInput): Promise<{ total: number }> {
    const session = this.requireProbe();
    if (this.running) throw new Error('A loop-back run is already going on: stop it first.');
    this.running = true;
    const startedAtMs = Date.now();
    session
      .run(options)
      .then(
        (result) => {
          this.edgeBatcher.flush();
          this.running = false;
          this.finish({ ok: true, result, histogram: latencyHistogram(result) });
          void this.saveLoopback(result, startedAtMs);
        },
        (error: unknown) => {
          this.edgeBatcher.flush();
          this.running = false;
          this.finish({ ok: false, error: error instanceof Error ? error.message : String(error) });
        },
      );
    return { total: options.edges ?? 200 };
  }

  private finish(outcome: LoopbackOutcome): void {
    this.last = outcome;
    this.finishEmitter.fire(outcome);
  }

  /**
   * The connected probe for a load run's chat → CV (the run's rig names the test variable);
   * undefined when no probe is connected or a loop-back run holds it.
   */
  probeForRun(rig: RigConfig): ChatToCvProbe | undefined {
    const session = this.probe?.session;
    if (!session || !session.isConnected || this.running) return undefined;
    return new ChatToCvProbe(session, rig);
  }

  /** Stops the loop-back run going on. */
  async stopLoopback(): Promise<void> {
    this.probe?.session.stop('stopped from the console');
  }

  /** Closes the probe and ends the edge batcher (the Lab is closing). */
  async dispose(): Promise<void> {
    await this.closeProbe();
    this.edgeBatcher.dispose();
  }

  /**
   * Keeps a loop-back result with the load run going on (or the last one), so that run's report
   * shows the hardware latency beside the pipeline's.
   */
  private async saveLoopback(result: object, startedAtMs: number): Promise<void> {
    const stores = this.host.stores();
    if (!stores) return;
    try {
      const store = await stores.get();
      const rig = await this.host.activeRig().catch(() => undefined);
      await store.loopback.save({
        id: `loopback-${startedAtMs}-${randomBytes(3).toString('hex')}`,
        runId: this.host.currentOrLastRunId(),
        rig: rig?.rig.name ?? 'unknown',
        startedAtMs,
        summary: result as Record<string, unknown>,
      });
    } catch (error) {
      console.error(`cvlab: saving the loop-back result failed: ${(error as Error).message}`);
    }
  }

  private requireProbe(): LoopbackSession {
    if (!this.probe) throw new Error('No probe is connected: pick its serial port and connect first.');
    return this.probe.session;
  }

  private async closeProbe(): Promise<void> {
    const probe = this.probe;
    this.probe = undefined;
    if (!probe) return;
    probe.session.stop('the probe was closed');
    for (const subscription of probe.subscriptions) subscription.dispose();
    await probe.session.close().catch(() => undefined);
  }
}

/** "firmware 1.1.0, 12-bit ADC, uart": the HELLO in a few words (the console shows it as is). */
function describeHello(hello: { firmware: string; adcBits: number; link?: string }): string {
  return `${hello.firmware}, ${hello.adcBits}-bit ADC${hello.link ? `, ${hello.link} link` : ''}`;
}

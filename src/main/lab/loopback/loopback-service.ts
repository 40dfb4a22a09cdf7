import { randomBytes } from 'node:crypto';
import {
  MAX_FRAME_DELIVERIES_PER_SECOND,
  type LatencyHistogram,
  type LoopbackOutcome,
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
  LoopbackResult,
  ProbePort,
} from '../../../shared/loopback';
import { FrameBatcher } from '../server/frame-batcher';
import type { StoreProvider } from '../store/store-provider';
import { LoopbackSession } from './loopback-session';
import { listProbePorts } from './probe-transport';

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

  constructor(private readonly host: LoopbackServiceHost) {}

  readonly onDidChangeProbe = (listener: (state: ProbeState) => void): Unsubscribe =>
    toUnsubscribe(this.probeEmitter.event(listener));
  readonly onDidLoopbackProgress = (listener: (progress: LoopbackProgress) => void): Unsubscribe =>
    toUnsubscribe(this.progressEmitter.event(listener));
  readonly onDidLoopbackEdges = (listener: (edges: LoopbackEdge[]) => void): Unsubscribe =>
    toUnsubscribe(this.edgesEmitter.event(listener));
  readonly onDidFinishLoopback = (listener: (outcome: LoopbackOutcome) => void): Unsubscribe =>
    toUnsubscribe(this.finishEmitter.event(listener));

  /** Serial ports a probe may sit on. */
  listProbePorts(): Promise<ProbePort[]> {
    return listProbePorts();
  }

  /** Opens the probe on `path` with the active rig's test variable. */
  async connectProbe(path: string): Promise<ProbeState> {
    await this.closeProbe();
    const { rig } = await this.host.activeRig();
    const session = new LoopbackSession({ rig, path, ...(rig.serial?.baud ? { baudRate: rig.serial.baud } : {}) });
    const subscriptions = [
      session.onDidChangeConnection((state) =>
        this.probeEmitter.fire({
          state: state.state,
          path,
          detail:
            state.state === 'connected' ? `${state.hello.firmware}, ${state.hello.adcBits}-bit ADC` : state.reason,
        }),
      ),
      session.onDidProgress((progress) => this.progressEmitter.fire(progress)),
      session.onDidEdge((edge) => this.edgeBatcher.push(edge)),
    ];
    this.probe = { session, subscriptions };
    try {
      const hello = await session.connect();
      return { state: 'connected', path, detail: `${hello.firmware}, ${hello.adcBits}-bit ADC` };
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
          this.finishEmitter.fire({ ok: true, result, histogram: latencyHistogram(result) });
          void this.saveLoopback(result, startedAtMs);
        },
        (error: unknown) => {
          this.edgeBatcher.flush();
          this.finishEmitter.fire({ ok: false, error: error instanceof Error ? error.message : String(error) });
        },
      )
      .finally(() => {
        this.running = false;
      });
    return { total: options.edges ?? 200 };
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

const HISTOGRAM_BINS = 40;

/** Counts the matched clock-model latencies into equal bins (engine side: the console only draws them). */
export function latencyHistogram(result: LoopbackResult): LatencyHistogram {
  const values = result.edges.flatMap((edge) =>
    edge.status === 'matched' && edge.latencyUs !== null ? [edge.latencyUs] : [],
  );
  if (values.length === 0) return { startUs: 0, binUs: 0, counts: [] };
  const low = Math.min(...values);
  const high = Math.max(...values);
  const binUs = high > low ? (high - low) / HISTOGRAM_BINS : 1;
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const value of values) {
    const index = Math.min(HISTOGRAM_BINS - 1, Math.floor((value - low) / binUs));
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return { startUs: low, binUs, counts };
}

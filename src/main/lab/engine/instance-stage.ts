import { createSocket, type Socket } from 'node:dgram';
import { encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { RigConfig } from '../../../shared/rig';
import { createHistogram } from '../common/create-histogram';
import type { InstanceRequest, InstanceSnapshot } from '../common/engine-protocol';
import { statisticsOf } from '../common/histogram-statistics';
import { monotonicNs } from '../common/monotonic-clock';
import type { ChatPipeline, Disposable } from './pipeline/pipeline-types';

/** After its share, an instance listens on until no change of another has come for this long… */
const LINGER_QUIET_MS = 300;
/** …but no longer than this. */
const LINGER_MAX_MS = 3_000;

/**
 * One instance's share of a multi-instance run, on the engine's thread: the propagation stage
 * (each change another instance published, timed against Redis time) and, for an instance that
 * does not drive the converter, the local relay its datagrams go to — forwarded to the converter
 * once the host says the sending instance was lost.
 */
export class InstanceStage {
  private readonly propagation: Histogram = createHistogram();
  private remoteChanges = 0;
  private lastRemoteAtNs = monotonicNs();
  private forwarding = false;
  private subscription: Disposable | undefined;

  private constructor(
    private readonly request: InstanceRequest,
    private readonly relay: Socket | undefined,
  ) {}

  /** Opens the share; the rig the pipeline sends to comes back (the relay's address when it does not drive the converter). */
  static async open(request: InstanceRequest, rig: RigConfig): Promise<{ share: InstanceStage; rig: RigConfig }> {
    if (!request.relayOsc) return { share: new InstanceStage(request, undefined), rig };
    // Instances that do not drive the converter still encode and send, to a local relay, so every stage is timed alike.
    const converter = rig.osc;
    const relay = createSocket('udp4');
    const share = new InstanceStage(request, relay);
    relay.on('message', (datagram) => {
      if (share.forwarding) relay.send(datagram, converter.port, converter.host);
    });
    await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', () => resolve()));
    const { tapPort: _tapPort, ...osc } = converter;
    return { share, rig: { ...rig, osc: { ...osc, host: '127.0.0.1', port: relay.address().port } } };
  }

  /** Times every change another instance published, from its publish (Redis TIME) to now in Redis time. */
  attach(pipeline: ChatPipeline): void {
    const offsetMs = this.request.redisMinusMonotonicMs;
    this.subscription = pipeline.onDidChangeState((change) => {
      if (change.origin !== 'remote' || change.publishedAtMs === undefined || !Number.isFinite(change.publishedAtMs)) return;
      const nowNs = monotonicNs();
      this.lastRemoteAtNs = nowNs;
      this.propagation.recordValue(Math.max(0, Math.round((nowNs / 1e6 + offsetMs - change.publishedAtMs) * 1e6)));
      this.remoteChanges++;
    });
  }

  /** The sending instance was lost: this one's datagrams now go on to the converter. */
  takeOverOsc(): void {
    this.forwarding = this.relay !== undefined;
  }

  /** A few percentiles so far, for the snapshots: nothing per change crosses the thread. */
  snapshot(): InstanceSnapshot {
    const seen = statisticsOf(this.propagation);
    return { remoteChanges: this.remoteChanges, ...(seen ? { propagation: { count: seen.count, p50: seen.p50, p95: seen.p95, p99: seen.p99, max: seen.max } } : {}) };
  }

  /** The others may still be sending when this share ends: listen on until they go quiet (bounded). */
  async linger(): Promise<void> {
    const deadlineNs = monotonicNs() + LINGER_MAX_MS * 1e6;
    while (monotonicNs() - this.lastRemoteAtNs < LINGER_QUIET_MS * 1e6 && monotonicNs() < deadlineNs) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** After the pipeline closed: the whole propagation histogram; the relay closes. */
  finish(): InstanceSnapshot & { propagationHistogram?: string } {
    this.subscription?.dispose();
    const final = { ...this.snapshot(), ...(this.propagation.totalCount > 0 ? { propagationHistogram: encodeIntoCompressedBase64(this.propagation) } : {}) };
    this.propagation.destroy();
    this.relay?.close();
    return final;
  }
}

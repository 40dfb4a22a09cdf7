import type { FanoutCounters } from '../../../../shared/run';
import type { FanoutRequest } from '../../common/engine-protocol';
import type { ChatPipeline, Disposable } from '../pipeline/pipeline-types';
import { attachFanout } from './attach-fanout';
import { FanoutServer } from './fanout-server';

/** How long the subscribers are given to read what was sent before the server closes at the end. */
const FLUSH_MS = 2_000;

/**
 * A fan-out scaling run's parts on the engine's thread: the fan-out server, pushed to by the
 * pipeline the moment a change is accepted. The subscribers (processes of their own, or the
 * host's) connect to `url`; the host reads the counters from the snapshots.
 */
export class FanoutStage {
  private subscription: Disposable | undefined;
  private closing: Promise<void> | undefined;
  /** The counts as the server closed (its clients still counted). */
  private final: FanoutCounters | undefined;

  private constructor(
    private readonly server: FanoutServer,
    private readonly request: FanoutRequest,
  ) {}

  static async listen(request: FanoutRequest): Promise<FanoutStage> {
    const server = await FanoutServer.listen({ maxClients: request.maxClients, maxBufferedBytes: request.maxBufferedBytes, slowPolicy: request.slowPolicy });
    return new FanoutStage(server, request);
  }

  get url(): string {
    return this.server.url;
  }

  attach(pipeline: ChatPipeline): void {
    this.subscription = attachFanout(pipeline, this.server, { remote: this.request.remote });
  }

  /** Before the first message: every subscriber the run asked for is connected (or the run was stopped). */
  waitForSubscribers(stopped?: AbortSignal): Promise<void> {
    return this.server.waitForClients(Math.min(this.request.subscribers, this.request.maxClients), this.request.connectTimeoutMs ?? 60_000, stopped);
  }

  counters(): FanoutCounters {
    return this.final ?? this.server.counters();
  }

  /** Once the scheduler has drained: nothing more is pushed; what was sent reaches the kernel; the server closes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.subscription?.dispose();
      await this.server.flush(FLUSH_MS);
      this.final = this.server.counters();
      await this.server.close();
    })();
    return this.closing;
  }
}

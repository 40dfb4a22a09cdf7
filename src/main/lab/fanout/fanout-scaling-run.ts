import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { RigConfig } from '../../../shared/rig';
import type { FanoutCounters, FanoutScalingSummary, RunInfo, RunOverrides, StageStatistics } from '../../../shared/run';
import { FanoutSchema, type Scenario } from '../../../shared/scenario';
import type { RunController } from '../run/run-controller';
import { initHistograms } from '../common/create-histogram';
import { mergeHistograms } from '../multi/merge-histograms';
import { statisticsOf } from '../common/histogram-statistics';
import { FanoutSubscriberPool } from './fanout-subscriber-pool';
import { RemoteSubscriberPool, type RemoteSubscriberReport } from './remote-subscriber-pool';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';

export type { FanoutScalingSummary } from '../../../shared/run';

/**
 * The `websocket-scaling` scenario: the pipeline runs the scenario with the fan-out stage
 * attached while N simulated subscribers on loopback (some stalled, if asked) receive every
 * accepted change; fan-out latency is measured as its own stage. The fan-out server lives on
 * the engine's thread beside the pipeline (its settings cross as data); the subscribers connect
 * when it says where it listens, and the engine sends its first message once they all have.
 */
export async function runFanoutScaling(options: {
  scenario: Scenario;
  rig: RigConfig;
  overrides?: RunOverrides;
  /** The session's engine (its audit sink, frames and progress go where the session says); the run builds none of its own. */
  engine: RunController;
  /** The run exists (state `starting`) before the engine waits for the subscribers: a stop from here ends it at once. */
  onStarting?: (info: RunInfo) => void;
  /** The run has started: its id and plan, as the engine gave them. */
  onStarted?: (info: RunInfo) => void;
  /** Fan-out latency so far, about once a second while the run goes on (the console shows it live). */
  onFanoutLatency?: (latency: StageStatistics | undefined) => void;
}): Promise<FanoutScalingSummary> {
  const config = options.scenario.fanout ?? FanoutSchema.parse({});
  await initHistograms();
  const controller = options.engine;
  const pools: { remote?: RemoteSubscriberPool; local: FanoutSubscriberPool[]; connecting?: Promise<void>; counters?: FanoutCounters } = { local: [] };
  // A run stopped while its engine waited for the subscribers: their process is ended, not waited for.
  const abandon = new AbortController();
  // Subscribers read in a process of their own where the build allows, so they do not slow the pipeline they measure.
  const connect = async (url: string): Promise<void> => {
    if (RemoteSubscriberPool.available()) {
      pools.remote = await RemoteSubscriberPool.connect(url, config.subscribers, config.stalledSubscribers, abandon.signal);
      return;
    }
    if (config.stalledSubscribers > 0) {
      const stalled = await FanoutSubscriberPool.connect(url, config.stalledSubscribers);
      pools.local.push(stalled);
      for (let index = 0; index < stalled.size; index++) stalled.stall(index);
    }
    pools.local.push(await FanoutSubscriberPool.connect(url, config.subscribers));
  };
  const reports = controller.onDidReportKind((report) => {
    if (report.fanoutUrl !== undefined) pools.connecting = connect(report.fanoutUrl);
    if (report.fanout) pools.counters = report.fanout;
  });
  try {
    let info: RunInfo;
    try {
      info = await controller.start({
        scenario: options.scenario,
        rig: options.rig,
        ...(options.overrides ? { overrides: options.overrides } : {}),
        ...(options.onStarting ? { onStarting: options.onStarting } : {}),
        fanout: {
          maxClients: config.maxClients,
          maxBufferedBytes: config.maxBufferedBytes,
          slowPolicy: config.slowPolicy,
          remote: config.remote,
          subscribers: config.subscribers + config.stalledSubscribers,
        },
      });
    } catch (error) {
      if (error instanceof StoppedWhileWaitingError) abandon.abort();
      // The subscribers' own failure says more than the engine's wait for them.
      else await pools.connecting;
      throw error;
    }
    try {
      await pools.connecting;
    } catch (error) {
      // Some subscribers were refused (more than maxClients): the run is not what was asked for.
      await controller.stop();
      throw error;
    }
    const finished = controller.finished();
    options.onStarted?.(info);
    const remote = pools.remote;
    const local = pools.local;
    // The subscribers' histogram so far, once a second: one report at a time, none once the run has ended.
    let polling: Promise<void> | undefined;
    const latencySoFar = async (): Promise<StageStatistics | undefined> => {
      if (!remote) return statisticsOf((local.at(-1) as FanoutSubscriberPool).histogram);
      const histogram = mergeHistograms([(await remote.report()).histogram]);
      const latency = statisticsOf(histogram);
      histogram.destroy();
      return latency;
    };
    const poll = options.onFanoutLatency
      ? setInterval(() => {
          polling ??= latencySoFar()
            .then(options.onFanoutLatency, () => undefined)
            .finally(() => (polling = undefined));
        }, 1000)
      : undefined;
    let summary: Awaited<ReturnType<RunController['finished']>>;
    try {
      summary = await finished;
    } finally {
      clearInterval(poll);
      await polling;
    }
    if (!summary) throw new Error('the run ended without a summary');
    const counters = pools.counters ?? { clients: 0, published: 0, sent: 0, coalesced: 0, dropped: 0, refused: 0, disconnected: 0 };
    // Changes still on their way to subscribers when the run ended.
    const accepted = counters.published;
    let report: RemoteSubscriberReport;
    if (remote) {
      await remote.waitForReceived(accepted).catch(() => undefined);
      report = await remote.report();
    } else {
      const pool = local.at(-1) as FanoutSubscriberPool;
      await pool.waitForReceived(accepted, 5_000).catch(() => undefined);
      report = {
        ...(pool.histogram.totalCount > 0 ? { histogram: encodeIntoCompressedBase64(pool.histogram) } : {}),
        received: pool.tallies.map((tally) => tally.received),
        gaps: pool.tallies.filter((tally) => tally.gaps > 0).length,
        outOfOrder: pool.tallies.filter((tally) => tally.outOfOrder > 0).length,
      };
    }
    const histogram = mergeHistograms([report.histogram]);
    const latency = statisticsOf(histogram);
    histogram.destroy();
    return {
      ...summary,
      fanout: {
        subscribers: config.subscribers,
        stalledSubscribers: config.stalledSubscribers,
        ...(latency && report.histogram ? { latency, latencyHistogram: report.histogram } : {}),
        counters,
        subscribersWithGaps: Math.max(report.gaps, report.received.filter((count) => count < accepted).length),
        subscribersOutOfOrder: report.outOfOrder,
      },
    };
  } finally {
    reports.dispose();
    await pools.connecting?.catch(() => undefined);
    await Promise.all([...pools.local.map((pool) => pool.close()), pools.remote?.close()]);
  }
}

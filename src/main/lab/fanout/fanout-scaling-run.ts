import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { RigConfig } from '../../../shared/rig';
import type { RunOverrides, RunSummary, StageStatistics } from '../../../shared/run';
import { FanoutSchema, type Scenario } from '../../../shared/scenario';
import { RunController } from '../run/run-controller';
import { initHistograms } from '../common/create-histogram';
import { createPipeline } from '../engine/pipeline/chat-pipeline';
import type { OutcomeSink } from '../common/outcome-record';
import { mergeHistograms } from '../multi/merge-histograms';
import { statisticsOf } from '../common/histogram-statistics';
import { attachFanout } from '../engine/fanout/attach-fanout';
import { FanoutServer, type FanoutCounters } from '../engine/fanout/fanout-server';
import { FanoutSubscriberPool } from './fanout-subscriber-pool';
import { RemoteSubscriberPool, type RemoteSubscriberReport } from './remote-subscriber-pool';

/** A run with the fan-out stage: the run's own figures plus fan-out latency (accepted → received by each subscriber). */
export interface FanoutScalingSummary extends RunSummary {
  readonly fanout: {
    readonly subscribers: number;
    readonly stalledSubscribers: number;
    /** Accepted → received, every (subscriber, change) pair of the subscribers that read, ns. */
    readonly latency?: StageStatistics;
    readonly latencyHistogram?: string;
    readonly counters: FanoutCounters;
    /** Subscribers that missed a change or saw one out of order (0 in a sound run without drops). */
    readonly subscribersWithGaps: number;
    readonly subscribersOutOfOrder: number;
  };
}

/**
 * The `websocket-scaling` scenario: the pipeline runs the scenario with the fan-out stage
 * attached while N simulated subscribers on loopback (some stalled, if asked) receive every
 * accepted change; fan-out latency is measured as its own stage.
 */
export async function runFanoutScaling(options: {
  scenario: Scenario;
  rig: RigConfig;
  overrides?: RunOverrides;
  /** Where outcomes go after the hot path (the audit log). */
  sink?: OutcomeSink;
  /** The run's engine, before it starts: a host follows its frames and progress and may stop it. */
  onController?: (controller: RunController) => void;
  /** Fan-out latency so far, about once a second while the run goes on (the console shows it live). */
  onFanoutLatency?: (latency: StageStatistics | undefined) => void;
}): Promise<FanoutScalingSummary> {
  const config = options.scenario.fanout ?? FanoutSchema.parse({});
  await initHistograms();
  const server = await FanoutServer.listen({ maxClients: config.maxClients, maxBufferedBytes: config.maxBufferedBytes, slowPolicy: config.slowPolicy });
  // Subscribers read in a process of their own where the build allows, so they do not slow the pipeline they measure.
  const remote = RemoteSubscriberPool.available() ? await RemoteSubscriberPool.connect(server.url, config.subscribers, config.stalledSubscribers) : undefined;
  const local: FanoutSubscriberPool[] = [];
  try {
    if (!remote) {
      if (config.stalledSubscribers > 0) {
        const stalled = await FanoutSubscriberPool.connect(server.url, config.stalledSubscribers);
        local.push(stalled);
        for (let index = 0; index < stalled.size; index++) stalled.stall(index);
      }
      local.push(await FanoutSubscriberPool.connect(server.url, config.subscribers));
    }
    const controller = new RunController({
      createPipeline: async (rig, pipelineOptions) => {
        const pipeline = await createPipeline(rig, pipelineOptions);
        attachFanout(pipeline, server, { remote: config.remote });
        return pipeline;
      },
      ...(options.sink ? { sink: options.sink } : {}),
    });
    options.onController?.(controller);
    await controller.start({ scenario: options.scenario, rig: options.rig, ...(options.overrides ? { overrides: options.overrides } : {}) });
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
      summary = await controller.finished();
    } finally {
      clearInterval(poll);
      await polling;
    }
    if (!summary) throw new Error('the run ended without a summary');
    // Changes still on their way to subscribers when the run ended.
    const accepted = server.counters().published;
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
        counters: server.counters(),
        subscribersWithGaps: Math.max(report.gaps, report.received.filter((count) => count < accepted).length),
        subscribersOutOfOrder: report.outOfOrder,
      },
    };
  } finally {
    await Promise.all([...local.map((pool) => pool.close()), remote?.close()]);
    await server.close();
  }
}

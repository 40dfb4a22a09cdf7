import type { RunSummary, StageStatistics } from '../../../shared/run';
import { compileThresholds, METRIC_STAGES, type Scenario } from '../../../shared/scenario';
import { decodeHistogram } from '../common/create-histogram';
import { OutcomeTally } from '../metrics/outcome-tally';
import { StageHistograms } from '../metrics/stage-histograms';
import { evaluateThresholds } from '../metrics/thresholds';

/**
 * One run's figures from the summaries of its instances: counts are added, histograms merged
 * bucket by bucket (percentiles never averaged), thresholds judged again on the merged figures.
 * `base` supplies the run identity (id, namespace, seed) of the whole run.
 */
export function mergeRunSummaries(
  parts: readonly RunSummary[],
  scenario: Scenario,
  base: Pick<RunSummary, 'run'> & {
    readonly extraFailure?: string;
    /** Planned messages of instances that were lost: never answered, so they count as unaccounted and lost. */
    readonly lostMessages?: number;
  },
): RunSummary {
  const stages = new StageHistograms();
  const tally = new OutcomeTally();
  try {
    for (const part of parts) {
      for (const stage of METRIC_STAGES) {
        const encoded = part.histograms[stage];
        if (!encoded) continue;
        const decoded = decodeHistogram(encoded);
        stages.get(stage).add(decoded);
        decoded.destroy();
      }
      tally.accepted += part.outcomes.accepted;
      tally.rejected += part.outcomes.rejected;
      tally.failed += part.outcomes.failed;
      for (const [code, count] of Object.entries(part.outcomes.byCode))
        tally.byCode.set(code, (tally.byCode.get(code) ?? 0) + count);
    }
    const sum = (pick: (part: RunSummary) => number): number => parts.reduce((total, part) => total + pick(part), 0);
    const max = (pick: (part: RunSummary) => number): number =>
      parts.reduce((most, part) => Math.max(most, pick(part)), 0);
    const elapsedMs = max((part) => part.elapsedMs);
    const lostMessages = base.lostMessages ?? 0;
    const sent = sum((part) => part.sent);
    const completed = sum((part) => part.completed);
    const late = sum((part) => part.slip.late);
    const eventLoopP99 = max((part) => part.resources.eventLoopDelayP99);
    const thresholds = evaluateThresholds(compileThresholds(scenario.thresholds), {
      stages,
      outcomes: tally,
      sent: sent + lostMessages,
      late,
      elapsedMs,
      eventLoopDelay: { p99: eventLoopP99, max: max((part) => part.resources.eventLoopDelayMax), count: parts.length },
    });
    const statistics: RunSummary['stages'] = {};
    for (const stage of METRIC_STAGES) {
      const figures = stages.statistics(stage);
      if (figures) (statistics as Record<string, StageStatistics>)[stage] = figures;
    }
    const unaccounted = sum((part) => part.unaccounted) + lostMessages;
    const failedParts = parts.filter((part) => part.stopReason === 'failed' || part.stopReason === 'aborted');
    const passed =
      parts.length > 0 &&
      !base.extraFailure &&
      failedParts.length === 0 &&
      unaccounted === 0 &&
      thresholds.every((verdict) => verdict.passed);
    const reasons = [base.extraFailure, ...failedParts.map((part) => part.reason)].filter((reason): reason is string =>
      Boolean(reason),
    );
    return {
      run: base.run,
      endedAt: new Date().toISOString(),
      elapsedMs,
      stopReason:
        failedParts.length > 0
          ? 'failed'
          : parts.every((part) => part.stopReason === 'completed')
            ? 'completed'
            : 'stopped',
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      sent,
      completed,
      unaccounted,
      outcomes: tally.counts(),
      throughput: elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0,
      slip: { toleranceNs: scenario.slipTolerance * 1e6, late, lateRate: sent > 0 ? late / sent : 0 },
      stages: statistics,
      histograms: stages.encode(),
      thresholds,
      passed,
      resources: {
        // CPU is summed over the processes (mean and max alike, so max ≥ mean); the rest is the worst instance.
        cpuPercentMean: sum((part) => part.resources.cpuPercentMean),
        cpuPercentMax: sum((part) => part.resources.cpuPercentMax),
        processes: parts.length,
        rssMaxBytes: max((part) => part.resources.rssMaxBytes),
        heapMaxBytes: max((part) => part.resources.heapMaxBytes),
        eventLoopDelayP99: eventLoopP99,
        eventLoopDelayMax: max((part) => part.resources.eventLoopDelayMax),
      },
      pipeline: {
        limiterFallbacks: sum((part) => part.pipeline.limiterFallbacks),
        tapMatched: sum((part) => part.pipeline.tapMatched),
        tapUnmatched: sum((part) => part.pipeline.tapUnmatched),
      },
      framesKept: sum((part) => part.framesKept),
    };
  } finally {
    stages.destroy();
  }
}

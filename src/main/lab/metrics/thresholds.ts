import type { ThresholdVerdict } from '../../../shared/run';
import type { CompiledThreshold } from '../../../shared/scenario';
import type { BotFigures } from './bot-resource-monitor';
import type { OutcomeTally } from './outcome-tally';
import type { StageHistograms } from './stage-histograms';

/** The figures thresholds are judged on: a whole run, one step of a capacity search, or the run so far. */
export interface MetricsView {
  readonly stages: StageHistograms;
  readonly outcomes: OutcomeTally;
  readonly sent: number;
  readonly late: number;
  readonly elapsedMs: number;
  readonly eventLoopDelay?: { readonly p99: number; readonly max: number; readonly count: number };
  /** Messages the in-process limiter decided for Redis (absent: judged by the run service on the pipeline's counter). */
  readonly limiterFallbacks?: number;
  /** Black box: the bot's own CPU and memory over the same stretch (absent: not a black-box run, or the bot was not watched). */
  readonly bot?: BotFigures;
}

/** The measured value of a threshold's metric, with the number of samples it rests on. */
export function measureThreshold(threshold: CompiledThreshold, view: MetricsView): { actual?: number; samples: number } {
  const metric = threshold.metric;
  switch (metric.kind) {
    case 'latency': {
      const histogram = view.stages.get(metric.stage);
      const samples = histogram.totalCount;
      if (samples === 0) return { samples };
      const statistic = metric.statistic;
      const actual =
        statistic === 'max' ? histogram.maxValue : statistic === 'mean' ? histogram.mean : statistic === 'min' ? histogram.getValueAtPercentile(0) : histogram.getValueAtPercentile(statistic);
      return { actual, samples };
    }
    case 'outcome': {
      const outcomes = view.outcomes;
      if (metric.outcome === 'lost') return { actual: view.sent - outcomes.completed, samples: view.sent };
      if (metric.outcome === 'late') {
        return { actual: metric.aggregate === 'count' ? view.late : view.sent > 0 ? view.late / view.sent : 0, samples: view.sent };
      }
      const count =
        metric.outcome === 'errors' ? outcomes.failed : metric.outcome === 'accepted' ? outcomes.accepted : metric.code ? outcomes.code(metric.code) : outcomes.rejected;
      const completed = outcomes.completed;
      return { actual: metric.aggregate === 'count' ? count : completed > 0 ? count / completed : 0, samples: completed };
    }
    case 'throughput':
      return { actual: view.elapsedMs > 0 ? view.outcomes.completed / (view.elapsedMs / 1000) : 0, samples: view.outcomes.completed };
    case 'limiter':
      return { actual: view.limiterFallbacks ?? 0, samples: view.sent };
    case 'eventloop': {
      const loop = view.eventLoopDelay;
      if (!loop || loop.count === 0) return { samples: 0 };
      return { actual: metric.statistic === 'p99' ? loop.p99 : loop.max, samples: loop.count };
    }
    case 'bot': {
      const bot = view.bot;
      const actual = metric.figure === 'cpu.max' ? bot?.cpuMax : metric.figure === 'cpu.mean' ? bot?.cpuMean : bot?.rssSlopeBytesPerHour;
      const samples = metric.figure === 'rss.slope' ? (bot?.leakPoints ?? 0) : (bot?.samples ?? 0);
      return actual === undefined ? { samples: 0 } : { actual, samples };
    }
  }
}

/**
 * Judges each threshold as k6 does. A metric with no samples fails (a threshold on a stage that
 * never ran is a mistake worth seeing) unless `skipEmpty`, used while a run is still going.
 */
export function evaluateThresholds(thresholds: readonly CompiledThreshold[], view: MetricsView, skipEmpty = false): ThresholdVerdict[] {
  const verdicts: ThresholdVerdict[] = [];
  for (const threshold of thresholds) {
    const { actual, samples } = measureThreshold(threshold, view);
    if (actual === undefined && skipEmpty) continue;
    const { operator, limit } = threshold.condition;
    const passed =
      actual !== undefined &&
      (operator === '<' ? actual < limit : operator === '<=' ? actual <= limit : operator === '>' ? actual > limit : actual >= limit);
    const excess = passed || actual === undefined ? 0 : operator === '<' || operator === '<=' ? actual - limit : limit - actual;
    verdicts.push({
      key: threshold.key,
      expression: threshold.expression,
      unit: threshold.unit,
      ...(actual !== undefined ? { actual } : {}),
      limit,
      passed,
      excess,
      ...(actual !== undefined && limit !== 0 ? { ratio: actual / limit } : {}),
      samples,
    });
  }
  return verdicts;
}

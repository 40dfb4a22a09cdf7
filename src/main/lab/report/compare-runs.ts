import { formatChange, formatCount, formatFigure } from '../../../shared/format-figures';
import type { ComparisonReading, ComparisonVerdict, IntervalDistribution, PercentileComparisonRow, RunComparison, RunReport, TotalComparisonRow } from '../../../shared/report';
import { mannWhitneyU, median } from './mann-whitney';

export interface CompareOptions {
  /** Stage whose per-interval samples are tested (default e2e). */
  readonly stage?: string;
  /** Which per-interval percentile is the sample (default p99). */
  readonly statistic?: 'p50' | 'p95' | 'p99' | 'max';
  /** Significance level of the test (default 0.01). */
  readonly alpha?: number;
  /** Smallest change of the median that matters in practice (default 0.05 = 5%). */
  readonly minimumEffect?: number;
  /** Smallest |Cliff's delta| that counts (default 0.147, "small" in Romano et al.). */
  readonly minimumDelta?: number;
  /** Fewer intervals than this on either side: no verdict but unchanged (default 10). */
  readonly minimumSamples?: number;
}

const PERCENTILES = ['p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;

/** Per-interval samples of one stage statistic, from intervals that saw traffic. */
export function intervalSamples(report: RunReport, stage: string, statistic: 'p50' | 'p95' | 'p99' | 'max'): number[] {
  return report.intervals.flatMap((interval) => {
    const stats = interval.stages[stage];
    return stats && stats.count > 0 ? [stats[statistic]] : [];
  });
}

/**
 * True when the whole-run percentile (from the merged histograms) moved beyond the minimum
 * effect in the direction opposite to the per-interval medians: the two disagree, so the
 * runs are too noisy for a verdict.
 */
function overallDisagrees(baseline: RunReport, candidate: RunReport, stage: string, statistic: 'p50' | 'p95' | 'p99' | 'max', medianRatio: number, minimumEffect: number): boolean {
  const before = baseline.summary.stages.find((row) => row.stage === stage)?.[statistic];
  const after = candidate.summary.stages.find((row) => row.stage === stage)?.[statistic];
  if (!before || after === undefined) return false;
  const overall = after / before;
  return (medianRatio > 1 && overall < 1 - minimumEffect) || (medianRatio < 1 && overall > 1 + minimumEffect);
}

/**
 * Compares a candidate run with a baseline. The verdict rests on a Mann-Whitney U test of the
 * per-interval p99 samples (not on a bare percentage): a change must be statistically
 * significant AND larger than the minimum practical effect, both in median ratio and in
 * Cliff's delta, so noise in a long run is not flagged as a regression; and the whole-run
 * percentile must not contradict it.
 */
export function compareRuns(baseline: RunReport, candidate: RunReport, options: CompareOptions = {}): RunComparison {
  const stage = options.stage ?? 'e2e';
  const statistic = options.statistic ?? 'p99';
  const alpha = options.alpha ?? 0.01;
  const minimumEffect = options.minimumEffect ?? 0.05;
  const minimumDelta = options.minimumDelta ?? 0.147;
  const minimumSamples = options.minimumSamples ?? 10;

  const before = intervalSamples(baseline, stage, statistic);
  const after = intervalSamples(candidate, stage, statistic);
  const enough = before.length >= minimumSamples && after.length >= minimumSamples;
  const test = enough ? mannWhitneyU(before, after) : { u: 0, z: 0, pValue: 1, cliffsDelta: 0 };
  const medianRatio = enough && median(before) > 0 ? median(after) / median(before) : 1;

  let verdict: ComparisonVerdict = 'unchanged';
  let reason: string;
  const change = `${medianRatio >= 1 ? '+' : ''}${((medianRatio - 1) * 100).toFixed(1)}%`;
  if (!enough) {
    reason = `Too few intervals with ${stage} samples to test (${before.length} and ${after.length}; need ${minimumSamples} each).`;
  } else if (test.pValue >= alpha) {
    reason = `No significant difference in per-interval ${stage}.${statistic} (Mann-Whitney p = ${test.pValue.toPrecision(2)} ≥ ${alpha}; median ${change}).`;
  } else if (Math.abs(medianRatio - 1) < minimumEffect || Math.abs(test.cliffsDelta) < minimumDelta) {
    reason = `Significant but below the practical threshold: median ${change} (minimum ±${(minimumEffect * 100).toFixed(0)}%), Cliff's delta ${test.cliffsDelta.toFixed(2)}.`;
  } else if (overallDisagrees(baseline, candidate, stage, statistic, medianRatio, minimumEffect)) {
    reason = `Inconclusive: per-interval ${stage}.${statistic} median ${change} (p = ${test.pValue.toExponential(1)}), but the whole-run ${stage} ${statistic} moved the other way; rerun both to settle it.`;
  } else {
    verdict = medianRatio > 1 ? 'regressed' : 'improved';
    reason = `Per-interval ${stage}.${statistic} median ${change} (Mann-Whitney p = ${test.pValue.toExponential(1)}, Cliff's delta ${test.cliffsDelta.toFixed(2)}, ${before.length} vs ${after.length} intervals).`;
  }

  const rows: PercentileComparisonRow[] = [];
  const stages = new Set([...baseline.summary.stages.map((row) => row.stage), ...candidate.summary.stages.map((row) => row.stage)]);
  for (const name of stages) {
    const left = baseline.summary.stages.find((row) => row.stage === name);
    const right = candidate.summary.stages.find((row) => row.stage === name);
    for (const percentile of PERCENTILES) {
      const baselineMs = left ? left[percentile] : null;
      const candidateMs = right ? right[percentile] : null;
      rows.push({ stage: name, percentile, baselineMs, candidateMs, change: baselineMs && candidateMs !== null ? candidateMs / baselineMs - 1 : null });
    }
  }
  const wholeRun = rows.find((row) => row.stage === stage && row.percentile === statistic);
  const reading = readComparison({
    figure: `${stage} ${statistic}`,
    before,
    after,
    wholeRun: { baselineMs: wholeRun?.baselineMs ?? null, candidateMs: wholeRun?.candidateMs ?? null, change: wholeRun?.change ?? null },
    enough,
    verdict,
    pValue: test.pValue,
    alpha,
    minimumEffect,
  });
  const curve = (report: RunReport) => report.histograms.find((histogram) => histogram.name === stage)?.curve ?? [];
  return {
    baseline: baseline.run,
    candidate: candidate.run,
    rows,
    test: {
      method: 'mann-whitney-u',
      metric: `${stage}.${statistic}`,
      samplesBaseline: before.length,
      samplesCandidate: after.length,
      u: test.u,
      z: test.z,
      pValue: test.pValue,
      cliffsDelta: test.cliffsDelta,
      medianRatio,
      alpha,
      minimumEffect,
    },
    verdict,
    reason,
    reading,
    distributions: { baseline: distributionOf(before), candidate: distributionOf(after) },
    totals: compareTotals(baseline, candidate),
    differences: setUpDifferences(baseline, candidate),
    curves: { baseline: curve(baseline), candidate: curve(candidate) },
  };
}

/** Throughput and error rate of both runs, from their saved totals. */
function compareTotals(baseline: RunReport, candidate: RunReport): TotalComparisonRow[] {
  const errorRate = (report: RunReport): number | null => {
    const { failed, completed } = report.summary.totals;
    return failed !== undefined && completed ? failed / completed : null;
  };
  const row = (
    name: TotalComparisonRow['name'],
    unit: TotalComparisonRow['unit'],
    before: number | null,
    after: number | null,
  ): TotalComparisonRow => ({
    name,
    unit,
    baseline: before,
    candidate: after,
    change: before && after !== null ? after / before - 1 : null,
  });
  return [
    row(
      'throughput',
      'per_second',
      baseline.summary.totals['throughput'] ?? null,
      candidate.summary.totals['throughput'] ?? null,
    ),
    row('errors.rate', 'ratio', errorRate(baseline), errorRate(candidate)),
  ];
}

/** Each way the two runs were set up differently, in plain words (empty when they match). */
function setUpDifferences(baseline: RunReport, candidate: RunReport): string[] {
  const differences: string[] = [];
  const differ = (what: string, before: unknown, after: unknown): void => {
    if (before === undefined && after === undefined) return;
    if (JSON.stringify(before) !== JSON.stringify(after))
      differences.push(`${what} differs: ${show(before)} in ${baseline.run.id}, ${show(after)} in ${candidate.run.id}`);
  };
  differ('scenario', baseline.run.scenario, candidate.run.scenario);
  differ('rig', baseline.run.rig, candidate.run.rig);
  const executor = (report: RunReport): Record<string, unknown> =>
    (report.scenario?.['executor'] as Record<string, unknown> | undefined) ?? {};
  const before = executor(baseline);
  const after = executor(candidate);
  differ('executor', before['type'], after['type']);
  for (const key of ['rate', 'startRate', 'messages', 'users', 'stages']) differ(`executor ${key}`, before[key], after[key]);
  // Durations are kept in ms; said in seconds.
  for (const key of ['duration', 'window']) differ(`executor ${key}`, seconds(before[key]), seconds(after[key]));
  differ(
    'run duration',
    seconds(roundedSeconds(baseline.summary.durationMs)),
    seconds(roundedSeconds(candidate.summary.durationMs)),
  );
  // Two replays compare only when they played the same log (its content, not its name), the same way.
  const replayed = (report: RunReport): string | undefined => (report.replay ? `${report.replay.log.fileName} (sha256 ${report.replay.log.sha256.slice(0, 16)}…)` : undefined);
  differ('chat log replayed', replayed(baseline), replayed(candidate));
  const played = (report: RunReport): string | undefined =>
    report.replay ? `speed ${report.replay.speed}, ${String(seconds(report.replay.fromMs))} to ${String(seconds(report.replay.toMs))}${report.replay.loop ? ', looped' : ''}, viewers ${report.replay.users}` : undefined;
  differ('replay', played(baseline), played(candidate));
  differ('machine', machine(baseline), machine(candidate));
  return differences;
}

/** Durations within a second of each other count as the same. */
function roundedSeconds(ms: number | null): number | undefined {
  return ms === null ? undefined : Math.round(ms / 1000) * 1000;
}

function seconds(ms: unknown): unknown {
  return typeof ms === 'number' ? `${Number((ms / 1000).toFixed(3))} s` : ms;
}

function machine(report: RunReport): string | undefined {
  const environment = report.environment;
  return environment ? `${environment.hostname} (${environment.cpuModel} ×${environment.cores})` : undefined;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? 'none' : JSON.stringify(value);
}

/** The value at quantile `q` of a sorted sample (nearest rank). */
function quantileOf(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One side's per-interval samples summarised for the small picture (null when it has none). */
export function distributionOf(samples: readonly number[]): IntervalDistribution | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((left, right) => left - right);
  const p95Ms = quantileOf(sorted, 0.95);
  return {
    count: sorted.length,
    minMs: sorted[0]!,
    p25Ms: quantileOf(sorted, 0.25),
    medianMs: median(sorted),
    p75Ms: quantileOf(sorted, 0.75),
    p95Ms,
    maxMs: sorted[sorted.length - 1]!,
    slowestMs: sorted.filter((value) => value > p95Ms).reverse().slice(0, 40),
  };
}

interface ReadingInput {
  readonly figure: string;
  readonly before: readonly number[];
  readonly after: readonly number[];
  readonly wholeRun: ComparisonReading['wholeRun'];
  readonly enough: boolean;
  readonly verdict: ComparisonVerdict;
  readonly pValue: number;
  readonly alpha: number;
  readonly minimumEffect: number;
}

/**
 * Ties the verdict's figure (the typical interval) to the whole-run figure in plain words, so
 * "not significant" beside a whole-run p99 that doubled reads as one story: a few slow
 * intervals hold the slowest messages of the merged histogram, the typical interval did not move.
 */
export function readComparison(input: ReadingInput): ComparisonReading {
  const { figure, before, after, wholeRun } = input;
  const typicalBefore = before.length ? median(before) : null;
  const typicalAfter = after.length ? median(after) : null;
  const typicalChange = typicalBefore && typicalAfter !== null ? typicalAfter / typicalBefore - 1 : null;
  const worstBefore = before.length ? Math.max(...before) : Number.POSITIVE_INFINITY;
  const worstAfter = after.length ? Math.max(...after) : Number.POSITIVE_INFINITY;
  const slowerThanAnyBaseline = after.filter((value) => value > worstBefore).length;
  const fasterThanAnyCandidate = before.filter((value) => value > worstAfter).length;
  const pair = (left: number | null, right: number | null): string => `${formatFigure(left)} → ${formatFigure(right)} ms`;

  let verdictPart: string;
  if (!input.enough) verdictPart = 'too few intervals to test';
  else if (input.pValue >= input.alpha) verdictPart = `within noise (p = ${input.pValue.toPrecision(2)})`;
  else if (input.verdict === 'unchanged') verdictPart = `significant but below the ±${(input.minimumEffect * 100).toFixed(0)} % that counts`;
  else verdictPart = input.verdict;
  const first = `The verdict is about the typical interval's ${figure} (the median of ${formatCount(before.length)} and ${formatCount(after.length)} intervals): ${pair(typicalBefore, typicalAfter)}, ${formatChange(typicalChange)}, ${verdictPart}.`;

  let why: string;
  const apart = wholeRun.change !== null && typicalChange !== null ? wholeRun.change - typicalChange : 0;
  if (wholeRun.change === null) why = 'not known for both runs';
  else if (apart > input.minimumEffect && slowerThanAnyBaseline > 0)
    why = `driven by ${formatCount(slowerThanAnyBaseline)} of ${formatCount(after.length)} intervals of this run slower than any interval of the other run: the merged histogram's ${figure.split(' ')[1]} is held by its slowest messages, and those few intervals have them`;
  else if (apart < -input.minimumEffect && fasterThanAnyCandidate > 0)
    why = `driven by ${formatCount(fasterThanAnyCandidate)} of ${formatCount(before.length)} intervals of the other run slower than any interval of this one: the merged histogram's ${figure.split(' ')[1]} is held by the slowest messages, and those few intervals had them`;
  else if (Math.abs(apart) > input.minimumEffect)
    why = 'apart from the typical interval because the merged histogram weighs each interval by its messages and the typical interval does not';
  else why = 'in step with the typical interval';
  const second = `The whole-run ${figure} (all messages merged): ${pair(wholeRun.baselineMs, wholeRun.candidateMs)}, ${formatChange(wholeRun.change)}, ${why}.`;
  return {
    figure,
    typical: { baselineMs: typicalBefore, candidateMs: typicalAfter, change: typicalChange },
    wholeRun,
    slowerThanAnyBaseline,
    candidateIntervals: after.length,
    fasterThanAnyCandidate,
    baselineIntervals: before.length,
    sentence: `${first} ${second}`,
  };
}

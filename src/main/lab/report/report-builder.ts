import type { ReplayInfo } from '../../../shared/chat-log';
import { BadInputError } from '../../../shared/exit-codes';
import type { AlertEntry, AuditCounters, LoopbackEntry, ReportHistogram, ReportInterval, RunReport, StagePercentiles, ThresholdResult } from '../../../shared/report';
import type { RunFrame, RunSummary, StageStatistics, ThresholdVerdict } from '../../../shared/run';
import type { StoredHistogram } from '../store/histogram-repository';
import type { StoredInterval } from '../store/interval-repository';
import type { StoredRun } from '../store/run-repository';
import type { Store } from '../store/store';
import { percentileCurve } from './histogram-curve';

const NS_PER_MS = 1e6;
const STAGE_ORDER = ['validate', 'limit', 'store', 'encode', 'send', 'e2e', 'tap', 'slip', 'chatToOsc', 'botReply'];

const toMs = (ns: number | undefined): number => (ns ?? 0) / NS_PER_MS;
const numberOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** One stored frame (the load engine's RunFrame, times in ns) as a report interval (ms). */
export function intervalOfFrame(stored: StoredInterval, runStartedAtMs: number): ReportInterval {
  const frame = stored.frame as Partial<RunFrame>;
  const stages: Record<string, { p50: number; p95: number; p99: number; max: number; count: number }> = {};
  for (const [stage, statistics] of Object.entries(frame.stages ?? {})) {
    if (!statistics) continue;
    stages[stage] = { p50: toMs(statistics.p50), p95: toMs(statistics.p95), p99: toMs(statistics.p99), max: toMs(statistics.max), count: statistics.count ?? 0 };
  }
  const outcomes: Record<string, number> = {};
  if (frame.outcomes) {
    outcomes['accepted'] = frame.outcomes.accepted ?? 0;
    outcomes['failed'] = frame.outcomes.failed ?? 0;
    for (const [code, count] of Object.entries(frame.outcomes.byCode ?? {})) if (code !== 'failed') outcomes[code] = count;
  }
  return {
    seq: stored.seq,
    atMs: typeof frame.atMs === 'number' ? runStartedAtMs + frame.atMs : stored.atMs,
    stages,
    throughput: numberOrNull(frame.throughput) ?? 0,
    outcomes,
    eventLoopDelayMs: frame.eventLoopDelay ? toMs(frame.eventLoopDelay.p99) : null,
    cpuPercent: numberOrNull(frame.cpuPercent),
    heapBytes: numberOrNull(frame.heapUsedBytes),
    rssBytes: numberOrNull(frame.rssBytes),
    ...(frame.bot ? { botCpuPercent: numberOrNull(frame.bot.cpuPercent), botRssBytes: numberOrNull(frame.bot.rssBytes) } : {}),
  };
}

function stagePercentiles(stages: RunSummary['stages'] | undefined): StagePercentiles[] {
  const entries = Object.entries(stages ?? {}) as [string, StageStatistics | undefined][];
  return entries
    .filter((entry): entry is [string, StageStatistics] => entry[1] !== undefined)
    .sort(([left], [right]) => STAGE_ORDER.indexOf(left) - STAGE_ORDER.indexOf(right))
    .map(([stage, statistics]) => ({
      stage,
      count: statistics.count,
      p50: toMs(statistics.p50),
      p90: toMs(statistics.p90),
      p95: toMs(statistics.p95),
      p99: toMs(statistics.p99),
      p999: toMs(statistics.p999),
      max: toMs(statistics.max),
    }));
}

function thresholdResult(verdict: ThresholdVerdict): ThresholdResult {
  const latency = verdict.unit === 'ns';
  const convert = (value: number | undefined): number | null => (value === undefined ? null : latency ? value / NS_PER_MS : value);
  return {
    key: verdict.key,
    expression: verdict.expression,
    unit: latency ? 'ms' : verdict.unit,
    actual: convert(verdict.actual),
    limit: convert(verdict.limit) ?? 0,
    passed: verdict.passed,
    samples: verdict.samples,
  };
}

export interface ReportParts {
  readonly run: StoredRun;
  readonly intervals: readonly StoredInterval[];
  readonly histograms: readonly StoredHistogram[];
  readonly alerts: readonly AlertEntry[];
  readonly loopback: readonly LoopbackEntry[];
}

/** The report model of a run from its saved parts (pure: no I/O). */
export function assembleReport(parts: ReportParts): RunReport {
  const { run } = parts;
  const summary = run.summary as (Partial<RunSummary> & { audit?: AuditCounters }) | null;
  const histograms: ReportHistogram[] = parts.histograms.map((histogram) => ({ ...histogram, curve: percentileCurve(histogram.encoded) }));
  const totals: Record<string, number> = {};
  if (summary) {
    for (const key of ['sent', 'completed', 'unaccounted', 'throughput'] as const) {
      const value = summary[key];
      if (typeof value === 'number') totals[key] = value;
    }
    if (summary.outcomes) {
      totals['accepted'] = summary.outcomes.accepted;
      totals['rejected'] = summary.outcomes.rejected;
      totals['failed'] = summary.outcomes.failed;
    }
    if (summary.slip) totals['late'] = summary.slip.late;
  }
  const info = run.info;
  const record = (value: unknown): Record<string, unknown> | null => (value && typeof value === 'object' ? (value as Record<string, unknown>) : null);
  const { baseline, e2eP99Ms, endedAtMs, id, intervalCount, rig, scenario, startedAtMs, status } = run;
  return {
    formatVersion: 1,
    generatedAtMs: Date.now(),
    run: { id, rig, scenario, status, startedAtMs, endedAtMs, intervalCount: Math.max(intervalCount, parts.intervals.length), baseline, e2eP99Ms },
    rig: record(info['rigConfig']),
    scenario: record(info['scenarioConfig']),
    environment: run.environment,
    summary: {
      durationMs: typeof summary?.elapsedMs === 'number' ? summary.elapsedMs : endedAtMs === null ? null : endedAtMs - startedAtMs,
      totals,
      stages: stagePercentiles(summary?.stages),
      raw: summary,
    },
    intervals: parts.intervals.map((interval) => intervalOfFrame(interval, startedAtMs)),
    histograms,
    thresholds: (summary?.thresholds ?? []).map(thresholdResult),
    alerts: parts.alerts,
    loopback: parts.loopback,
    audit: summary?.audit ?? null,
    ...(record(info['replay']) ? { replay: info['replay'] as ReplayInfo } : {}),
  };
}

/** Loads a saved run and builds its report; throws naming the id when there is no such run. */
export async function buildReport(store: Store, runId: string): Promise<RunReport> {
  const run = await store.runs.get(runId);
  if (!run) throw new BadInputError(`No saved run has the id "${runId}"; expected an id from \`cvlab runs\` or "latest".`);
  const [intervals, histograms, alerts, loopback] = await Promise.all([
    store.intervals.list(runId),
    store.histograms.list(runId),
    store.alerts.list(runId),
    store.loopback.listForRun(runId),
  ]);
  return assembleReport({ run, intervals, histograms, alerts, loopback });
}

import { z } from 'zod';
import type { ReplayInfo } from './chat-log';

/**
 * The report model: what a saved run looks like to the console, the CLI and the exports.
 * Runtime-agnostic (no node:, no DOM). Times are wall-clock milliseconds; latencies are
 * milliseconds (floating point) so every consumer reads the same unit.
 */

export const RUN_STATUSES = ['running', 'passed', 'failed', 'aborted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One saved run as the run list shows it. */
export interface RunListEntry {
  readonly id: string;
  readonly rig: string;
  readonly scenario: string;
  readonly status: RunStatus;
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  readonly intervalCount: number;
  /** This run is the baseline of its rig and scenario. */
  readonly baseline: boolean;
  /** End-to-end p99 in ms when the run has a summary. */
  readonly e2eP99Ms: number | null;
  /** Its lab-notebook notes, oldest first (listed runs and reports carry them). */
  readonly notes?: readonly LabNote[];
}

/** A note of the lab notebook: what changed ("new converter firmware", "cable B"), with tags. */
export interface LabNote {
  readonly kind: 'run' | 'loopback';
  /** The run id or loop-back measurement id it belongs to. */
  readonly subject: string;
  readonly atMs: number;
  readonly text: string;
  readonly tags: readonly string[];
}

/** A tag as typed on the command line or in the console: a short word, no spaces. */
export const NoteTagSchema = z
  .string()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._:-]{0,39}$/u, 'expected a tag like "cable-b" or "fw-2.1" (letters, digits, . _ : -; at most 40, no spaces)');
export const NoteTextSchema = z.string().trim().min(1, 'expected the note\'s text').max(2000, 'too long: at most 2000 characters');

/** Filter for the run list; every field optional. */
export const RunFilterSchema = z.object({
  rig: z.string().min(1).optional(),
  scenario: z.string().min(1).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  /** Runs started at or after this wall-clock time. */
  sinceMs: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(10_000).default(100),
  /** Runs carrying this tag in a note. */
  tag: NoteTagSchema.optional(),
  /** Runs whose notes, scenario, rig or id contain this text (any case). */
  text: z.string().max(200).optional(),
});
export type RunFilter = z.input<typeof RunFilterSchema>;

/** The host a run was started from (the run request carries it; `Lab` and `cvlab run` know which they are). */
export type RunHost = 'electron' | 'serve' | 'cli';

/** "the Electron window (Electron 33.0.0)", "a browser console (cvlab serve)", "the command line (cvlab run)"; older runs: what is known. */
export function describeStartedFrom(environment: Pick<ReportEnvironment, 'electron' | 'startedFrom'>): string {
  switch (environment.startedFrom) {
    case 'electron':
      return `the Electron window${environment.electron ? ` (Electron ${environment.electron})` : ''}`;
    case 'serve':
      return 'a browser console (cvlab serve)';
    case 'cli':
      return 'the command line (cvlab run)';
    default:
      return environment.electron ? `the Electron window (Electron ${environment.electron})` : 'cvlab on Node (cvlab run, or cvlab serve for a browser console; not recorded which)';
  }
}

/** Where and on what the run was made. */
export interface ReportEnvironment {
  readonly node: string;
  readonly electron: string | null;
  /** Where the run was started: the Electron window, a browser console (`cvlab serve`) or the command line (`cvlab run`); absent in runs saved before it was kept. */
  readonly startedFrom?: RunHost;
  readonly cpuModel: string;
  readonly cores: number;
  readonly os: string;
  readonly arch: string;
  readonly totalMemoryBytes: number;
  readonly hostname: string;
}

/** Percentiles of one stage (validate, limit, …, e2e, tap) in ms, and how many samples they rest on. */
export interface StagePercentiles {
  readonly stage: string;
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** One interval of the series (100 ms by default), flattened for charts and CSV. */
export interface ReportInterval {
  readonly seq: number;
  readonly atMs: number;
  /** Per stage: p50/p95/p99/max in ms, count of samples in the interval. */
  readonly stages: Readonly<Record<string, { p50: number; p95: number; p99: number; max: number; count: number }>>;
  /** Messages processed per second during the interval. */
  readonly throughput: number;
  /** Outcome counts by code (`accepted`, rejection codes, `failed`). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly eventLoopDelayMs: number | null;
  readonly cpuPercent: number | null;
  readonly heapBytes: number | null;
  readonly rssBytes: number | null;
  /** Black box: the bot's process tree (CPU % of one core, RSS), absent when it was not watched. */
  readonly botCpuPercent?: number | null;
  readonly botRssBytes?: number | null;
}

/** A stage's full histogram, HdrHistogram compressed base64 (mergeable across instances). */
export interface ReportHistogram {
  readonly name: string;
  readonly totalCount: number;
  readonly encoded: string;
  /** Value at quantile, ms, for the percentile-distribution chart. */
  readonly curve: readonly { quantile: number; valueMs: number }[];
}

/** A scenario threshold judged at the end of the run. Latencies are converted to ms. */
export interface ThresholdResult {
  /** What is measured, e.g. `e2e.p99`, `errors.rate`. */
  readonly key: string;
  /** The condition as written, e.g. `<10ms`. */
  readonly expression: string;
  /** `ms` for latencies, else the scenario's own unit (ratio, count, per second). */
  readonly unit: string;
  readonly actual: number | null;
  readonly limit: number;
  readonly passed: boolean;
  readonly samples: number;
}

export interface AlertEntry {
  readonly atMs: number;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly metric: string | null;
  readonly message: string;
  /** When an alert-rule alert stopped firing. */
  readonly resolvedAtMs?: number;
}

export interface LoopbackEntry {
  readonly id: string;
  /** Its lab-notebook notes, oldest first (the Reports page's list carries them). */
  readonly notes?: readonly LabNote[];
  readonly startedAtMs: number;
  /** The loop-back summary as the probe module produced it. */
  readonly summary: Readonly<Record<string, unknown>>;
}

/** A saved loop-back measurement as the Reports page lists it: which run it belongs to, if any. */
export interface LoopbackListEntry extends LoopbackEntry {
  /** The load run it is attached to (made during it, or attached later); null: on its own. */
  readonly runId: string | null;
  readonly rig: string;
}

/** Audit-log counters at the end of the run. */
export interface AuditCounters {
  readonly queued: number;
  readonly written: number;
  readonly spooled: number;
  readonly replayed: number;
  readonly dropped: number;
}

/** The whole report of one run: the single model behind HTML, JSON and CSV. */
export interface RunReport {
  readonly formatVersion: 1;
  readonly generatedAtMs: number;
  readonly run: RunListEntry;
  readonly rig: Readonly<Record<string, unknown>> | null;
  readonly scenario: Readonly<Record<string, unknown>> | null;
  readonly environment: ReportEnvironment | null;
  readonly summary: {
    readonly durationMs: number | null;
    readonly totals: Readonly<Record<string, number>>;
    readonly stages: readonly StagePercentiles[];
    /** The raw summary as the load engine wrote it. */
    readonly raw: Readonly<Record<string, unknown>> | null;
  };
  readonly intervals: readonly ReportInterval[];
  readonly histograms: readonly ReportHistogram[];
  readonly thresholds: readonly ThresholdResult[];
  readonly alerts: readonly AlertEntry[];
  readonly loopback: readonly LoopbackEntry[];
  readonly audit: AuditCounters | null;
  /** A replay: the chat log it played (file name, span, content hash), which part, at what speed. */
  readonly replay?: ReplayInfo;
  /** The lab notebook's notes on this run and on its loop-back measurements, oldest first. */
  readonly notes?: readonly LabNote[];
}

export const COMPARISON_VERDICTS = ['regressed', 'improved', 'unchanged'] as const;
export type ComparisonVerdict = (typeof COMPARISON_VERDICTS)[number];

/** The statistical test behind a verdict. */
export interface SignificanceTest {
  readonly method: 'mann-whitney-u';
  /** Which per-interval sample was compared, e.g. `e2e.p99`. */
  readonly metric: string;
  readonly samplesBaseline: number;
  readonly samplesCandidate: number;
  readonly u: number;
  readonly z: number;
  /** Two-sided p-value (normal approximation with tie correction). */
  readonly pValue: number;
  /** Cliff's delta in [-1, 1]: positive means the candidate is slower. */
  readonly cliffsDelta: number;
  /** Median of the candidate's samples over the baseline's. */
  readonly medianRatio: number;
  readonly alpha: number;
  /** Smallest relative change that counts as practical, e.g. 0.05 for 5%. */
  readonly minimumEffect: number;
}

export interface PercentileComparisonRow {
  readonly stage: string;
  readonly percentile: 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max';
  readonly baselineMs: number | null;
  readonly candidateMs: number | null;
  /** candidate / baseline − 1; null when either is missing or the baseline is 0. */
  readonly change: number | null;
}

export interface TotalComparisonRow {
  readonly name: 'throughput' | 'errors.rate';
  readonly unit: 'per_second' | 'ratio';
  readonly baseline: number | null;
  readonly candidate: number | null;
  /** candidate / baseline − 1; null when either is missing or the baseline is 0. */
  readonly change: number | null;
}

/** One side's per-interval samples of the tested figure, summarised for a small picture. */
export interface IntervalDistribution {
  /** Intervals with samples. */
  readonly count: number;
  readonly minMs: number;
  readonly p25Ms: number;
  readonly medianMs: number;
  readonly p75Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** The slowest intervals' values above p95 (at most 40, largest first), drawn as dots. */
  readonly slowestMs: readonly number[];
}

/**
 * The two figures a technician sees, tied together: the verdict is about the typical interval
 * (the median of the per-interval samples); the whole-run percentile comes from the merged
 * histograms and moves with a few slow intervals.
 */
export interface ComparisonReading {
  /** e.g. `e2e p99`. */
  readonly figure: string;
  readonly typical: { readonly baselineMs: number | null; readonly candidateMs: number | null; readonly change: number | null };
  readonly wholeRun: { readonly baselineMs: number | null; readonly candidateMs: number | null; readonly change: number | null };
  /** The candidate's intervals slower than every interval of the baseline, and how many it has. */
  readonly slowerThanAnyBaseline: number;
  readonly candidateIntervals: number;
  /** The baseline's intervals faster than every interval of the candidate (an improvement's mirror). */
  readonly fasterThanAnyCandidate: number;
  readonly baselineIntervals: number;
  /** Plain words: which figure the verdict is about and why the other moved. */
  readonly sentence: string;
}

/** A run compared with its baseline (or with another run). */
export interface RunComparison {
  readonly baseline: RunListEntry;
  readonly candidate: RunListEntry;
  readonly rows: readonly PercentileComparisonRow[];
  readonly test: SignificanceTest;
  readonly verdict: ComparisonVerdict;
  /** Plain words: why the verdict is what it is. */
  readonly reason: string;
  /** Run-level figures side by side (throughput in /s, error rate as a ratio). */
  readonly totals?: readonly TotalComparisonRow[];
  /** Plain words for each way the two runs' set-ups differ (scenario, load, rig, machine): the comparison may mislead. */
  readonly differences?: readonly string[];
  /** Which figure the verdict is about, and why the whole-run figure moved as it did. */
  readonly reading?: ComparisonReading;
  /** Both sides' per-interval samples of the tested figure, for the small picture. */
  readonly distributions?: { readonly baseline: IntervalDistribution | null; readonly candidate: IntervalDistribution | null };
  /** Percentile curves of both runs' e2e histograms, for the overlay chart. */
  readonly curves: {
    readonly baseline: readonly { quantile: number; valueMs: number }[];
    readonly candidate: readonly { quantile: number; valueMs: number }[];
  };
}

export const TrendRequestSchema = z.object({
  rig: z.string().min(1),
  scenario: z.string().min(1),
  stage: z.string().min(1).default('e2e'),
  percentile: z.enum(['p50', 'p90', 'p95', 'p99', 'p999', 'max']).default('p99'),
  limit: z.number().int().min(1).max(1000).default(20),
});
export type TrendRequest = z.input<typeof TrendRequestSchema>;

/** One point of a trend: a run's chosen percentile. */
export interface TrendPoint {
  readonly runId: string;
  readonly startedAtMs: number;
  readonly status: RunStatus;
  readonly valueMs: number | null;
  readonly samples: number;
  readonly baseline: boolean;
  /** The run's lab-notebook notes (what changed), so a trend shows what moved beside what changed. */
  readonly notes?: readonly LabNote[];
}

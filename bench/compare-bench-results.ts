// What `npm run bench:all` writes per run (bench/results/<date>-<commit>.json), and the
// comparison of one run with the one before it: every figure that got worse by more than its
// noise (the spread of three runs of each bench, measured the first time on a machine).
import { meets, TRACKED_FIGURES, type BenchLine, type BenchName, type Goal, type TrackedFigure } from './tracked-figures';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
}

/** One run of one benchmark. */
export interface BenchRun {
  /** Its JSON line; null when it printed none. */
  readonly line: BenchLine | null;
  readonly exitCode: number | null;
  readonly seconds: number;
  readonly loadAverage1mBefore: number;
  readonly loadAverage1mAfter: number;
  /** The 1-minute load average was above the limit when it started: its figures are not to be trusted. */
  readonly busy: boolean;
  readonly error?: string;
}

/** How far a figure moved between three runs of its bench on one machine. */
export interface Spread {
  /** max − min. */
  readonly absolute: number;
  /** (max − min) / |median|; absent when the median is 0. */
  readonly relative?: number;
}

export interface Noise {
  readonly machine: Machine;
  readonly measuredAt: string;
  readonly commit: string;
  readonly runsPerBench: number;
  readonly spreads: Readonly<Record<string, Spread>>;
}

export interface GoalRow {
  readonly id: string;
  readonly bench: BenchName;
  readonly label: string;
  readonly unit: string;
  readonly goal: Goal;
  readonly value: number | null;
  readonly met: boolean;
  readonly busy: boolean;
  readonly loadAverage1m: number | null;
}

export interface FigureChange {
  readonly id: string;
  readonly label: string;
  readonly kind: TrackedFigure['kind'];
  readonly previous: number;
  readonly current: number;
  /** Signed relative change, current / previous − 1 (absent when the previous value is 0). */
  readonly change?: number;
  /** What the noise allows for this figure, in its own unit. */
  readonly allowed: number;
}

export interface Comparison {
  /** File name of the run compared with; null for the first run. */
  readonly previous: string | null;
  readonly sameMachine: boolean;
  /** Figures worse by more than their noise: ratios always, absolute figures on the same machine only. */
  readonly worse: readonly FigureChange[];
  readonly better: readonly FigureChange[];
  /** Figures of the previous run that this run lacks (a bench that failed or was left out). */
  readonly missing: readonly string[];
}

export interface BenchResults {
  readonly date: string;
  readonly commit: string;
  /** Uncommitted changes in the work tree when it ran. */
  readonly dirty: boolean;
  readonly machine: Machine;
  readonly loadLimit: number;
  readonly benches: Partial<Record<BenchName, readonly BenchRun[]>>;
  /** The median over the runs of each tracked figure. */
  readonly figures: Readonly<Record<string, number | null>>;
  readonly goals: readonly GoalRow[];
  readonly noise: { readonly file: string; readonly measuredAt: string; readonly commit: string } | null;
  readonly comparison: Comparison;
}

/** The same machine: same processor model, cores and memory (the OS and Node may differ). */
export function sameMachine(left: Machine, right: Machine): boolean {
  return left.cpuModel === right.cpuModel && left.cores === right.cores && Math.abs(left.memoryGiB - right.memoryGiB) < 0.5;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Each tracked figure of a bench's runs: the median of the runs that printed it. */
export function figuresOf(runs: Partial<Record<BenchName, readonly BenchRun[]>>): Record<string, number | null> {
  const figures: Record<string, number | null> = {};
  for (const figure of TRACKED_FIGURES) {
    const values = (runs[figure.bench] ?? []).flatMap((run) => {
      const value = run.line ? figure.read(run.line) : undefined;
      return value === undefined ? [] : [value];
    });
    if (runs[figure.bench] !== undefined) figures[figure.id] = values.length > 0 ? median(values) : null;
  }
  return figures;
}

/** The spread of each tracked figure over several runs of its bench. */
export function spreadsOf(runs: Partial<Record<BenchName, readonly BenchRun[]>>): Record<string, Spread> {
  const spreads: Record<string, Spread> = {};
  for (const figure of TRACKED_FIGURES) {
    const values = (runs[figure.bench] ?? []).flatMap((run) => {
      const value = run.line ? figure.read(run.line) : undefined;
      return value === undefined ? [] : [value];
    });
    if (values.length < 2) continue;
    const absolute = Math.max(...values) - Math.min(...values);
    const middle = median(values);
    spreads[figure.id] = middle === 0 ? { absolute } : { absolute, relative: absolute / Math.abs(middle) };
  }
  return spreads;
}

/** The goal table: each tracked figure with a goal, its value and whether it met it. */
export function goalRows(figures: Readonly<Record<string, number | null>>, runs: Partial<Record<BenchName, readonly BenchRun[]>>): GoalRow[] {
  return TRACKED_FIGURES.flatMap((figure) => {
    if (!figure.goal || !(figure.id in figures)) return [];
    const value = figures[figure.id] ?? null;
    const benchRuns = runs[figure.bench] ?? [];
    const loads = benchRuns.map((run) => run.loadAverage1mBefore);
    return [
      {
        id: figure.id,
        bench: figure.bench,
        label: figure.label,
        unit: figure.unit,
        goal: figure.goal,
        value,
        met: value !== null && meets(value, figure.goal),
        busy: benchRuns.some((run) => run.busy),
        loadAverage1m: loads.length > 0 ? Math.max(...loads) : null,
      },
    ];
  });
}

/**
 * Compares a run's figures with the previous run's. A figure is worse when it moved the wrong
 * way by more than the noise allows: its spread over three runs (relative, or absolute when its
 * median was 0), and never less than 1 % (rounding in the benches' own output). A figure with no
 * measured spread is held to that 1 % alone. Absolute figures are compared only on the same
 * machine; ratios (against floors measured in the same run) always.
 */
export function compareBenchResults(
  previous: { readonly file: string; readonly results: Pick<BenchResults, 'figures' | 'machine'> } | null,
  current: Pick<BenchResults, 'figures' | 'machine'>,
  noise: Pick<Noise, 'spreads'> | null,
): Comparison {
  if (!previous) return { previous: null, sameMachine: true, worse: [], better: [], missing: [] };
  const same = sameMachine(previous.results.machine, current.machine);
  const worse: FigureChange[] = [];
  const better: FigureChange[] = [];
  const missing: string[] = [];
  for (const figure of TRACKED_FIGURES) {
    const before = previous.results.figures[figure.id];
    const after = current.figures[figure.id];
    if (before === undefined || before === null) continue;
    if (after === undefined || after === null) {
      if (figure.id in current.figures) missing.push(figure.id);
      continue;
    }
    if (figure.kind === 'figure' && !same) continue;
    const spread = noise?.spreads[figure.id];
    const allowed = Math.max(spread?.relative !== undefined ? spread.relative * Math.abs(before) : (spread?.absolute ?? 0), 0.01 * Math.abs(before));
    const delta = after - before;
    const change: FigureChange = {
      id: figure.id,
      label: figure.label,
      kind: figure.kind,
      previous: before,
      current: after,
      ...(before !== 0 ? { change: Math.round((after / before - 1) * 1000) / 1000 } : {}),
      allowed: Math.round(allowed * 1e6) / 1e6,
    };
    const worsened = figure.better === 'lower' ? delta : -delta;
    if (worsened > allowed) worse.push(change);
    else if (-worsened > allowed) better.push(change);
  }
  return { previous: previous.file, sameMachine: same, worse, better, missing };
}

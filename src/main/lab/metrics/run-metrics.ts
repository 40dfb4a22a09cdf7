import type { Outcome, StageTimings } from '../../../shared/message';
import type { MetricStage } from '../../../shared/scenario';
import { OUTCOME_CODES, type WindowSnapshot } from '../common/engine-protocol';
import { OutcomeTally } from './outcome-tally';
import { StageHistograms } from './stage-histograms';
import type { MetricsView } from './thresholds';

const TIMED_STAGES = ['validate', 'limit', 'store', 'encode', 'send', 'e2e', 'chatToOsc'] as const satisfies readonly (keyof StageTimings & MetricStage)[];

/** Histograms and counts of one span of a run: the whole run, one interval, or one capacity step. */
export class MetricsWindow {
  readonly stages = new StageHistograms();
  readonly outcomes = new OutcomeTally();
  sent = 0;
  late = 0;

  recordStart(slipNs: number, late: boolean): void {
    this.sent++;
    if (late) this.late++;
    this.stages.record('slip', slipNs);
  }

  recordOutcome(outcome: Outcome): void {
    this.outcomes.add(outcome);
    const timings = outcome.timings;
    for (const stage of TIMED_STAGES) {
      const value = timings[stage];
      if (value !== undefined) this.stages.record(stage, value);
    }
  }

  recordTap(ns: number): void {
    this.stages.record('tap', ns);
  }

  /** A timing that arrived apart from an outcome. */
  recordStage(stage: MetricStage, ns: number): void {
    this.stages.record(stage, ns);
  }

  /** Adds the counts of an engine snapshot's window (its histograms are added by the caller). */
  absorbCounts(window: WindowSnapshot): void {
    this.sent += window.sent;
    this.late += window.late;
    this.outcomes.absorb(window.accepted, window.rejected, window.codes, OUTCOME_CODES);
  }

  /** A read-only view for threshold evaluation. */
  view(elapsedMs: number, eventLoopDelay?: MetricsView['eventLoopDelay']): MetricsView {
    return { stages: this.stages, outcomes: this.outcomes, sent: this.sent, late: this.late, elapsedMs, ...(eventLoopDelay ? { eventLoopDelay } : {}) };
  }

  reset(): void {
    this.stages.reset();
    this.outcomes.reset();
    this.sent = 0;
    this.late = 0;
  }

  destroy(): void {
    this.stages.destroy();
  }
}

/**
 * A run's metrics: a cumulative window that keeps the whole run and an interval window that is
 * read and reset once per frame, so percentiles of both come from full HDR histograms.
 */
export class RunMetrics {
  readonly total = new MetricsWindow();
  readonly interval = new MetricsWindow();

  recordStart(slipNs: number, late: boolean): void {
    this.total.recordStart(slipNs, late);
    this.interval.recordStart(slipNs, late);
  }

  recordOutcome(outcome: Outcome): void {
    this.total.recordOutcome(outcome);
    this.interval.recordOutcome(outcome);
  }

  recordTap(ns: number): void {
    this.total.recordTap(ns);
    this.interval.recordTap(ns);
  }

  recordStage(stage: MetricStage, ns: number): void {
    this.total.recordStage(stage, ns);
    this.interval.recordStage(stage, ns);
  }

  destroy(): void {
    this.total.destroy();
    this.interval.destroy();
  }
}

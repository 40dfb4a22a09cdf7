import { encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { statisticsOf } from '../common/histogram-statistics';
import type { FrameStageStatistics, StageStatistics } from '../../../shared/run';
import { METRIC_STAGES, type MetricStage } from '../../../shared/scenario';
import { createHistogram } from '../common/create-histogram';

/** One HDR histogram per stage (validate … e2e, tap, slip), values in ns. */
export class StageHistograms {
  private readonly histograms = new Map<MetricStage, Histogram>();

  constructor() {
    for (const stage of METRIC_STAGES) this.histograms.set(stage, createHistogram());
  }

  /** Records one duration (ns); negatives (clock noise) count as 0. */
  record(stage: MetricStage, ns: number): void {
    this.get(stage).recordValue(ns > 0 ? Math.round(ns) : 0);
  }

  get(stage: MetricStage): Histogram {
    return this.histograms.get(stage) as Histogram;
  }

  count(stage: MetricStage): number {
    return this.get(stage).totalCount;
  }

  /** Full statistics of a stage, or undefined when it has no samples. */
  statistics(stage: MetricStage): StageStatistics | undefined {
    return statisticsOf(this.get(stage));
  }

  /** The few figures an interval frame carries. */
  frameStatistics(stage: MetricStage): FrameStageStatistics | undefined {
    const histogram = this.get(stage);
    if (histogram.totalCount === 0) return undefined;
    return {
      count: histogram.totalCount,
      p50: histogram.getValueAtPercentile(50),
      p95: histogram.getValueAtPercentile(95),
      p99: histogram.getValueAtPercentile(99),
      max: histogram.maxValue,
    };
  }

  /** Every stage with samples, as compressed base64. */
  encode(): Partial<Record<MetricStage, string>> {
    const out: Partial<Record<MetricStage, string>> = {};
    for (const stage of METRIC_STAGES) {
      const histogram = this.get(stage);
      if (histogram.totalCount > 0) out[stage] = encodeIntoCompressedBase64(histogram);
    }
    return out;
  }

  reset(): void {
    for (const histogram of this.histograms.values()) histogram.reset();
  }

  destroy(): void {
    for (const histogram of this.histograms.values()) histogram.destroy();
    this.histograms.clear();
  }
}

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RunFrame } from '../../../shared/run';
import { METRIC_STAGES } from '../../../shared/scenario';
import type { PipelineCounters } from '../common/outcome-record';

export interface MetricsExporterOptions {
  /** Labels on every series (instance id, rig name). */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Add Node's process gauges (CPU, heap, event-loop lag, handles). Default true. */
  readonly processMetrics?: boolean;
}

/** Where live figures that are not in frames come from; read on each scrape. */
export interface MetricsSources {
  readonly pipelineCounters?: () => PipelineCounters;
  /** Audit batches waiting to be written (or spooled). */
  readonly auditQueueDepth?: () => number;
  /** Fan-out subscribers connected, and changes coalesced or dropped for slow ones. */
  readonly fanoutCounters?: () => { clients: number; coalesced: number; dropped: number };
}

const QUANTILES = [
  ['0.5', 'p50'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
  ['1', 'max'],
] as const;

/**
 * The engine's figures in Prometheus text format (prom-client), computed at scrape time from
 * the interval frames the engine hands the host (ten a second, never per message): outcome
 * counters, stage percentiles of the latest interval, limiter fallbacks, audit queue depth,
 * fan-out and process gauges. Used by `/metrics` in `cvlab serve` and `cvlab agent`. Each
 * exporter has its own registry, so several runs or instances in one process never mix series.
 */
export class MetricsExporter {
  readonly registry = new Registry();
  private sources: MetricsSources = {};
  /** Cumulative over every run this exporter saw (Prometheus counters never go down). */
  private readonly outcomeTotals = new Map<string, number>();
  private readonly stageSamples = new Map<string, number>();
  private latest: RunFrame | undefined;
  private fallbacksBefore = 0;
  private fallbacksOfRun = 0;
  private runId: string | undefined;

  constructor(options: MetricsExporterOptions = {}) {
    if (options.defaultLabels) this.registry.setDefaultLabels({ ...options.defaultLabels });
    const exporter = (): this => this;
    new Gauge({
      name: 'cvlab_stage_latency_seconds',
      help: 'Stage latency percentiles of the latest interval frame (quantile 1 = max); e2e: due time to datagram handed to the kernel.',
      labelNames: ['stage', 'quantile'],
      registers: [this.registry],
      collect() {
        this.reset();
        const frame = exporter().latest;
        if (!frame) return;
        for (const [stage, statistics] of Object.entries(frame.stages)) {
          if (!statistics || statistics.count === 0) continue;
          for (const [quantile, field] of QUANTILES) this.set({ stage, quantile }, statistics[field] / 1e9);
        }
      },
    });
    new Counter({
      name: 'cvlab_stage_samples_total',
      help: 'Latency samples recorded per stage (messages timed), over every run.',
      labelNames: ['stage'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [stage, count] of exporter().stageSamples) this.inc({ stage }, count);
      },
    });
    new Counter({
      name: 'cvlab_outcomes_total',
      help: 'Messages by outcome: status accepted, rejected (with its code) or failed, over every run.',
      labelNames: ['status', 'code'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [key, count] of exporter().outcomeTotals) {
          const [status = '', code = ''] = key.split(':');
          this.inc({ status, code }, count);
        }
      },
    });
    new Gauge({
      name: 'cvlab_limiter_fallbacks_total',
      help: 'Messages the in-process limiter served because Redis failed or was slow (degraded).',
      registers: [this.registry],
      collect() {
        const counters = exporter().sources.pipelineCounters?.();
        this.set(counters ? counters.limiterFallbacks : exporter().fallbacksBefore + exporter().fallbacksOfRun);
      },
    });
    new Gauge({
      name: 'cvlab_redis_errors_total',
      help: 'Redis commands that failed.',
      registers: [this.registry],
      collect() {
        const counters = exporter().sources.pipelineCounters?.();
        if (counters) this.set(counters.redisErrors);
      },
    });
    new Gauge({
      name: 'cvlab_audit_queue_depth',
      help: 'Audit entries waiting to be written to the database or the spool file.',
      registers: [this.registry],
      collect() {
        const depth = exporter().sources.auditQueueDepth?.();
        if (depth !== undefined) this.set(depth);
      },
    });
    new Gauge({
      name: 'cvlab_fanout_subscribers',
      help: 'WebSocket fan-out subscribers connected.',
      registers: [this.registry],
      collect() {
        const counters = exporter().sources.fanoutCounters?.();
        if (counters) this.set(counters.clients);
      },
    });
    new Gauge({
      name: 'cvlab_fanout_slow_changes_total',
      help: 'Changes coalesced or dropped for slow fan-out subscribers.',
      labelNames: ['action'],
      registers: [this.registry],
      collect() {
        const counters = exporter().sources.fanoutCounters?.();
        if (!counters) return;
        this.set({ action: 'coalesced' }, counters.coalesced);
        this.set({ action: 'dropped' }, counters.dropped);
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'cvlab_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Binds the live sources read on each scrape (replaces earlier ones). */
  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Takes one interval frame: adds its counts to the totals and keeps it for the percentiles. */
  observeFrame(frame: RunFrame): void {
    if (frame.runId !== this.runId) {
      this.fallbacksBefore += this.fallbacksOfRun;
      this.fallbacksOfRun = 0;
      this.runId = frame.runId;
    }
    this.latest = frame;
    this.fallbacksOfRun = frame.limiterFallbacks;
    const add = (key: string, count: number): void => {
      if (count > 0) this.outcomeTotals.set(key, (this.outcomeTotals.get(key) ?? 0) + count);
    };
    add('accepted:', frame.outcomes.accepted);
    add('failed:', frame.outcomes.failed);
    for (const [code, count] of Object.entries(frame.outcomes.byCode)) if (code !== 'failed') add(`rejected:${code}`, count);
    for (const stage of METRIC_STAGES) {
      const count = frame.stages[stage]?.count ?? 0;
      if (count > 0) this.stageSamples.set(stage, (this.stageSamples.get(stage) ?? 0) + count);
    }
  }

  /** The text for `/metrics`. */
  async metrics(): Promise<string> {
    // prom-client writes a not-a-number sample as "Nan" (an event-loop gauge before its first
    // sample); the text format spells it "NaN" and strict scrapers refuse anything else.
    return (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
  }
}

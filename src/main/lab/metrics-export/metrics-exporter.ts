import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome, StageTimings } from '../../../shared/message';
import type { OutcomeRecord, OutcomeSink, PipelineCounters } from '../pipeline/pipeline-types';

/** Latency buckets in seconds: 50 µs … 1 s, dense around the 10 ms promise. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const TIMED_STAGES = ['validate', 'limit', 'store', 'encode', 'send', 'e2e'] as const satisfies readonly (keyof StageTimings)[];

export interface MetricsExporterOptions {
  /** Labels on every series (instance id, rig name). */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Add Node's process gauges (CPU, heap, event-loop lag, handles). Default true. */
  readonly processMetrics?: boolean;
}

/** Where live figures that are not outcomes come from; read on each scrape. */
export interface MetricsSources {
  readonly pipelineCounters?: () => PipelineCounters;
  /** Audit batches waiting to be written (or spooled). */
  readonly auditQueueDepth?: () => number;
  /** Fan-out subscribers connected, and changes coalesced or dropped for slow ones. */
  readonly fanoutCounters?: () => { clients: number; coalesced: number; dropped: number };
}

/**
 * The engine's figures in Prometheus text format (prom-client): stage latency histograms,
 * outcome counters, limiter fallbacks, audit queue depth, fan-out and process gauges. Used
 * by `/metrics` in `cvlab serve` and `cvlab agent`. Each exporter has its own registry, so
 * several runs or instances in one process never mix their series.
 */
export class MetricsExporter implements OutcomeSink {
  readonly registry = new Registry();
  private readonly stageLatency: Histogram<'stage'>;
  private readonly outcomes: Counter<'status' | 'code'>;
  private sources: MetricsSources = {};

  constructor(options: MetricsExporterOptions = {}) {
    if (options.defaultLabels) this.registry.setDefaultLabels({ ...options.defaultLabels });
    this.stageLatency = new Histogram({
      name: 'cvlab_stage_latency_seconds',
      help: 'Latency of each pipeline stage (e2e: due time to datagram handed to the kernel; propagation; fanout).',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.outcomes = new Counter({
      name: 'cvlab_outcomes_total',
      help: 'Messages by outcome: status accepted, rejected (with its code) or failed.',
      labelNames: ['status', 'code'],
      registers: [this.registry],
    });
    const sources = (): MetricsSources => this.sources;
    new Gauge({
      name: 'cvlab_limiter_fallbacks_total',
      help: 'Messages the in-process limiter served because Redis failed or was slow.',
      registers: [this.registry],
      collect() {
        const counters = sources().pipelineCounters?.();
        if (counters) this.set(counters.limiterFallbacks);
      },
    });
    new Gauge({
      name: 'cvlab_redis_errors_total',
      help: 'Redis commands that failed.',
      registers: [this.registry],
      collect() {
        const counters = sources().pipelineCounters?.();
        if (counters) this.set(counters.redisErrors);
      },
    });
    new Gauge({
      name: 'cvlab_audit_queue_depth',
      help: 'Audit entries waiting to be written to the database or the spool file.',
      registers: [this.registry],
      collect() {
        const depth = sources().auditQueueDepth?.();
        if (depth !== undefined) this.set(depth);
      },
    });
    new Gauge({
      name: 'cvlab_fanout_subscribers',
      help: 'WebSocket fan-out subscribers connected.',
      registers: [this.registry],
      collect() {
        const counters = sources().fanoutCounters?.();
        if (counters) this.set(counters.clients);
      },
    });
    new Gauge({
      name: 'cvlab_fanout_slow_changes_total',
      help: 'Changes coalesced or dropped for slow fan-out subscribers.',
      labelNames: ['action'],
      registers: [this.registry],
      collect() {
        const counters = sources().fanoutCounters?.();
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

  /** OutcomeSink: counts the outcome and records its stage timings. */
  record(entry: OutcomeRecord): void {
    this.observeOutcome(entry.outcome);
  }

  /** Counts one outcome and records its stage timings. */
  observeOutcome(outcome: Outcome): void {
    if (outcome.status === 'rejected') this.outcomes.inc({ status: 'rejected', code: outcome.rejection.code });
    else this.outcomes.inc({ status: outcome.status, code: '' });
    for (const stage of TIMED_STAGES) {
      const ns = outcome.timings[stage];
      if (ns !== undefined) this.stageLatency.observe({ stage }, ns / 1e9);
    }
  }

  /** Records one latency of a stage measured outside a message (propagation, fanout, tap), in ns. */
  observeStage(stage: string, ns: number): void {
    this.stageLatency.observe({ stage }, ns / 1e9);
  }

  /** The text for `/metrics`. */
  async metrics(): Promise<string> {
    // prom-client writes a not-a-number sample as "Nan" (an event-loop gauge before its first
    // sample); the text format spells it "NaN" and strict scrapers refuse anything else.
    return (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
  }
}

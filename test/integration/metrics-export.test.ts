import { describe, expect, it } from 'vitest';
import { MetricsExporter } from '../../src/main/lab/metrics-export/metrics-exporter';
import { listenMetrics } from '../../src/main/lab/metrics-export/metrics-http-server';
import type { RunFrame } from '../../src/shared/run';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line is a comment,
 * HELP/TYPE, or `name{labels} value`; it throws on anything else.
 */
function parsePrometheusText(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
  const labelPair = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/;
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    const typeMatch = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (typeMatch) return void types.set(typeMatch[1] ?? '', typeMatch[2] ?? '');
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line) || line.startsWith('# ')) return;
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`line ${index + 1} is not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    let rest = match[2] ?? '';
    while (rest.length > 0) {
      const pair = labelPair.exec(rest);
      if (!pair) throw new Error(`line ${index + 1} has malformed labels: ${line}`);
      labels[pair[1] ?? ''] = pair[2] ?? '';
      rest = rest.slice(pair[0].length);
    }
    const raw = match[3] ?? '';
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`line ${index + 1} has a bad value: ${line}`);
    samples.push({ name: match[1] ?? '', labels, value });
  });
  return { types, samples };
}

describe('Prometheus export', () => {
  it('serves /metrics that parses as Prometheus text with stage percentiles, outcomes and gauges, from frames', async () => {
    const exporter = new MetricsExporter({ defaultLabels: { instance_id: 'bench-a' } });
    let fallbacks = 3;
    exporter.bind({
      pipelineCounters: () => ({ limiterFallbacks: fallbacks, redisErrors: 1, tapMatched: 0, tapUnmatched: 0, failures: 0 }),
      auditQueueDepth: () => 42,
      fanoutCounters: () => ({ clients: 7, coalesced: 5, dropped: 2 }),
    });
    const frame = (sequence: number, e2eP99: number): RunFrame => ({
      runId: 'run-a',
      sequence,
      atMs: (sequence + 1) * 100,
      intervalMs: 100,
      sent: 2,
      completed: 2,
      throughput: 20,
      inFlight: 0,
      late: 0,
      outcomes: { accepted: 1, rejected: 1, failed: 0, byCode: { cooldown: 1 } },
      stages: { e2e: { count: 1, p50: 2_000_000, p95: 2_000_000, p99: e2eP99, max: e2eP99 } },
      eventLoopDelay: { p50: 0, p99: 0, max: 0 },
      cpuPercent: 10,
      heapUsedBytes: 1,
      rssBytes: 1,
      limiterFallbacks: 0,
    });
    exporter.observeFrame(frame(0, 2_000_000));
    exporter.observeFrame(frame(1, 20_000_000));
    fallbacks = 4;
    const http = await listenMetrics(exporter);
    try {
      const response = await fetch(http.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const { types, samples } = parsePrometheusText(await response.text());
      const find = (name: string, labels: Record<string, string> = {}): number | undefined =>
        samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;

      expect(types.get('cvlab_stage_latency_seconds')).toBe('gauge');
      // Percentiles of the latest interval; sample counts over the whole run.
      expect(find('cvlab_stage_latency_seconds', { stage: 'e2e', quantile: '0.99' })).toBeCloseTo(0.02);
      expect(find('cvlab_stage_latency_seconds', { stage: 'e2e', quantile: '0.5' })).toBeCloseTo(0.002);
      expect(find('cvlab_stage_samples_total', { stage: 'e2e' })).toBe(2);
      expect(find('cvlab_outcomes_total', { status: 'accepted' })).toBe(2);
      expect(find('cvlab_outcomes_total', { status: 'rejected', code: 'cooldown' })).toBe(2);
      expect(find('cvlab_limiter_fallbacks_total')).toBe(4);
      expect(find('cvlab_audit_queue_depth')).toBe(42);
      expect(find('cvlab_fanout_slow_changes_total', { action: 'dropped' })).toBe(2);
      expect(find('cvlab_process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(samples.every((sample) => sample.labels['instance_id'] === 'bench-a')).toBe(true);
      expect(() => parsePrometheusText('cvlab_broken{stage=e2e} 1')).toThrow(/malformed labels/);
    } finally {
      await http.close();
    }
  });
});

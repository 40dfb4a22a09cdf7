import { z } from 'zod';
import { strictObject } from './strict-object';

/**
 * Alert rules and the events they raise. Runtime-agnostic: the engine evaluates rules on
 * interval frames, the console lists the events, the store keeps them.
 */

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_COMPARISONS = ['>', '>=', '<', '<='] as const;
export type AlertComparison = (typeof ALERT_COMPARISONS)[number];

/**
 * What a rule can watch, as a dotted name read from an interval frame:
 * `<stage>.<p50|p95|p99|max|count>` (milliseconds, e.g. `e2e.p99`), `throughput`,
 * `errors.rate` (failed ÷ all outcomes), `rejected.rate`, `outcomes.<code>` (count in the
 * interval), `outcomes.<code>.rate`, `eventLoop.delayMs`, `heap.usedBytes`, `rss.bytes`,
 * `cpu.percent`, `redis.rttMs`, `limiter.fallbacks`, `fanout.dropped`.
 */
export const ALERT_METRIC = /^[a-z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+){0,2}$/;

export const AlertRuleSchema = strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a rule id like "e2e-slow" (lower case, digits, - and _)'),
  name: z.string().min(1).max(100, 'too long: at most 100 characters').optional(),
  metric: z.string().regex(ALERT_METRIC, 'expected a metric name like "e2e.p99", "errors.rate" or "redis.rttMs"'),
  comparison: z.enum(ALERT_COMPARISONS),
  threshold: z.number().refine(Number.isFinite, 'expected a finite threshold'),
  /** The condition must hold this long, without a break, before the alert fires. */
  forMs: z.number().int().min(0).default(0),
  /** Once firing, the condition must stay false this long before the alert resolves. */
  keepFiringMs: z.number().int().min(0).default(0),
  severity: z.enum(ALERT_SEVERITIES).default('warning'),
  description: z.string().max(2000, 'too long: at most 2000 characters').optional(),
});
export type AlertRule = z.output<typeof AlertRuleSchema>;
export type AlertRuleInput = z.input<typeof AlertRuleSchema>;

export const AlertRulesSchema = z.array(AlertRuleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `rule id "${rule.id}" is used twice` });
    seen.add(rule.id);
  });
});

/** What else was going on when the alert changed state, so a technician sees the likely cause. */
export const AlertContextSchema = z.object({
  atMs: z.number(),
  /** Outcome counts of the interval, by status or rejection code. */
  outcomes: z.record(z.string(), z.number()),
  redisRttMs: z.number().optional(),
  eventLoopDelayMs: z.number().optional(),
  heapUsedBytes: z.number().optional(),
});
export type AlertContext = z.output<typeof AlertContextSchema>;

export const AlertEventSchema = z.object({
  kind: z.enum(['firing', 'resolved']),
  /** One firing episode of one rule: the firing and the resolved event share it. */
  alertId: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  metric: z.string(),
  comparison: z.enum(ALERT_COMPARISONS),
  threshold: z.number(),
  severity: z.enum(ALERT_SEVERITIES),
  /** The metric's value in the frame that caused this event (absent when the frame lacked it). */
  value: z.number().optional(),
  /** When the condition first held (start of the `for` wait). */
  activeSinceMs: z.number(),
  firedAtMs: z.number(),
  resolvedAtMs: z.number().optional(),
  /** Alerts that fire close together share a group, so they are shown once, not repeated. */
  groupId: z.string(),
  context: AlertContextSchema,
  /** The run it belongs to, so two runs' alerts never mix on a page. */
  run: z.object({ id: z.string(), scenario: z.string() }).optional(),
});
export type AlertEvent = z.output<typeof AlertEventSchema>;

/** A group of correlated alerts: the first one names the group, the others join it. */
export interface AlertGroup {
  readonly id: string;
  readonly openedAtMs: number;
  /** Rule ids in the order they first fired in this group. */
  readonly ruleIds: readonly string[];
  /** Firing events in the group, counting a rule that fires again. */
  readonly firingCount: number;
  /** Alerts of the group still firing. */
  readonly activeCount: number;
  readonly highestSeverity: AlertSeverity;
}

/** What a handler receives: the event, its group, and whether it is news or a repeat. */
export interface AlertNotification {
  readonly event: AlertEvent;
  readonly group: AlertGroup;
  /**
   * `open`: the first firing of a new group (notify loudly); `join`: a correlated alert in
   * an open group (update quietly); `resolve`: one alert resolved; `close`: the group's last
   * firing alert resolved.
   */
  readonly change: 'open' | 'join' | 'resolve' | 'close';
}

/** The minimal interval-frame shape rules are evaluated on (times in milliseconds). */
export interface AlertFrame {
  readonly atMs: number;
  readonly stages?: Readonly<Record<string, Readonly<Partial<Record<'p50' | 'p95' | 'p99' | 'max' | 'count', number>>> | undefined>>;
  readonly throughput?: number;
  /** Counts in the interval by status (`accepted`, `failed`) and by rejection code. */
  readonly outcomes?: Readonly<Record<string, number>>;
  readonly eventLoopDelayMs?: number;
  readonly heapUsedBytes?: number;
  readonly rssBytes?: number;
  readonly cpuPercent?: number;
  readonly redisRttMs?: number;
  readonly counters?: Readonly<Record<string, number>>;
}

const STATUS_KEYS = new Set(['accepted', 'failed', 'rejected']);

function outcomeTotal(outcomes: Readonly<Record<string, number>>): number {
  // Rejections are counted by code; `rejected`, when present, is their sum and not added twice.
  let total = 0;
  for (const [key, count] of Object.entries(outcomes)) if (key !== 'rejected') total += count;
  return total;
}

/** Reads one metric (see ALERT_METRIC) from a frame; undefined when the frame does not carry it. */
export function readAlertMetric(frame: AlertFrame, metric: string): number | undefined {
  const [head, second, third] = metric.split('.');
  const outcomes = frame.outcomes ?? {};
  switch (head) {
    case 'throughput':
      return frame.throughput;
    case 'eventLoop':
      return frame.eventLoopDelayMs;
    case 'heap':
      return frame.heapUsedBytes;
    case 'rss':
      return frame.rssBytes;
    case 'cpu':
      return frame.cpuPercent;
    case 'redis':
      return frame.redisRttMs;
    case 'errors':
    case 'rejected': {
      if (!frame.outcomes) return undefined;
      const total = outcomeTotal(outcomes);
      if (total === 0) return 0;
      const part =
        head === 'errors'
          ? (outcomes['failed'] ?? 0)
          : Object.entries(outcomes).reduce((sum, [key, count]) => (STATUS_KEYS.has(key) ? sum : sum + count), 0);
      return part / total;
    }
    case 'outcomes': {
      if (!frame.outcomes || second === undefined) return undefined;
      const count = outcomes[second] ?? 0;
      if (third !== 'rate') return count;
      const total = outcomeTotal(outcomes);
      return total === 0 ? 0 : count / total;
    }
    case 'limiter':
    case 'fanout':
      return frame.counters?.[metric];
    default: {
      if (head === undefined || second === undefined) return undefined;
      const stage = frame.stages?.[head];
      return stage?.[second as 'p50'];
    }
  }
}

/** The context an alert carries, taken from the frame that changed its state. */
export function alertContextOf(frame: AlertFrame): AlertContext {
  return {
    atMs: frame.atMs,
    outcomes: { ...(frame.outcomes ?? {}) },
    ...(frame.redisRttMs !== undefined && { redisRttMs: frame.redisRttMs }),
    ...(frame.eventLoopDelayMs !== undefined && { eventLoopDelayMs: frame.eventLoopDelayMs }),
    ...(frame.heapUsedBytes !== undefined && { heapUsedBytes: frame.heapUsedBytes }),
  };
}

/**
 * Rules a run watches when its scenario names none: the 10 ms promise, errors, Redis and the
 * event loop (the usual causes), the limiter falling back to in-process.
 */
export const DEFAULT_ALERT_RULES: readonly AlertRuleInput[] = [
  { id: 'e2e-slow', name: 'End-to-end p99 over 10 ms', metric: 'e2e.p99', comparison: '>', threshold: 10, forMs: 1_000, keepFiringMs: 1_000, severity: 'critical' },
  { id: 'errors', name: 'Pipeline errors over 1%', metric: 'errors.rate', comparison: '>', threshold: 0.01, forMs: 500, keepFiringMs: 1_000, severity: 'critical' },
  { id: 'redis-slow', name: 'Redis round trip over 5 ms', metric: 'redis.rttMs', comparison: '>', threshold: 5, forMs: 1_000, keepFiringMs: 1_000, severity: 'warning' },
  { id: 'event-loop', name: 'Event-loop delay over 20 ms', metric: 'eventLoop.delayMs', comparison: '>', threshold: 20, forMs: 500, keepFiringMs: 1_000, severity: 'warning' },
  { id: 'global-limit', name: 'Over 20% refused by the global cap', metric: 'outcomes.rate_limited_global.rate', comparison: '>', threshold: 0.2, forMs: 1_000, keepFiringMs: 2_000, severity: 'info' },
];

/**
 * One place alerts go (console, store, terminal). A handler may be slow or
 * fail; the dispatcher never lets either reach the evaluation or the pipeline.
 */
export interface AlertHandler {
  readonly name: string;
  handle(notification: AlertNotification): void | Promise<void>;
  close?(): Promise<void>;
}

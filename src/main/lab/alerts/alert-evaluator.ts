import {
  alertContextOf,
  AlertRulesSchema,
  readAlertMetric,
  type AlertComparison,
  type AlertEvent,
  type AlertFrame,
  type AlertGroup,
  type AlertNotification,
  type AlertRule,
  type AlertRuleInput,
  type AlertSeverity,
} from '../../../shared/alerts';
import { parseOrThrow } from '../../../shared/format-issues';

export interface AlertEvaluatorOptions {
  /**
   * An alert that fires while a group has an alert firing, or within this long after the
   * group's last alert resolved, joins that group instead of opening a new one.
   */
  groupWindowMs?: number;
  /** Prefix of alert and group ids (the run id), so ids stay unique across runs. */
  idPrefix?: string;
  /** The run watched: carried on every event, so alerts are tied to their run. */
  run?: { id: string; scenario: string };
}

type RuleState =
  | { readonly phase: 'inactive' }
  | { readonly phase: 'pending'; readonly activeSinceMs: number }
  | { readonly phase: 'firing'; readonly event: AlertEvent; readonly falseSinceMs: number | undefined };

interface MutableGroup {
  id: string;
  openedAtMs: number;
  ruleIds: string[];
  firingCount: number;
  active: Set<string>;
  highestSeverity: AlertSeverity;
  lastResolvedAtMs: number | undefined;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

function holds(value: number, comparison: AlertComparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/**
 * Evaluates alert rules on interval frames, Prometheus style: a condition must hold for
 * `forMs` before its alert fires and stay false for `keepFiringMs` before it resolves, so a
 * blip neither fires nor flaps. Pure: frames in, notifications out; no timers, no I/O.
 */
export class AlertEvaluator {
  private readonly rules: readonly AlertRule[];
  private readonly states = new Map<string, RuleState>();
  private readonly groupWindowMs: number;
  private readonly idPrefix: string;
  private readonly run: { id: string; scenario: string } | undefined;
  private group: MutableGroup | undefined;
  private sequence = 0;

  constructor(rules: readonly AlertRuleInput[], options: AlertEvaluatorOptions = {}) {
    this.rules = parseOrThrow(AlertRulesSchema, rules, 'Alert rules');
    this.groupWindowMs = options.groupWindowMs ?? 5_000;
    this.idPrefix = options.idPrefix ?? 'alert';
    this.run = options.run;
    for (const rule of this.rules) this.states.set(rule.id, { phase: 'inactive' });
  }

  /** Feeds one frame; returns what changed (firing and resolved alerts), in rule order. */
  evaluate(frame: AlertFrame): AlertNotification[] {
    const notifications: AlertNotification[] = [];
    for (const rule of this.rules) {
      const state = this.states.get(rule.id) ?? { phase: 'inactive' };
      const value = readAlertMetric(frame, rule.metric);
      // No data is not a breach: a frame without the metric counts as the condition being false.
      const breached = value !== undefined && holds(value, rule.comparison, rule.threshold);
      const next = this.step(rule, state, breached, value, frame, notifications);
      this.states.set(rule.id, next);
    }
    return notifications;
  }

  /** Alerts firing now. */
  firing(): AlertEvent[] {
    const events: AlertEvent[] = [];
    for (const state of this.states.values()) if (state.phase === 'firing') events.push(state.event);
    return events;
  }

  /** Resolves every firing alert (the run ended), so none is left open in the store. */
  resolveAll(frame: AlertFrame): AlertNotification[] {
    const notifications: AlertNotification[] = [];
    for (const rule of this.rules) {
      const state = this.states.get(rule.id);
      if (state?.phase === 'firing') notifications.push(this.resolve(rule, state.event, readAlertMetric(frame, rule.metric), frame));
      this.states.set(rule.id, { phase: 'inactive' });
    }
    return notifications;
  }

  private step(rule: AlertRule, state: RuleState, breached: boolean, value: number | undefined, frame: AlertFrame, out: AlertNotification[]): RuleState {
    const now = frame.atMs;
    switch (state.phase) {
      case 'inactive':
      case 'pending': {
        if (!breached) return { phase: 'inactive' };
        const activeSinceMs = state.phase === 'pending' ? state.activeSinceMs : now;
        if (now - activeSinceMs < rule.forMs) return { phase: 'pending', activeSinceMs };
        const notification = this.fire(rule, activeSinceMs, value, frame);
        out.push(notification);
        return { phase: 'firing', event: notification.event, falseSinceMs: undefined };
      }
      case 'firing': {
        if (breached) return { phase: 'firing', event: state.event, falseSinceMs: undefined };
        const falseSinceMs = state.falseSinceMs ?? now;
        if (now - falseSinceMs < rule.keepFiringMs) return { phase: 'firing', event: state.event, falseSinceMs };
        out.push(this.resolve(rule, state.event, value, frame));
        return { phase: 'inactive' };
      }
    }
  }

  private fire(rule: AlertRule, activeSinceMs: number, value: number | undefined, frame: AlertFrame): AlertNotification {
    const now = frame.atMs;
    let change: AlertNotification['change'] = 'join';
    const group = this.group;
    const groupOpen =
      group !== undefined && (group.active.size > 0 || (group.lastResolvedAtMs !== undefined && now - group.lastResolvedAtMs <= this.groupWindowMs));
    let current: MutableGroup;
    if (!groupOpen || group === undefined) {
      current = {
        id: `${this.idPrefix}-group-${++this.sequence}`,
        openedAtMs: now,
        ruleIds: [],
        firingCount: 0,
        active: new Set(),
        highestSeverity: rule.severity,
        lastResolvedAtMs: undefined,
      };
      this.group = current;
      change = 'open';
    } else current = group;
    if (!current.ruleIds.includes(rule.id)) current.ruleIds.push(rule.id);
    current.firingCount++;
    current.active.add(rule.id);
    if (SEVERITY_RANK[rule.severity] > SEVERITY_RANK[current.highestSeverity]) current.highestSeverity = rule.severity;
    const event: AlertEvent = {
      kind: 'firing',
      alertId: `${this.idPrefix}-${++this.sequence}`,
      ruleId: rule.id,
      ruleName: rule.name ?? rule.id,
      metric: rule.metric,
      comparison: rule.comparison,
      threshold: rule.threshold,
      severity: rule.severity,
      ...(value !== undefined && { value }),
      activeSinceMs,
      firedAtMs: now,
      groupId: current.id,
      context: alertContextOf(frame),
      ...(this.run && { run: this.run }),
    };
    return { event, group: snapshot(current), change };
  }

  private resolve(rule: AlertRule, firing: AlertEvent, value: number | undefined, frame: AlertFrame): AlertNotification {
    const group = this.group?.id === firing.groupId ? this.group : undefined;
    group?.active.delete(rule.id);
    if (group) group.lastResolvedAtMs = frame.atMs;
    const event: AlertEvent = {
      ...firing,
      kind: 'resolved',
      resolvedAtMs: frame.atMs,
      context: alertContextOf(frame),
    };
    if (value !== undefined) event.value = value;
    else delete event.value;
    const change = group && group.active.size > 0 ? 'resolve' : 'close';
    const fallback: AlertGroup = { id: firing.groupId, openedAtMs: firing.firedAtMs, ruleIds: [rule.id], firingCount: 1, activeCount: 0, highestSeverity: rule.severity };
    return { event, group: group ? snapshot(group) : fallback, change };
  }
}

function snapshot(group: MutableGroup): AlertGroup {
  return {
    id: group.id,
    openedAtMs: group.openedAtMs,
    ruleIds: [...group.ruleIds],
    firingCount: group.firingCount,
    activeCount: group.active.size,
    highestSeverity: group.highestSeverity,
  };
}

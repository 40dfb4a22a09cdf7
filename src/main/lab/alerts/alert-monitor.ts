import type { AlertEvent, AlertFrame, AlertNotification, AlertRuleInput } from '../../../shared/alerts';
import { AlertDispatcher, type AlertHandlerFailure } from './alert-dispatcher';
import { AlertEvaluator, type AlertEvaluatorOptions } from './alert-evaluator';
import type { AlertHandler } from './alert-handler';

export interface AlertMonitorOptions extends AlertEvaluatorOptions {
  readonly rules: readonly AlertRuleInput[];
  readonly handlers: readonly AlertHandler[];
  readonly onHandlerFailure?: (failure: AlertHandlerFailure) => void;
}

/**
 * Rules + handlers for one run: feed it each interval frame; it evaluates, groups and hands
 * the changes to every handler without waiting for them.
 */
export class AlertMonitor {
  private readonly evaluator: AlertEvaluator;
  private readonly dispatcher: AlertDispatcher;
  private readonly history: AlertEvent[] = [];

  constructor(options: AlertMonitorOptions) {
    this.evaluator = new AlertEvaluator(options.rules, options);
    this.dispatcher = new AlertDispatcher(options.handlers, options.onHandlerFailure);
  }

  /** Evaluates one frame and dispatches what changed; returns the changes. */
  observe(frame: AlertFrame): AlertNotification[] {
    const notifications = this.evaluator.evaluate(frame);
    this.keep(notifications);
    return notifications;
  }

  /** Ends the run: resolves what still fires, waits for the handlers, closes them. */
  async finish(frame: AlertFrame): Promise<AlertEvent[]> {
    this.keep(this.evaluator.resolveAll(frame));
    await this.dispatcher.close();
    return [...this.history];
  }

  /** Every event so far (firing and resolved), oldest first: the run's alert log. */
  events(): readonly AlertEvent[] {
    return this.history;
  }

  firing(): AlertEvent[] {
    return this.evaluator.firing();
  }

  failures(): readonly AlertHandlerFailure[] {
    return this.dispatcher.failures();
  }

  /** Waits for deliveries in flight. */
  flush(): Promise<void> {
    return this.dispatcher.flush();
  }

  private keep(notifications: readonly AlertNotification[]): void {
    if (notifications.length === 0) return;
    for (const notification of notifications) this.history.push(notification.event);
    this.dispatcher.dispatch(notifications);
  }
}

import type { AlertNotification } from '../../../shared/alerts';
import type { AlertHandler } from './alert-handler';

export interface AlertHandlerFailure {
  readonly handler: string;
  readonly alertId: string;
  readonly error: string;
}

/**
 * Hands each notification to every handler without waiting for any of them; a failure is
 * recorded (and reported through `onFailure`) instead of thrown, so one broken handler does
 * not silence the terminal.
 */
export class AlertDispatcher {
  private readonly pending = new Set<Promise<void>>();
  private readonly failureList: AlertHandlerFailure[] = [];

  constructor(
    private readonly handlers: readonly AlertHandler[],
    private readonly onFailure?: (failure: AlertHandlerFailure) => void,
  ) {}

  /** Delivers notifications to every handler; returns at once. */
  dispatch(notifications: readonly AlertNotification[]): void {
    for (const notification of notifications) {
      for (const handler of this.handlers) {
        let result: void | Promise<void>;
        try {
          result = handler.handle(notification);
        } catch (error) {
          this.fail(handler, notification, error);
          continue;
        }
        if (result instanceof Promise) {
          const delivery = result.then(
            () => undefined,
            (error: unknown) => this.fail(handler, notification, error),
          );
          this.pending.add(delivery);
          void delivery.finally(() => this.pending.delete(delivery));
        }
      }
    }
  }

  /** Waits until every delivery started so far has finished or failed. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Deliveries that failed, oldest first. */
  failures(): readonly AlertHandlerFailure[] {
    return this.failureList;
  }

  /** Flushes, then closes every handler. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.all(this.handlers.map((handler) => handler.close?.()));
  }

  private fail(handler: AlertHandler, notification: AlertNotification, error: unknown): void {
    const failure = { handler: handler.name, alertId: notification.event.alertId, error: error instanceof Error ? error.message : String(error) };
    this.failureList.push(failure);
    this.onFailure?.(failure);
  }
}

import type { AlertEvent, AlertNotification } from '../../../shared/alerts';
import type { AlertHandler } from './alert-handler';

/**
 * The store handler: hands every firing and resolved event to `save`, which the store binds
 * (an upsert on the alerts table keyed by alertId). Failures surface through the dispatcher.
 */
export function createStoreAlertHandler(save: (event: AlertEvent, notification: AlertNotification) => Promise<void>): AlertHandler {
  return { name: 'store', handle: (notification) => save(notification.event, notification) };
}

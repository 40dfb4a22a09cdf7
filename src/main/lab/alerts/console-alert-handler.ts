import type { AlertNotification } from '../../../shared/alerts';
import type { AlertHandler } from './alert-handler';

/**
 * The console handler: emits each notification as an event; the Lab forwards it to the
 * renderer (a toast for `open`, the Alerts page for all of them).
 */
export function createConsoleAlertHandler(emit: (notification: AlertNotification) => void): AlertHandler {
  return { name: 'console', handle: (notification) => emit(notification) };
}

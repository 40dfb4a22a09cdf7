import type { AlertNotification } from '../../../shared/alerts';

/**
 * One place alerts go (console, store, terminal). A handler may be slow or
 * fail; the dispatcher never lets either reach the evaluation or the pipeline.
 */
export interface AlertHandler {
  readonly name: string;
  handle(notification: AlertNotification): void | Promise<void>;
  close?(): Promise<void>;
}

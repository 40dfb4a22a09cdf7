import type { AlertHandler } from './alert-handler';

export interface WebhookAlertOptions {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Give up on one POST after this long (default 5 s). */
  readonly timeoutMs?: number;
  /** `all` (default) posts every change; `groups` posts only when a group opens or closes. */
  readonly only?: 'all' | 'groups';
}

/** The webhook handler: POSTs each notification as JSON with fetch; a non-2xx answer is a failure. */
export function createWebhookAlertHandler(options: WebhookAlertOptions): AlertHandler {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Webhook URL ${options.url} is not valid: expected an http:// or https:// URL.`);
  }
  return {
    name: 'webhook',
    async handle(notification) {
      if (options.only === 'groups' && (notification.change === 'join' || notification.change === 'resolve')) return;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: JSON.stringify({ change: notification.change, alert: notification.event, group: notification.group }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      // Drain the body so the connection can be reused.
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`Webhook ${url.origin}${url.pathname} answered ${response.status} ${response.statusText}; expected a 2xx status.`);
    },
  };
}

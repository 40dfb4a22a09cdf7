import type { AlertEvent, AlertNotification } from '../../shared/alerts';
import type { AlertHandler } from '../../shared/alerts';

export interface TerminalAlertOptions {
  /** Where lines go (default: standard error, so `--json` output on stdout stays clean). */
  readonly write?: (line: string) => void;
  readonly color?: boolean;
}

const COLORS = { info: '\x1b[36m', warning: '\x1b[33m', critical: '\x1b[31m', resolved: '\x1b[32m', reset: '\x1b[0m' } as const;

function formatValue(metric: string, value: number | undefined): string {
  if (value === undefined) return 'no data';
  if (metric.endsWith('.rate')) return `${(value * 100).toFixed(2)}%`;
  if (metric.endsWith('Bytes') || metric.endsWith('.bytes')) return `${(value / 1_048_576).toFixed(1)} MiB`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** One line per alert change, with what coincided with it. Exported for the report and tests. */
export function formatAlertLine(notification: AlertNotification): string {
  const event: AlertEvent = notification.event;
  const context = event.context;
  const coincided: string[] = [];
  const codes = Object.entries(context.outcomes)
    .filter(([code, count]) => code !== 'accepted' && count > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([code, count]) => `${code}×${count}`);
  if (codes.length > 0) coincided.push(`outcomes ${codes.join(' ')}`);
  if (context.redisRttMs !== undefined) coincided.push(`redis rtt ${context.redisRttMs.toFixed(2)} ms`);
  if (context.eventLoopDelayMs !== undefined) coincided.push(`event loop ${context.eventLoopDelayMs.toFixed(2)} ms`);
  if (context.heapUsedBytes !== undefined) coincided.push(`heap ${(context.heapUsedBytes / 1_048_576).toFixed(1)} MiB`);
  const groupNote = notification.change === 'join' ? ` (grouped with ${notification.group.ruleIds[0]}, ${notification.group.firingCount} in group)` : '';
  const state = event.kind === 'firing' ? 'FIRING' : 'RESOLVED';
  const head = `[alert ${event.severity}] ${state} ${event.ruleName}: ${event.metric} = ${formatValue(event.metric, event.value)} (${event.comparison} ${formatValue(event.metric, event.threshold)})${groupNote}`;
  return coincided.length > 0 ? `${head}; coincided: ${coincided.join(', ')}` : head;
}

/** One alert change for the terminal, tinted by severity when `color` (a TTY). */
export function formatAlertNotification(notification: AlertNotification, color: boolean): string {
  const line = formatAlertLine(notification);
  if (!color) return line;
  const tint = notification.event.kind === 'resolved' ? COLORS.resolved : COLORS[notification.event.severity];
  return `${tint}${line}${COLORS.reset}`;
}

/** The terminal handler: prints one line per change, coloured on a TTY. */
export function createTerminalAlertHandler(options: TerminalAlertOptions = {}): AlertHandler {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const color = options.color ?? (options.write === undefined && process.stderr.isTTY === true);
  return { name: 'terminal', handle: (notification) => write(formatAlertNotification(notification, color)) };
}

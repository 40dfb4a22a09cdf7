import { formatCount, formatFigure } from './format-figures';

/**
 * An alert metric's value written in its unit (see ALERT_METRIC in alerts.ts): stage figures,
 * delays and round trips in ms, rates as %, bytes in MiB, counts with thousands separators.
 * The console, the saved alert's message and the HTML export all write it this way.
 */
export function formatAlertValue(metric: string, value: number | undefined, exact = false): string {
  // A rule's threshold is written as the technician wrote it; a measured value gets its usual digits.
  const formatValue = exact ? (figure: number): string => String(Number(figure.toPrecision(6))) : formatFigure;
  if (value === undefined || Number.isNaN(value)) return '–';
  const [head, second, third] = metric.split('.');
  if (head === 'throughput') return `${formatValue(value)} /s`;
  if (head === 'cpu') return `${formatValue(value)} %`;
  if (head === 'heap' || head === 'rss') return `${formatValue(value / 1048576)} MiB`;
  if (head === 'eventLoop' || head === 'redis') return `${formatValue(value)} ms`;
  if (head === 'errors' || head === 'rejected' || third === 'rate') return `${formatValue(value * 100)} %`;
  if (head === 'outcomes' || head === 'limiter' || head === 'fanout' || second === 'count')
    return `${formatCount(value)}${head === 'outcomes' ? ' per interval' : ''}`;
  return `${formatValue(value)} ms`;
}

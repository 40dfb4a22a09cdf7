import type { RunReport } from '../../../shared/report';

const STATISTICS = ['p50', 'p95', 'p99', 'max', 'count'] as const;

function cell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The interval series as CSV: one row per interval, one column per stage statistic (ms) and
 * outcome code, so a spreadsheet can plot any of them.
 */
export function renderIntervalsCsv(report: RunReport): string {
  const stages = [...new Set(report.intervals.flatMap((interval) => Object.keys(interval.stages)))];
  const codes = [...new Set(report.intervals.flatMap((interval) => Object.keys(interval.outcomes)))];
  // Black box: the bot's own CPU and memory, only when it was watched (other runs keep their columns).
  const bot = report.intervals.some((interval) => interval.botRssBytes !== undefined);
  const header = [
    'seq',
    'time_utc',
    'seconds',
    'throughput_per_s',
    ...stages.flatMap((stage) => STATISTICS.map((statistic) => (statistic === 'count' ? `${stage}_count` : `${stage}_${statistic}_ms`))),
    ...codes.map((code) => `outcome_${code}`),
    'event_loop_p99_ms',
    'cpu_percent',
    'heap_bytes',
    'rss_bytes',
    ...(bot ? ['bot_cpu_percent', 'bot_rss_bytes'] : []),
  ];
  const lines = [header.join(',')];
  for (const interval of report.intervals) {
    lines.push(
      [
        interval.seq,
        new Date(interval.atMs).toISOString(),
        ((interval.atMs - report.run.startedAtMs) / 1000).toFixed(3),
        interval.throughput,
        ...stages.flatMap((stage) => STATISTICS.map((statistic) => interval.stages[stage]?.[statistic] ?? null)),
        ...codes.map((code) => interval.outcomes[code] ?? 0),
        interval.eventLoopDelayMs,
        interval.cpuPercent,
        interval.heapBytes,
        interval.rssBytes,
        ...(bot ? [interval.botCpuPercent ?? null, interval.botRssBytes ?? null] : []),
      ]
        .map(cell)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

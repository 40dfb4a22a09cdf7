import type { ReplayInfo } from '../../../shared/chat-log';
import { describeStartedFrom, type RunComparison, type RunReport } from '../../../shared/report';
import type { BlackBoxSummary, BotResources, ChatToCvSummary, DegradedInterval, StageStatistics } from '../../../shared/run';
import { describeDegradedIntervals } from '../../../shared/describe-degraded-intervals';
import { wholeRunDriver } from '../../../shared/comparison-words';
import { TERM_GLOSSARY } from '../../../shared/glossary';
import { scenarioFacts } from '../../../shared/scenario-facts';
import { layoutCvDecomposition, type CvDecompositionLayout } from '../../../shared/cv-decomposition';
import { layoutDistributionStrip } from '../../../shared/distribution-strip';
import { formatChange, formatCount, formatFigure, formatRatioAsPercent } from '../../../shared/format-figures';
import { escapeHtml, formatNumber, lineChart, type ChartSeries } from './svg-chart';
import { LOOPBACK_STYLE, loopbackSection } from './render-loopback';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const STYLE = `
:root { color-scheme: light; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; margin: 24px auto; max-width: 980px; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 22px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 3px; }
.meta { color: #57606a; } .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.passed, .improved { background: #dafbe1; color: #116329; } .failed, .regressed { background: #ffebe9; color: #a40e26; }
.aborted, .running { background: #fff8c5; color: #7d4e00; } .unchanged { background: #ddf4ff; color: #0550ae; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #eaeef2; padding: 3px 8px; text-align: right; } th { background: #f6f8fa; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
.chart { width: 100%; height: auto; display: block; margin: 6px 0 14px; }
.chart-title { font-size: 13px; font-weight: 600; fill: #1b1f24; } .tick, .legend { font-size: 10px; fill: #57606a; } .axis { font-size: 11px; fill: #1b1f24; }
.grid { stroke: #eaeef2; stroke-width: 1; } .frame { fill: none; stroke: #8c959f; stroke-width: 1; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 11px; white-space: pre-wrap; word-break: break-word; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 24px; }
.note { color: #57606a; font-size: 12px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10.5px; }
  section, .chart, table { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

/** A threshold's figure as the terminal prints it: latencies in ms, rates as percentages, counts grouped. */
function inThresholdUnit(value: number | null, unit: string): string {
  if (value === null) return '–';
  if (unit === 'ratio') return formatRatioAsPercent(value);
  if (unit === 'count') return formatCount(value);
  if (unit === 'per_second') return `${formatFigure(value)} /s`;
  return `${formatFigure(value)} ${escapeHtml(unit)}`;
}

const time = (ms: number | null): string => (ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '–' : `${formatNumber(value)}`);

/** The "nines" axis of a percentile chart: 0 → 0%, 1 → 90%, 2 → 99%, …; the maximum sits just past the last nine. */
function ninesX(quantile: number): number {
  return quantile >= 1 ? 5.6 : -Math.log10(1 - quantile);
}
const NINES_TICKS = [
  { value: 0, label: '0%' },
  { value: 1, label: '90%' },
  { value: 2, label: '99%' },
  { value: 3, label: '99.9%' },
  { value: 4, label: '99.99%' },
  { value: 5, label: '99.999%' },
  { value: 5.6, label: 'max' },
];

/** The promise to the audience: a chat message moves the picture in under 10 ms. */
const LATENCY_TARGET = { value: 10, label: '10 ms target' } as const;

function percentileChart(title: string, series: readonly { name: string; curve: readonly { quantile: number; valueMs: number }[]; dashed?: boolean }[]): string {
  return lineChart({
    title,
    target: LATENCY_TARGET,
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    xTicks: NINES_TICKS,
    series: series.map((entry, index) => ({
      name: entry.name,
      color: COLORS[index % COLORS.length]!,
      points: entry.curve.map((point) => [ninesX(point.quantile), point.valueMs] as const),
      ...(entry.dashed ? { dashed: true } : {}),
    })),
  });
}

function latencyOverTime(report: RunReport, stage: string): string {
  const start = report.run.startedAtMs;
  const pick = (key: 'p50' | 'p95' | 'p99' | 'max'): ChartSeries['points'] =>
    report.intervals.flatMap((interval) => {
      const stats = interval.stages[stage];
      return stats && stats.count > 0 ? [[(interval.atMs - start) / 1000, stats[key]] as const] : [];
    });
  return lineChart({
    title: `${stage} latency over time`,
    xLabel: 'seconds since start',
    yLabel: 'latency (ms)',
    target: LATENCY_TARGET,
    series: [
      { name: 'p50', color: COLORS[0]!, points: pick('p50') },
      { name: 'p95', color: COLORS[2]!, points: pick('p95') },
      { name: 'p99', color: COLORS[1]!, points: pick('p99') },
      { name: 'max', color: COLORS[4]!, points: pick('max'), dashed: true },
    ],
  });
}

function seriesOverTime(report: RunReport, title: string, yLabel: string, lines: readonly { name: string; value: (interval: RunReport['intervals'][number]) => number | null }[]): string {
  const start = report.run.startedAtMs;
  return lineChart({
    title,
    xLabel: 'seconds since start',
    yLabel,
    series: lines.map((line, index) => ({
      name: line.name,
      color: COLORS[(index * 3) % COLORS.length]!,
      points: report.intervals.flatMap((interval) => {
        const value = line.value(interval);
        return value === null ? [] : [[(interval.atMs - start) / 1000, value] as const];
      }),
    })),
  });
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** The two runs' per-interval figures on one axis, as the console draws them. */
function distributionStrip(comparison: RunComparison): string {
  if (!comparison.distributions) return '';
  const layout = layoutDistributionStrip([
    { label: comparison.baseline.baseline ? 'baseline' : 'other run', distribution: comparison.distributions.baseline },
    { label: 'this run', distribution: comparison.distributions.candidate },
  ]);
  const colors = ['#1f77b4', '#ff7f0e'];
  const ticks = layout.ticks
    .map((tick) => `<line x1="${tick.x}" x2="${tick.x}" y1="4" y2="${layout.height - 18}" class="grid"/><text x="${tick.x}" y="${layout.height - 6}" text-anchor="middle" class="tick">${escapeHtml(tick.label)}</text>`)
    .join('');
  const rows = layout.rows
    .map((row, index) => {
      const color = colors[index]!;
      const label = row.label;
      return `<text x="4" y="${row.y + 4}" class="axis">${escapeHtml(label)}</text><line x1="${row.whisker[0]}" x2="${row.whisker[1]}" y1="${row.y}" y2="${row.y}" stroke="#57606a" stroke-width="1.5"/><rect x="${row.box[0]}" y="${row.y - 7}" width="${Math.max(1, row.box[1] - row.box[0])}" height="14" fill="${color}" fill-opacity="0.35" stroke="${color}"/><line x1="${row.median}" x2="${row.median}" y1="${row.y - 9}" y2="${row.y + 9}" stroke="#1b1f24" stroke-width="2"/>${row.dots
        .map((dot) => `<circle cx="${dot}" cy="${row.y}" r="2.5" fill="#d62728"/>`)
        .join('')}`;
    })
    .join('');
  const metric = escapeHtml(comparison.test.metric.replace('.', ' '));
  return `<figure style="margin:6px 0 12px"><svg class="chart" style="max-width:640px" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="per-interval ${metric} of both runs">${ticks}${rows}</svg>
<figcaption class="note">Per-interval ${metric} of each run (ms): box = middle half of the intervals, line in it = the typical interval, whiskers = fastest to p95, dots = the slowest intervals.</figcaption></figure>`;
}

/** A change only where both figures print apart; else the percentage would claim what the digits do not show. */
function changeText(row: { baselineMs: number | null; candidateMs: number | null; change: number | null }): string {
  if (row.baselineMs !== null && row.candidateMs !== null && formatFigure(row.baselineMs) === formatFigure(row.candidateMs)) return '±0\u00a0%';
  return formatChange(row.change);
}

/** The comparison block: verdict, which figure it is about and why the other moved, the picture, side-by-side percentiles, overlaid curves. */
export function renderComparisonSection(comparison: RunComparison): string {
  const { test } = comparison;
  const tested = comparison.reading
    ? [[`${escapeHtml(comparison.reading.figure)} (typical interval)`, formatFigure(comparison.reading.typical.baselineMs), formatFigure(comparison.reading.typical.candidateMs), changeText(comparison.reading.typical)]]
    : [];
  const driver = comparison.verdict === 'regressed' || comparison.verdict === 'improved' ? null : wholeRunDriver(comparison.reading);
  const rows = comparison.rows.map((row) => [
    escapeHtml(`${row.stage} ${row.percentile === 'p999' ? 'p99.9' : row.percentile}${`${row.stage}.${row.percentile}` === test.metric ? ` (whole run${driver ? `; ${driver}` : ''})` : ''}`),
    formatFigure(row.baselineMs),
    formatFigure(row.candidateMs),
    changeText(row),
  ]);
  const other = `${comparison.baseline.id}${comparison.baseline.baseline ? ' (baseline)' : ''}`;
  return `<section class="comparison"><h2>Comparison with ${escapeHtml(other)}</h2>
<p><span class="badge ${comparison.verdict}">${comparison.verdict}</span> ${escapeHtml(comparison.reading?.sentence ?? comparison.reason)}</p>
<p class="note">Mann-Whitney U (a rank test: do one run's per-interval figures tend to be higher?) on per-interval ${escapeHtml(test.metric)}: U = ${formatNumber(test.u)}, z = ${test.z.toFixed(2)}, p = ${test.pValue.toPrecision(3)} (α = ${test.alpha}),
Cliff's delta = ${test.cliffsDelta.toFixed(3)} (how often this run's interval is slower than the other's, minus the reverse), median ratio = ${test.medianRatio.toFixed(3)} (practical threshold ±${(test.minimumEffect * 100).toFixed(0)} %), ${test.samplesBaseline} vs ${test.samplesCandidate} intervals.</p>
${[comparison.baseline, comparison.candidate]
  .map((run) => `<p class="note">Notes of ${escapeHtml(run.id)}: ${run.notes?.length ? run.notes.map((note) => `${escapeHtml(note.text)}${note.tags.length ? ` [${escapeHtml(note.tags.join(', '))}]` : ''}`).join('; ') : 'none'}</p>`)
  .join('\n')}
${distributionStrip(comparison)}
${percentileChart('Percentile distribution: the other run vs this run', [
  { name: other, curve: comparison.curves.baseline, dashed: true },
  { name: comparison.candidate.id, curve: comparison.curves.candidate },
])}
${table(['stage / percentile (ms)', other, comparison.candidate.id, 'change'], [...tested, ...rows])}
</section>`;
}

/** A stage's figures as the engine wrote them in a summary (ns). */
interface RawStage {
  readonly p50?: number;
  readonly p99?: number;
}

/** One instance of a multi-instance run as its summary was saved. */
interface RawInstance {
  readonly agentId?: string;
  readonly host?: string;
  readonly local?: boolean;
  readonly share?: { readonly index?: number; readonly count?: number; readonly sendsOsc?: boolean };
  readonly summary?: { readonly sent?: number; readonly completed?: number; readonly outcomes?: { readonly accepted?: number; readonly rejected?: number }; readonly stages?: { readonly e2e?: RawStage }; readonly resources?: { readonly cpuPercentMean?: number } };
  readonly propagation?: RawStage;
  readonly remoteChanges?: number;
}

/** The per-instance table of a multi-instance run (its own figures beside the merged ones), with lost instances. */
function instancesSection(raw: Readonly<Record<string, unknown>> | null): string | undefined {
  const perInstance = raw?.['perInstance'];
  if (!Array.isArray(perInstance)) return undefined;
  const lost = Array.isArray(raw?.['lost']) ? (raw['lost'] as { agentId?: string; reason?: string }[]) : [];
  const nsToMs = (value: number | undefined): string => (value === undefined ? '–' : formatNumber(value / 1e6));
  const rows = (perInstance as RawInstance[]).map((instance) => [
    escapeHtml(instance.agentId ?? '?'),
    escapeHtml(`${instance.host ?? '?'}${instance.local ? ' (local)' : ''}`),
    instance.share ? `${(instance.share.index ?? 0) + 1}/${instance.share.count ?? '?'}` : '–',
    instance.share?.sendsOsc ? 'yes' : '',
    formatCount(instance.summary?.sent ?? 0),
    formatCount(instance.summary?.outcomes?.accepted ?? 0),
    formatCount(instance.summary?.outcomes?.rejected ?? 0),
    nsToMs(instance.summary?.stages?.e2e?.p50),
    nsToMs(instance.summary?.stages?.e2e?.p99),
    nsToMs(instance.propagation?.p99),
    formatCount(instance.remoteChanges ?? 0),
    instance.summary?.resources?.cpuPercentMean === undefined ? '–' : formatNumber(instance.summary.resources.cpuPercentMean),
  ]);
  const lostRows = lost.map((item) => [escapeHtml(item.agentId ?? '?'), `<span class="badge failed">lost</span> ${escapeHtml(item.reason ?? '')}`]);
  return `<section class="instances"><h2>Instances</h2>${table(
    ['instance', 'host', 'share', 'OSC', 'sent', 'accepted', 'rejected', 'e2e p50 (ms)', 'e2e p99 (ms)', 'propagation p99 (ms)', 'changes seen', 'CPU % mean'],
    rows,
  )}${lostRows.length ? table(['lost instance', 'why'], lostRows) : ''}</section>`;
}

/**
 * The run's report as one self-contained HTML page: styles and SVG charts inline, no script,
 * no external resource, so it opens offline and prints on A4.
 */
export function renderReportHtml(report: RunReport, comparison?: RunComparison): string {
  const { run } = report;
  const title = `cvlab report — ${run.rig} / ${run.scenario}`;
  const stages = report.summary.stages;
  const stageRows = stages.map((row) => [escapeHtml(row.stage), formatCount(row.count), ms(row.p50), ms(row.p90), ms(row.p95), ms(row.p99), ms(row.p999), ms(row.max)]);
  const totals = Object.entries(report.summary.totals).map(([key, value]) => [
    escapeHtml(key === 'throughput' ? 'throughput (/s)' : key),
    Number.isInteger(value) ? formatCount(value) : formatFigure(value),
  ]);
  const thresholdRows = report.thresholds.map((threshold) => [
    escapeHtml(`${threshold.key} ${threshold.expression}`),
    inThresholdUnit(threshold.actual, threshold.unit),
    inThresholdUnit(threshold.limit, threshold.unit),
    formatCount(threshold.samples),
    `<span class="badge ${threshold.passed ? 'passed' : 'failed'}">${threshold.passed ? 'passed' : 'failed'}</span>`,
  ]);
  const hasStage = (stage: string): boolean => report.intervals.some((interval) => (interval.stages[stage]?.count ?? 0) > 0);
  const latencyStage = hasStage('e2e') ? 'e2e' : (stages[0]?.stage ?? 'e2e');
  const environment = report.environment;

  const sections: string[] = [];
  sections.push(`<header><h1>${escapeHtml(title)}</h1>
<div class="meta">Run <b>${escapeHtml(run.id)}</b> · <span class="badge ${run.status}">${run.status}</span>${run.baseline ? ' · <span class="badge unchanged">baseline</span>' : ''}
 · started ${time(run.startedAtMs)} · ${report.summary.durationMs === null ? 'duration unknown' : `${formatNumber(report.summary.durationMs / 1000)} s`} · ${formatCount(run.intervalCount)} intervals${report.environment ? ` · on ${escapeHtml(report.environment.hostname)}` : ''}${report.environment?.startedFrom ? ` · from ${escapeHtml(describeStartedFrom(report.environment))}` : ''}</div></header>`);
  if (report.notes?.length) {
    sections.push(`<section class="notes"><h2>Lab notebook</h2>${table(
      ['time', 'on', 'note', 'tags'],
      report.notes.map((note) => [time(note.atMs), escapeHtml(note.kind === 'run' ? 'this run' : note.subject), escapeHtml(note.text), escapeHtml(note.tags.join(', '))]),
    )}</section>`);
  }
  if (comparison) sections.push(renderComparisonSection(comparison));
  sections.push(`<section><h2>Summary</h2>${
    stageRows.length
      ? table(['stage (ms)', 'samples', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], stageRows)
      : '<p class="note">No summary: the run did not finish (percentiles come from its merged histograms, which an aborted run never wrote). The interval series below is complete up to the abort.</p>'
  }${totals.length ? `<div class="grid2">${table(['total', 'value'], totals)}</div>` : ''}</section>`);
  if (thresholdRows.length) sections.push(`<section><h2>Thresholds</h2>${table(['threshold', 'measured', 'limit', 'samples', 'verdict'], thresholdRows)}</section>`);
  if (report.intervals.length) {
    sections.push(`<section><h2>Latency over time</h2>${latencyOverTime(report, latencyStage)}</section>`);
  }
  if (report.histograms.length) {
    sections.push(`<section><h2>Percentile distribution</h2>${percentileChart(
      'Latency by percentile (from the full histograms)',
      report.histograms.filter((histogram) => histogram.curve.length > 0).map((histogram) => ({ name: histogram.name, curve: histogram.curve })),
    )}</section>`);
  }
  if (report.intervals.length) {
    sections.push(`<section><h2>Throughput and resources</h2>${seriesOverTime(report, 'Throughput', 'messages / s', [{ name: 'completed / s', value: (interval) => interval.throughput }])}${seriesOverTime(
      report,
      'CPU and event loop',
      'percent · ms',
      [
        { name: 'CPU % of one core', value: (interval) => interval.cpuPercent },
        { name: 'event-loop delay p99 (ms)', value: (interval) => interval.eventLoopDelayMs },
      ],
    )}${botSeries(report)}</section>`);
  }
  const degradedIntervals = report.summary.raw?.['degradedIntervals'] as readonly DegradedInterval[] | undefined;
  if (degradedIntervals?.length) {
    sections.push(
      `<section class="degraded"><h2>Redis degraded</h2><p>${escapeHtml(degradedIntervals.find((interval) => interval.reason)?.reason ?? 'Redis did not answer in time')} and the in-process limiter stood in (limits held per process, not across instances): ${escapeHtml(describeDegradedIntervals(degradedIntervals))} into the run.</p></section>`,
    );
  }
  const instances = instancesSection(report.summary.raw);
  if (instances) sections.push(instances);
  const blackBox = report.summary.raw?.['blackBox'] as BlackBoxSummary | undefined;
  if (blackBox) sections.push(renderBlackBoxSection(blackBox));
  const chatToCv = report.summary.raw?.['chatToCv'] as ChatToCvSummary | undefined;
  if (chatToCv) sections.push(renderChatToCvSection(chatToCv, (report.summary.raw?.['stages'] ?? {}) as Readonly<Record<string, StageStatistics | undefined>>, blackBox !== undefined));
  if (report.replay) sections.push(renderReplaySection(report.replay, report.summary.totals));
  if (report.alerts.length) {
    sections.push(`<section><h2>Alerts</h2>${table(
      ['time', 'severity', 'metric', 'message'],
      report.alerts.map((alert) => [time(alert.atMs), escapeHtml(alert.severity), escapeHtml(alert.metric ?? '–'), escapeHtml(alert.message)]),
    )}</section>`);
  }
  if (report.loopback.length) {
    sections.push(`<section><h2>Hardware loop-back</h2><style>${LOOPBACK_STYLE}</style>${loopbackSection(report.loopback)}</section>`);
  }
  if (report.audit) {
    const audit = report.audit;
    sections.push(`<section><h2>Audit log</h2>${table(['queued', 'written', 'spooled', 'replayed', 'dropped'], [[audit.queued, audit.written, audit.spooled, audit.replayed, audit.dropped].map((count) => formatCount(count))])}</section>`);
  }
  sections.push(`<section><h2>Environment</h2>${
    environment
      ? table(['', ''], [
          ['Node', escapeHtml(environment.node)],
          ['Started from', escapeHtml(describeStartedFrom(environment))],
          ['CPU', `${escapeHtml(environment.cpuModel)} × ${environment.cores}`],
          ['OS', `${escapeHtml(environment.os)} (${escapeHtml(environment.arch)})`],
          ['Memory', `${formatNumber(environment.totalMemoryBytes / 2 ** 30)} GiB`],
          ['Host', escapeHtml(environment.hostname)],
        ])
      : '<p class="note">Not recorded.</p>'
  }</section>`);
  if (report.rig || report.scenario) {
    sections.push(`<section><h2>Rig and scenario</h2>${scenarioFactsNote(report.scenario)}<div class="grid2"><pre>${escapeHtml(JSON.stringify(report.rig, null, 2))}</pre><pre>${escapeHtml(JSON.stringify(report.scenario, null, 2))}</pre></div></section>`);
  }
  sections.push(`<footer class="note">Generated ${time(report.generatedAtMs)} by cvlab. Percentiles rest on the sample counts shown; histograms are HdrHistogram (3 significant digits).</footer>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${sections.join('\n')}</body></html>\n`;
}

/** The chat log a replay played: enough to know two reports replayed the same log the same way. */
function renderReplaySection(replay: ReplayInfo, totals: Readonly<Record<string, number>>): string {
  const log = replay.log;
  const rows = [
    ['file', `<code>${escapeHtml(log.fileName)}</code> (${escapeHtml(log.format)})`],
    ['content', `sha256 <code>${escapeHtml(log.sha256)}</code>`],
    ['log', `${formatCount(log.messages)} messages over ${formatNumber(log.spanMs / 1000)} s${log.firstAt ? ` from ${escapeHtml(log.firstAt)}` : ''}${log.damaged > 0 ? `; ${formatCount(log.damaged)} damaged lines skipped` : ''}`],
    ['played', `${formatNumber(replay.fromMs / 1000)} s to ${formatNumber(replay.toMs / 1000)} s of it (${formatCount(replay.windowMessages)} messages) at speed ${replay.speed}${replay.loop ? ', looped' : ''}; viewers ${replay.users === 'hashed' ? 'hashed' : 'as recorded'}`],
    ['outcome', `${formatCount(totals['sent'])} recorded lines sent; ${formatCount(totals['accepted'])} accepted, ${formatCount(totals['rejected'])} rejected`],
  ];
  return `<section><h2>Chat log replayed</h2>${table(['', ''], rows)}</section>`;
}

/** Chat → CV: the probe, its counts, each leg of the path at p50 and the clock fit's bound beside every CV figure. */
function renderChatToCvSection(cv: ChatToCvSummary, stages: Readonly<Record<string, StageStatistics | undefined>>, blackBox: boolean): string {
  const us = (ns: number | undefined): string => (ns === undefined ? '–' : `${formatNumber(ns / 1000)} µs`);
  const bound = cv.clock ? `± ${formatNumber(cv.clock.boundUs)} µs` : 'no clock fit';
  const stageRow = (name: string, what: string): string[] => {
    const statistics = stages[name];
    return [`<code>${name}</code>`, escapeHtml(what), us(statistics?.p50), us(statistics?.p99), String(statistics?.count ?? 0), bound];
  };
  const counts: [string, number][] = [
    ['probe messages sent', cv.sent],
    ['passed on by the system under test', cv.passedOn],
    ['not passed on (rejected, rate-limited, no OSC)', cv.notPassedOn],
    ['edges expected', cv.expectedEdges],
    ['edges matched', cv.matched],
    ['edges missed', cv.missed],
    ['edges no message explains', cv.unexplained],
  ];
  const path = cv.decomposition;
  return `<section><h2>Chat → CV</h2><p>Probe on <code>${escapeHtml(cv.probe.path)}</code> (${escapeHtml(cv.probe.firmware ?? 'firmware unknown')}, ${escapeHtml(cv.probe.link)} link) watching <code>${escapeHtml(cv.variable)}</code> (${escapeHtml(cv.address)}) at ${cv.thresholdMv} mV; ${cv.viewers} probe viewers at ${formatNumber(cv.rateHz)} Hz. At p50: chat → OSC ${us(path.chatToOscP50)} + OSC → CV ${us(path.oscToCvP50)} ≈ chat → CV ${us(path.chatToCvP50)}.${
    cv.problem ? ` <span class="badge failed">partial: ${escapeHtml(cv.problem)}</span>` : ''
  }</p>${cvDecompositionSvg(layoutCvDecomposition({ blackBox, decomposition: cv.decomposition, stages: stages as Readonly<Record<string, StageStatistics>>, boundUs: cv.clock?.boundUs ?? null, counts: cv }))}<div class="grid2">${table(
    ['stage', 'from → to', 'p50', 'p99', 'edges', 'clock bound'],
    [stageRow('cv', 'due → CV edge'), stageRow('chatToCv', 'chat line written → CV edge'), stageRow('oscToCv', 'datagram → CV edge')],
  )}${table(['count', 'value'], counts.map(([name, value]) => [escapeHtml(name), String(value)]))}</div></section>`;
}

/** The scenario's executor and abort grace, each with its one-line explanation (the JSON below names them bare). */
function scenarioFactsNote(scenario: unknown): string {
  const facts = scenarioFacts(scenario);
  const parts = [
    ...(facts.executor ? [`<abbr title="${escapeHtml(TERM_GLOSSARY.executor)}">executor</abbr> <code>${escapeHtml(facts.executor)}</code>: ${escapeHtml(TERM_GLOSSARY.executor)}`] : []),
    ...(facts.abortGrace ? [`aborts on a broken threshold after an <abbr title="${escapeHtml(TERM_GLOSSARY['abort grace'])}">abort grace</abbr> of ${escapeHtml(facts.abortGrace)}: ${escapeHtml(TERM_GLOSSARY['abort grace'])}`] : []),
  ];
  return parts.length ? `<p class="note" data-facts="scenario">${parts.join('<br>')}</p>` : '';
}

/** The chat → OSC → CV picture as the console draws it: a row per leg, solid to p50, lighter on to p99, the bound beside the probe-timed legs. */
function cvDecompositionSvg(layout: CvDecompositionLayout): string {
  if (layout.rows.length === 0) return '<p class="note">No CV edge was matched.</p>';
  const colors: Record<string, string> = { chatToOsc: '#e69f00', oscToCv: '#0072b2', chatToCv: '#009e73' };
  const width = 760;
  const left = 90;
  const right = 560;
  const rowHeight = 26;
  const x = (fraction: number): number => left + fraction * (right - left);
  const ms = (ns: number | undefined): string => (ns === undefined ? '–' : formatNumber(ns / 1e6));
  const rows = layout.rows.map((row, index) => {
    const y = 8 + index * rowHeight;
    const color = colors[row.key] ?? '#57606a';
    return `<text class="axis" x="0" y="${y + 13}">${escapeHtml(row.label)}</text><rect x="${left}" y="${y}" width="${right - left}" height="16" fill="#f6f8fa" stroke="#d0d7de"/><rect x="${x(row.start).toFixed(1)}" y="${y}" width="${(x(row.p99End) - x(row.start)).toFixed(1)}" height="16" fill="${color}" opacity="0.35"/><rect x="${x(row.start).toFixed(1)}" y="${y}" width="${Math.max(1, x(row.p50End) - x(row.start)).toFixed(1)}" height="16" fill="${color}"/><text class="tick" x="${right + 8}" y="${y + 12}">p50 ${ms(row.p50)} · p99 ${ms(row.p99)} ms${row.probeTimed ? ` ${escapeHtml(layout.bound)}` : ''}</text>`;
  });
  const axisY = 8 + layout.rows.length * rowHeight;
  const height = axisY + 14;
  return `<svg class="chart cv-decomposition" role="img" aria-label="chat to CV decomposition" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rows.join('')}<text class="tick" x="${left}" y="${axisY + 8}">0</text><text class="tick" x="${right}" y="${axisY + 8}" text-anchor="end">${ms(layout.axisNs)} ms</text></svg><p class="note">CV edges: ${escapeHtml(layout.edges)}; every CV figure carries the clock fit's bound (${escapeHtml(layout.bound)}).</p>`;
}

/** Black box: the bot's CPU and RSS beside cvlab's, when its processes were watched. */
function botSeries(report: RunReport): string {
  if (!report.intervals.some((interval) => interval.botRssBytes !== undefined && interval.botRssBytes !== null)) return '';
  return `${seriesOverTime(report, "The bot's CPU", 'percent of one core', [
    { name: 'bot CPU %', value: (interval) => interval.botCpuPercent ?? null },
    { name: 'cvlab CPU %', value: (interval) => interval.cpuPercent },
  ])}${seriesOverTime(report, "The bot's memory", 'MiB', [
    { name: 'bot RSS (MiB)', value: (interval) => (interval.botRssBytes === undefined || interval.botRssBytes === null ? null : interval.botRssBytes / 2 ** 20) },
    { name: 'cvlab RSS (MiB)', value: (interval) => (interval.rssBytes === null ? null : interval.rssBytes / 2 ** 20) },
  ])}`;
}

/** The bot's own health: its process tree's CPU and memory, and the leak verdict on its RSS. */
function botResourceRows(resources: BotResources): string[][] {
  if (resources.unavailable !== undefined) return [['health', `not measured — ${escapeHtml(resources.unavailable)}`]];
  const mib = (bytes: number): string => `${formatNumber(bytes / 2 ** 20)} MiB`;
  const perMinute = (bytesPerHour: number): string => `${bytesPerHour >= 0 ? '+' : '−'}${formatNumber(Math.abs(bytesPerHour) / 2 ** 20 / 60)} MiB/min`;
  const rows = [
    ['processes', `${escapeHtml(resources.processes.map((process) => `${process.name} (${process.pid})`).join(', '))}${resources.foundBy === 'connection' ? ' · found by its chat connection' : ''}`],
  ];
  if (resources.cpu) rows.push(['CPU (% of one core)', `mean ${formatNumber(resources.cpu.meanPercent)} · max ${formatNumber(resources.cpu.maxPercent)} (over 1 s)`]);
  if (resources.rss) rows.push(['RSS', `${mib(resources.rss.startBytes)} → ${mib(resources.rss.endBytes)} · max ${mib(resources.rss.maxBytes)}`]);
  const leak = resources.leak;
  if (leak) {
    const verdict = leak.samples < 3 ? 'too few points' : leak.leaking ? '<span class="badge failed">LEAK</span>' : 'no leak';
    rows.push(['memory growth', `${perMinute(leak.slopeBytesPerHour)}${leak.spanMs !== undefined ? ` over ${formatNumber(leak.spanMs / 1000)} s` : ''}, R² ${leak.rSquared.toFixed(2)} — ${verdict} (tolerance ${perMinute(leak.toleranceBytesPerHour)}, ${leak.samples} points)`]);
  } else if (resources.rss?.slopeBytesPerHour !== undefined) {
    rows.push(['memory growth', `${perMinute(resources.rss.slopeBytesPerHour)}, R² ${(resources.rss.rSquared ?? 0).toFixed(2)} (no verdict: the scenario has no leakDetection)`]);
  }
  return rows;
}

/** Which bot a black-box run measured, how it ended, and how its OSC matched the chat lines. */
function renderBlackBoxSection(blackBox: BlackBoxSummary): string {
  const bot = blackBox.bot;
  const exit = bot.signal ? `signal ${bot.signal}` : bot.exitCode === null ? 'not started by cvlab' : `exit code ${bot.exitCode}`;
  const botRows = [
    ['command', escapeHtml(bot.command ?? '– (started elsewhere, --bot-wait)')],
    ['version', escapeHtml(bot.version ?? '– (printed none)')],
    ['nick · transport', `${escapeHtml(bot.nick ?? '–')} · ${escapeHtml(bot.transport ?? '–')}`],
    ['exit', `${escapeHtml(exit)}${bot.exitedDuringRun ? ' · <span class="badge failed">left during the run: partial result</span>' : ''}`],
    ...(blackBox.resources ? botResourceRows(blackBox.resources) : []),
  ];
  const counts: [string, number][] = [
    ['chat lines sent', blackBox.chatSent],
    ['OSC datagrams caught', blackBox.oscReceived],
    ['matched', blackBox.matched],
    ['unmatched OSC', blackBox.unmatchedOsc],
    ['ambiguous', blackBox.ambiguous],
    ['no OSC, rig rejects too', blackBox.missing.rejectedByModel],
    ['no OSC, rig accepts', blackBox.missing.acceptedButSilent],
    ['bot replies (matched)', blackBox.replies.matched],
    ['slow reader: max bytes queued', blackBox.slowReader.maxBufferedBytes],
  ];
  return `<section><h2>Black box</h2><div class="grid2">${table(['bot', ''], botRows)}${table(['count', 'value'], counts.map(([name, value]) => [escapeHtml(name), formatCount(value)]))}</div>${
    bot.stderrTail ? `<h3>bot stderr (tail)</h3><pre>${escapeHtml(bot.stderrTail)}</pre>` : ''
  }</section>`;
}

import { DEFAULT_LATENCY_TARGET_MS, LoopbackResultSchema, type LoopbackResult } from '../../../shared/loopback';
import type { LoopbackEntry } from '../../../shared/report';
import { latencyHistogram } from '../loopback/latency-histogram';
import { escapeHtml, formatNumber } from './svg-chart';

// The report's "Hardware loop-back" section: per saved result a verdict against the latency
// target, the figures, the histogram on log-spaced bins, every edge overlaid at its send
// (a scope's persistence view) and the clock fit in words. Results saved before these fields
// existed fall back to a table of what they hold.

/** Styles of this section, added to the report's own. */
export const LOOPBACK_STYLE = `
.lb-verdict { display: flex; gap: 12px; align-items: center; margin: 6px 0; font-size: 14px; }
.lb-verdict .badge { font-size: 14px; }
.lb-pictures { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 24px; }
.lb-svg { width: 100%; height: auto; display: block; }
.lb-svg text { font-size: 10px; fill: #57606a; } .lb-svg .lb-title { font-size: 11px; fill: #1b1f24; }
.lb-warning { color: #9a6700; }
td.lb-words { text-align: left; color: #57606a; }
`;

const ms = (us: number | null | undefined): string => (us === null || us === undefined || !Number.isFinite(us) ? '–' : `${formatNumber(us / 1000)} ms`);

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((header) => `<th>${header}</th>`).join('')}</tr></thead><tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function histogramSvg(result: LoopbackResult, targetMs: number): string {
  const histogram = latencyHistogram(result);
  if (histogram.counts.length === 0) return '';
  const [width, height] = [460, 200];
  const margin = { left: 40, right: 10, top: 10, bottom: 34 };
  const first = histogram.boundsUs[0] as number;
  const last = histogram.boundsUs[histogram.boundsUs.length - 1] as number;
  const low = Math.min(first, last / 10 ** 0.5);
  const high = Math.max(last, targetMs * 1000 <= last * 10 ? targetMs * 1150 : last);
  const x = (us: number): number => margin.left + ((Math.log10(us) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * (width - margin.left - margin.right);
  const tallest = Math.max(1, ...histogram.counts);
  const y = (count: number): number => height - margin.bottom - (count / tallest) * (height - margin.top - margin.bottom);
  const bars = histogram.counts
    .map((count, index) => {
      if (count === 0) return '';
      const left = x(histogram.boundsUs[index] as number);
      const right = x(histogram.boundsUs[index + 1] as number);
      return `<rect x="${(left + 0.5).toFixed(1)}" y="${y(count).toFixed(1)}" width="${Math.max(1, right - left - 1).toFixed(1)}" height="${(height - margin.bottom - y(count)).toFixed(1)}" fill="#ff7f0e"><title>${ms(histogram.boundsUs[index])} – ${ms(histogram.boundsUs[index + 1])}: ${count}</title></rect>`;
    })
    .join('');
  const ticks: string[] = [];
  for (let decade = Math.floor(Math.log10(low)); decade <= Math.ceil(Math.log10(high)); decade += 1) {
    for (const step of [1, 2, 5]) {
      const value = step * 10 ** decade;
      if (value < low || value > high) continue;
      ticks.push(`<line x1="${x(value).toFixed(1)}" x2="${x(value).toFixed(1)}" y1="${height - margin.bottom}" y2="${height - margin.bottom + 4}" stroke="#8c959f"/><text x="${x(value).toFixed(1)}" y="${height - margin.bottom + 15}" text-anchor="middle">${value / 1000}</text>`);
    }
  }
  const target = targetMs * 1000 <= high ? `<line x1="${x(targetMs * 1000).toFixed(1)}" x2="${x(targetMs * 1000).toFixed(1)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#d62728" stroke-dasharray="4 3"/><text x="${(x(targetMs * 1000) - 4).toFixed(1)}" y="${margin.top + 10}" text-anchor="end" style="fill:#d62728">target ${targetMs} ms</text>` : '';
  return `<svg class="lb-svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="latency histogram"><text class="lb-title" x="${margin.left}" y="${margin.top}">edges per bin (max ${tallest})</text>${bars}<line x1="${margin.left}" x2="${width - margin.right}" y1="${height - margin.bottom}" y2="${height - margin.bottom}" stroke="#8c959f"/>${ticks.join('')}${target}<text x="${(margin.left + width - margin.right) / 2}" y="${height - 4}" text-anchor="middle">latency, ms (log scale, bins 12 % wide)</text></svg>`;
}

function triggeredSvg(result: LoopbackResult, targetMs: number): string {
  const measured = result.edges.filter((edge) => edge.latencyUs !== null);
  if (measured.length === 0) return '';
  const [width, height] = [460, 200];
  const margin = { left: 40, right: 10, top: 12, bottom: 34 };
  const slowest = Math.max(...measured.map((edge) => edge.latencyUs as number)) / 1000;
  const span = [1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 500, 1000].find((step) => step >= Math.max(1, slowest * 1.25)) ?? slowest * 1.25;
  const x = (value: number): number => margin.left + (value / span) * (width - margin.left - margin.right);
  const [lowY, highY] = [height - margin.bottom - 16, margin.top + 16];
  const opacity = Math.max(0.05, Math.min(0.6, 12 / measured.length)).toFixed(3);
  const traces = measured
    .map((edge) => {
      const at = x((edge.latencyUs as number) / 1000).toFixed(1);
      const [before, after] = edge.direction === 'rise' ? [lowY, highY] : [highY, lowY];
      return `<polyline points="${x(0)},${before} ${at},${before} ${at},${after} ${x(span)},${after}" stroke="${edge.direction === 'rise' ? '#1f77b4' : '#ff7f0e'}"/>`;
    })
    .join('');
  const step = span / 5;
  const ticks = Array.from({ length: 6 }, (_, index) => index * step)
    .map((value) => `<line x1="${x(value).toFixed(1)}" x2="${x(value).toFixed(1)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#eaeef2"/><text x="${x(value).toFixed(1)}" y="${height - margin.bottom + 15}" text-anchor="middle">${formatNumber(value)}</text>`)
    .join('');
  const target = targetMs <= span ? `<line x1="${x(targetMs).toFixed(1)}" x2="${x(targetMs).toFixed(1)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#d62728" stroke-dasharray="4 3"/>` : '';
  return `<svg class="lb-svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="every edge aligned at its send">${ticks}${target}<line x1="${x(0)}" x2="${x(0)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#2ca02c" stroke-dasharray="3 3"/><text x="${x(0) + 3}" y="${margin.top + 8}" style="fill:#2ca02c">OSC sent</text><text x="${margin.left - 4}" y="${highY + 3}" text-anchor="end">high</text><text x="${margin.left - 4}" y="${lowY + 3}" text-anchor="end">low</text><g fill="none" stroke-width="1.2" stroke-opacity="${opacity}">${traces}</g><text x="${(margin.left + width - margin.right) / 2}" y="${height - 4}" text-anchor="middle">time after the OSC send, ms (every edge overlaid)</text></svg>`;
}

function fitRows(result: LoopbackResult): string[][] {
  const clock = result.clock;
  if (!clock) return [['clock fit', 'none', 'the probe answered no PING']];
  const words: string[][] = [
    ['samples kept', `${clock.kept}/${clock.samples}`, `of ${clock.samples} PING exchanges, the ${clock.kept} quickest were used: slower ones were held up by the link and would mislead`],
    ['fit residual', `${formatNumber(clock.residualUs)} µs`, 'how far the kept exchanges sit from the fitted clock line (rms)'],
    ['bound', `±${formatNumber(clock.boundUs)} µs`, "the exchanges pin the probe's clock within this: each edge time carries at most that uncertainty"],
    ['drift', `${formatNumber(clock.driftPpm)} ppm`, "the probe crystal's rate against the host's, taken out"],
    ['quickest round trip', ms(clock.minRoundTripUs), clock.expectedMinRoundTripUs !== undefined ? `the link itself needs ${ms(clock.expectedMinRoundTripUs)}` : ''],
  ];
  if (result.link) {
    words.unshift(['link', result.link.kind === 'uart' ? `UART ${result.link.baud} baud` : 'native USB', `from ${result.link.source === 'rig' ? 'the rig' : result.link.source === 'hello' ? "the probe's HELLO" : 'an assumption (1.0 probe)'}${result.link.latencyTimerMs !== null ? `; USB-serial latency timer ${result.link.latencyTimerMs} ms${result.link.latencyTimerMs > 1 ? ' (set it to 1 ms)' : ''}` : ''}`]);
  }
  if (clock.linkFit && clock.linkFit !== 'fits') {
    const misfit = { 'slow-link': "the link's timing does not fit: something holds the replies (a USB-serial latency timer?)", 'faster-than-wire': 'replies came faster than the stated UART: native USB or another baud?', loose: 'the exchanges leave a wide bound: edge times are that uncertain' }[clock.linkFit];
    words.push(['link fit', `<span class="lb-warning">${clock.linkFit}</span>`, misfit]);
  }
  return words.map(([name, value, meaning]) => [escapeHtml(name as string), value as string, `<span class="lb-words">${escapeHtml(meaning as string)}</span>`]);
}

function resultHtml(result: LoopbackResult): string {
  const targetMs = result.target?.latencyMs ?? DEFAULT_LATENCY_TARGET_MS;
  const passed = result.target?.passed ?? (result.latency ? result.latency.p99Us <= targetMs * 1000 : null);
  const badge = passed === null ? '<span class="badge aborted">no verdict</span>' : passed ? '<span class="badge passed">PASS</span>' : '<span class="badge failed">FAIL</span>';
  const stats = (label: string, value: LoopbackResult['latency']): string[] =>
    value ? [label, ms(value.p50Us), ms(value.p95Us), ms(value.p99Us), ms(value.maxUs), ms(value.jitterUs), String(value.count)] : [label, '–', '–', '–', '–', '–', '0'];
  return [
    `<div class="lb-verdict">${badge}<span>p99 ${ms(result.latency?.p99Us)} against the ${targetMs} ms target · ${result.matched} of ${result.sent} edges measured, ${result.misses} missed, ${result.spurious} spurious · ${escapeHtml(result.port)}</span></div>`,
    result.complete ? '' : `<p class="lb-warning">Incomplete: ${escapeHtml(result.stopReason ?? 'stopped early')}.</p>`,
    table(['', 'p50', 'p95', 'p99', 'max', 'jitter (p99−p50)', 'edges'], [stats('clock model', result.latency), stats('host arrival', result.arrivalLatency)]),
    `<div class="lb-pictures">${histogramSvg(result, targetMs)}${triggeredSvg(result, targetMs)}</div>`,
    `<table><tbody>${fitRows(result)
      .map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`,
  ].join('');
}

/** The loop-back section's inner HTML for the saved results of a run. */
export function loopbackSection(entries: readonly LoopbackEntry[]): string {
  return entries
    .map((entry) => {
      const heading = `<h3>${escapeHtml(entry.id)} · ${new Date(entry.startedAtMs).toISOString().replace('T', ' ').slice(0, 19)} UTC</h3>`;
      const parsed = LoopbackResultSchema.safeParse(entry.summary);
      if (parsed.success) return heading + resultHtml(parsed.data);
      return heading + table(['figure', 'value'], Object.entries(entry.summary).map(([key, value]) => [escapeHtml(key), escapeHtml(typeof value === 'number' ? formatNumber(value) : JSON.stringify(value))]));
    })
    .join('');
}

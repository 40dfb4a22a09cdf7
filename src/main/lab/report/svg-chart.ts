/** One line of a chart. */
export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** Tick positions and labels on x; default: five evenly spaced values. */
  readonly xTicks?: readonly { value: number; label: string }[];
  readonly width?: number;
  readonly height?: number;
  /** A horizontal target line (the 10 ms promise), in y units, drawn dashed and named in the legend. */
  readonly target?: { readonly value: number; readonly label: string };
}

/** Near-black and dotted: apart from every series colour, red included. */
const TARGET_COLOR = '#1b1f24';
/** Legend text is 10px; this is a generous width per character so a name is never cut. */
const LEGEND_CHARACTER_WIDTH = 6.4;

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character);
}

/** A short, readable number for axes and tables. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** A tick label with no trailing zeros ("5", "10", "2.5"), thousands separated. */
function formatTick(value: number): string {
  return Number(value.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** Round tick values covering [min, max] (1, 2, 5 × 10^k steps). */
function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((factor) => factor * power >= rough) ?? 10) * power;
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

/**
 * A line chart as an inline SVG string: axes, grid, one <path> per series and a legend. Fixed
 * viewBox, scaled by CSS, so it reads the same on screen and on an A4 page.
 */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  // The legend has rows of its own under the title, wrapped at the right edge, so no name is cut.
  const legendItems = [
    ...options.series.map((series) => ({ name: series.name, color: series.color, dashed: series.dashed === true, dotted: false })),
    ...(options.target ? [{ name: options.target.label, color: TARGET_COLOR, dashed: true, dotted: true }] : []),
  ];
  const legendLeft = 56;
  const legendPlaced: { item: (typeof legendItems)[number]; x: number; row: number }[] = [];
  let legendX = legendLeft;
  let legendRow = 0;
  for (const item of legendItems) {
    const itemWidth = 30 + item.name.length * LEGEND_CHARACTER_WIDTH;
    if (legendX > legendLeft && legendX + itemWidth > width - 16) {
      legendRow++;
      legendX = legendLeft;
    }
    legendPlaced.push({ item, x: legendX, row: legendRow });
    legendX += itemWidth;
  }
  const legendRows = legendItems.length ? legendRow + 1 : 0;
  const margin = { top: 28 + legendRows * 14, right: 16, bottom: 40, left: 56 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const all = options.series.flatMap((series) => series.points);
  const xs = all.map(([x]) => x);
  const ys = [...all.map(([, y]) => y), ...(options.target ? [options.target.value] : [])];
  const xMin = all.length ? Math.min(...xs) : 0;
  const xMax = all.length ? Math.max(...xs) : 1;
  const yMax = ys.length ? Math.max(...ys) * 1.05 : 1;
  const yTicks = niceTicks(0, yMax > 0 ? yMax : 1);
  const yTop = Math.max(yMax, yTicks.at(-1) ?? 1);
  const scaleX = (x: number): number => margin.left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * plotWidth : plotWidth / 2);
  const scaleY = (y: number): number => margin.top + plotHeight - (y / (yTop || 1)) * plotHeight;
  const xTicks = options.xTicks ?? niceTicks(xMin, xMax).map((value) => ({ value, label: formatTick(value) }));

  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<text x="${margin.left}" y="16" class="chart-title">${escapeHtml(options.title)}</text>`);
  for (const tick of yTicks) {
    const y = scaleY(tick).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y}" class="tick" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of xTicks) {
    if (tick.value < xMin || tick.value > xMax) continue;
    const x = scaleX(tick.value).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotHeight}" class="grid"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 14}" class="tick" text-anchor="middle">${escapeHtml(tick.label)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" class="frame"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 6}" class="axis" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" class="axis" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`);
  for (const series of options.series) {
    if (series.points.length === 0) continue;
    const d = series.points.map(([x, y], index) => `${index ? 'L' : 'M'}${scaleX(x).toFixed(1)} ${scaleY(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.6"${series.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeHtml(series.name)}</title></path>`);
  }
  if (options.target) {
    const y = scaleY(options.target.value).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" stroke="${TARGET_COLOR}" stroke-width="1.4" stroke-dasharray="2 3"><title>${escapeHtml(options.target.label)}</title></line>`);
  }
  for (const { item, x, row } of legendPlaced) {
    const y = 30 + row * 14;
    parts.push(`<line x1="${x}" x2="${x + 16}" y1="${y}" y2="${y}" stroke="${item.color}" stroke-width="2"${item.dotted ? ' stroke-dasharray="2 3"' : item.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${x + 20}" y="${y}" class="legend" dominant-baseline="middle">${escapeHtml(item.name)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

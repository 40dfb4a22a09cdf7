import { trimNumber } from './scope-format';
import { memo, useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { FrameClock } from './frame-clock';
import type { FrameStore, SeriesKey } from './frame-store';
import type { ScopeView } from './scope-view';
import { formatValue } from '../format/format';
import { stageHelp } from '../glossary';

export { formatValue };

export interface TraceSpec {
  key: SeriesKey;
  label: string;
  color: string;
  width?: number;
  dash?: number[];
  /** Off until the technician clicks it in the legend (rare codes). */
  hidden?: boolean;
}

const AXIS_FONT_PX = 12;
const AXIS_FONT = `${AXIS_FONT_PX}px "JetBrains Mono", "DejaVu Sans Mono", monospace`;
/** Width of the y axis: its widest label plus the tick and a margin, so no label is ever cut. */
function axisWidth(u: uPlot, values: string[] | null): number {
  if (!values?.length) return 48;
  // Labels repeat from one redraw to the next: measure each text once.
  let widest = 0;
  for (const value of values) {
    let width = LABEL_WIDTHS.get(value);
    if (width === undefined) {
      const context = u.ctx;
      context.save();
      context.font = AXIS_FONT;
      width = context.measureText(value).width;
      context.restore();
      if (LABEL_WIDTHS.size > 2000) LABEL_WIDTHS.clear();
      LABEL_WIDTHS.set(value, width);
    }
    widest = Math.max(widest, width);
  }
  return Math.ceil(widest) + 18;
}
const LABEL_WIDTHS = new Map<string, number>();

interface ScopeChartProps {
  store: FrameStore;
  clock: FrameClock;
  /** What the technician chose; read by the animation loop, never during render. */
  view: React.RefObject<ScopeView>;
  title: string;
  unit: string;
  traces: readonly TraceSpec[];
  height: number;
  /** A horizontal target line (the 10 ms promise), in the chart's unit. */
  targetLine?: number;
  /** This chart follows the fixed scale when the technician sets one. */
  followsFixedScale?: boolean;
  /** A click on the chart places a cursor at that run time (seconds). */
  onPlaceCursor?: (seconds: number, which: 0 | 1) => void;
  className?: string;
  /** Side panels redraw at most this often (ms): each redraw costs the browser, and engine CPU is shared. */
  minRedrawMs?: number;
}

const AXIS = {
  stroke: '#9fb0c2',
  grid: { stroke: '#1b232d', width: 1 },
  ticks: { stroke: '#2a3644', width: 1 },
  font: AXIS_FONT,
};
const CURSOR_COLORS = ['#f5f7fa', '#67e8f9'] as const;
const TARGET_COLOR = '#ff5d5d';

/**
 * One scope trace panel. uPlot is created once per mount and kept in a ref; data goes in by
 * setData on the shared animation frame, from the store's ring buffers, only when the data or
 * the view changed. Nothing here passes frames through React state.
 */
export const ScopeChart = memo(function ScopeChart({
  store,
  clock,
  view,
  title,
  unit,
  traces,
  height,
  targetLine,
  followsFixedScale,
  onPlaceCursor,
  className,
  minRedrawMs = 0,
}: ScopeChartProps): React.JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const placeRef = useRef(onPlaceCursor);
  const targetRef = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    placeRef.current = onPlaceCursor;
  }, [onPlaceCursor]);

  // Options depend only on what the chart draws, never on the data or the view.
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(() => {
    let axisSize = 48;
    return {
      legend: { show: true, live: true },
      // Charts share the time under the cursor, never its height: their y units differ.
      cursor: {
        sync: { key: 'cvlab-scope', match: [(own, source) => own === source, () => false] },
        drag: { x: false, y: false },
        points: { size: 6 },
      },
      scales: { x: { time: false }, y: { auto: false } },
      axes: [
        // Ticks at least 44 px apart: the small panels at 1024 px still get several.
        { ...AXIS, space: 44, values: (_u, splits) => splits.map((value) => `${trimNumber(value)} s`) },
        {
          ...AXIS,
          // Grows to the widest label seen and never shrinks back: the plot does not jump sideways
          // (nor re-lay out) each time the auto scale changes its labels.
          size: (u, values) => (axisSize = Math.max(axisSize, Math.ceil(axisWidth(u, values) / 8) * 8)),
          values: (_u, splits) => splits.map((value) => `${trimNumber(value)}${unit ? ` ${unit}` : ''}`),
        },
      ],
      series: [
        { label: 't', value: (_u, value) => (value == null ? '–' : `${value.toFixed(1)} s`) },
        ...traces.map((trace) => ({
          label: trace.label,
          stroke: trace.color,
          width: trace.width ?? 1.5,
          ...(trace.dash ? { dash: trace.dash } : {}),
          points: { show: false },
          show: trace.hidden !== true,
          value: (_u: uPlot, value: number | null) =>
            value == null || Number.isNaN(value) ? '–' : `${formatValue(value)}${unit ? ` ${unit}` : ''}`,
        })),
      ],
      hooks: {
        draw: [
          (u: uPlot) => {
            const aboveScale = drawOverlays(u, targetLine, view.current.cursors);
            const marker = targetRef.current;
            // Written only on a change: each attribute write costs the page a style pass.
            if (marker && marker.dataset['above'] !== String(aboveScale)) marker.dataset['above'] = String(aboveScale);
          },
        ],
      },
    };
  }, [traces, unit, targetLine, view]);

  useEffect(() => {
    const container = containerRef.current;
    const viewRef = view;
    if (!container) return;
    const empty: uPlot.AlignedData = [[], ...traces.map(() => [])];
    const chart = new uPlot({ ...options, width: Math.max(200, container.clientWidth), height }, empty, container);
    chartRef.current = chart;

    const onClick = (event: MouseEvent): void => {
      const left = chart.cursor.left;
      if (left == null || left < 0) return;
      placeRef.current?.(chart.posToVal(left, 'x'), event.shiftKey ? 1 : 0);
    };
    chart.over.addEventListener('click', onClick);
    // Each stage's legend entry says what the stage covers.
    chart.root.querySelectorAll<HTMLElement>('.u-legend .u-series').forEach((row, index) => {
      const trace = traces[index - 1];
      const help = trace && stageHelp(trace.key.startsWith('stage:') ? trace.key.slice(6) : '');
      if (help) row.title = help;
    });

    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(200, container.clientWidth), height });
      clock.request();
    });
    resize.observe(container);

    let drawnVersion = -1;
    let drawnRevision = -1;
    let frozen = false;
    let frozenEnd = 0;
    let drawnAt = 0;
    const tick = (now: number): void => {
      const view = viewRef.current;
      if (container.offsetParent === null) return; // page hidden: nothing to draw
      const changedView = view.revision !== drawnRevision;
      if (view.paused) {
        if (frozen && !changedView) return;
        if (!frozen) {
          // Copy once: the live views are windows into rings that keep moving underneath.
          chart.setData(
            [
              store.ring('time').view().slice(),
              ...traces.map((trace) => store.ring(trace.key).view().slice()),
            ] as uPlot.AlignedData,
            false,
          );
          frozenEnd = store.ring('time').last();
          frozen = true;
        }
        // The same window rule as live: a run shorter than the timebase stays anchored at 0.
        const end = Number.isNaN(frozenEnd) ? view.windowSeconds : Math.max(frozenEnd, view.windowSeconds);
        applyScales(chart, view, end, followsFixedScale === true);
        drawnRevision = view.revision;
        return;
      }
      if (!frozen && store.version === drawnVersion && !changedView) return;
      if (!changedView && !frozen && now - drawnAt < minRedrawMs) {
        clock.requestLater(minRedrawMs - (now - drawnAt));
        return;
      }
      drawnAt = now;
      frozen = false;
      const time = store.ring('time');
      chart.batch(() => {
        chart.setData(
          [time.view(), ...traces.map((trace) => store.ring(trace.key).view())] as uPlot.AlignedData,
          false,
        );
        const end = time.length ? Math.max(time.last(), view.windowSeconds) : view.windowSeconds;
        applyScales(chart, view, end, followsFixedScale === true);
      });
      drawnVersion = store.version;
      drawnRevision = view.revision;
      // What the trace holds, readable without pixels (tests check that history survives a reload).
      const frames = String(time.length);
      const firstSeconds = time.length ? String(time.view()[0]) : '';
      if (container.dataset['frames'] !== frames) container.dataset['frames'] = frames;
      if (container.dataset['firstSeconds'] !== firstSeconds) container.dataset['firstSeconds'] = firstSeconds;
    };
    const unsubscribe = clock.subscribe(tick);

    return () => {
      unsubscribe();
      resize.disconnect();
      chart.over.removeEventListener('click', onClick);
      chart.destroy();
      chartRef.current = null;
    };
  }, [options, store, clock, view, traces, height, followsFixedScale, minRedrawMs]);

  return (
    <section className={`scope-panel ${className ?? ''}`} aria-label={title}>
      <header className="scope-panel-title">
        <span>{title}</span>
        {targetLine !== undefined && (
          <span className="target-key" ref={targetRef} data-above="false">
            <span className="target-swatch" aria-hidden="true" /> {targetLine} {unit} target
            <span className="target-above"> ▲ above the scale</span>
          </span>
        )}
      </header>
      <div ref={containerRef} className="scope-canvas" />
    </section>
  );
});

/** The visible window [end − timebase, end] and the y range: fixed, or the top of what is on screen. */
function applyScales(chart: uPlot, view: ScopeView, end: number, followsFixedScale: boolean): void {
  const start = end - view.windowSeconds;
  chart.setScale('x', { min: start, max: end });
  let top = 0;
  if (followsFixedScale && view.fixedMaxMs !== null) {
    top = view.fixedMaxMs;
  } else {
    const time = chart.data[0];
    for (let series = 1; series < chart.data.length; series++) {
      const values = chart.data[series];
      if (!values || !chart.series[series]?.show) continue;
      for (let index = 0; index < time.length; index++) {
        const at = time[index] ?? 0;
        const value = values[index];
        if (at >= start && at <= end && value != null && value > top) top = value;
      }
    }
    top = niceCeiling(top * 1.1);
  }
  chart.setScale('y', { min: 0, max: top });
}

/**
 * The target line (its label is in the panel header, so it never covers a trace) and cursors A
 * and B. Returns true when the target is above the scale, for the header to say so.
 */
function drawOverlays(u: uPlot, targetLine: number | undefined, cursors: readonly (number | null)[]): boolean {
  const { ctx, bbox } = u;
  ctx.save();
  // uPlot leaves its axis text settings on the context; set ours.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.font = `${Math.round(12 * devicePixelRatio)}px "JetBrains Mono", "DejaVu Sans Mono", monospace`;
  let aboveScale = false;
  if (targetLine !== undefined) {
    const yMax = u.scales['y']?.max ?? 0;
    aboveScale = targetLine > yMax;
    if (!aboveScale) {
      const y = u.valToPos(targetLine, 'y', true);
      ctx.strokeStyle = TARGET_COLOR;
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([8 * devicePixelRatio, 6 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }
  cursors.forEach((at, which) => {
    if (at == null) return;
    const x = u.valToPos(at, 'x', true);
    if (x < bbox.left || x > bbox.left + bbox.width) return;
    ctx.strokeStyle = CURSOR_COLORS[which] ?? '#fff';
    ctx.fillStyle = CURSOR_COLORS[which] ?? '#fff';
    ctx.lineWidth = devicePixelRatio;
    ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillText(which === 0 ? 'A' : 'B', x + 4 * devicePixelRatio, bbox.top + 28 * devicePixelRatio);
  });
  ctx.restore();
  return aboveScale;
}

function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** An axis label: whole numbers with thousands separators, fractions with as few decimals as the step needs. */

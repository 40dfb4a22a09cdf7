import { memo, useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { FrameClock } from './frame-clock';
import type { FrameStore, SeriesKey } from './frame-store';
import type { ScopeView } from './scope-view';

export interface TraceSpec {
  key: SeriesKey;
  label: string;
  color: string;
  width?: number;
  dash?: number[];
  /** Off until the technician clicks it in the legend (rare codes). */
  hidden?: boolean;
}

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
  font: '12px "JetBrains Mono", "DejaVu Sans Mono", monospace',
};
const CURSOR_COLORS = ['#f5f7fa', '#67e8f9'] as const;

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
  useEffect(() => {
    placeRef.current = onPlaceCursor;
  }, [onPlaceCursor]);

  // Options depend only on what the chart draws, never on the data or the view.
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      legend: { show: true, live: true },
      cursor: { sync: { key: 'cvlab-scope' }, drag: { x: false, y: false }, points: { size: 6 } },
      scales: { x: { time: false }, y: { auto: false } },
      axes: [
        { ...AXIS, values: (_u, splits) => splits.map((value) => `${trimNumber(value)} s`) },
        {
          ...AXIS,
          size: 64,
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
        draw: [(u: uPlot) => drawOverlays(u, targetLine, unit, view.current.cursors)],
      },
    }),
    [traces, unit, targetLine, view],
  );

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
        applyScales(chart, view, Number.isNaN(frozenEnd) ? view.windowSeconds : frozenEnd, followsFixedScale === true);
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
      <header className="scope-panel-title">{title}</header>
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

/** The 10 ms target line (or a marker when it is above the scale) and cursors A and B. */
function drawOverlays(
  u: uPlot,
  targetLine: number | undefined,
  unit: string,
  cursors: readonly (number | null)[],
): void {
  const { ctx, bbox } = u;
  ctx.save();
  // uPlot leaves its axis text settings on the context; set ours.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.font = `${Math.round(12 * devicePixelRatio)}px "JetBrains Mono", "DejaVu Sans Mono", monospace`;
  if (targetLine !== undefined) {
    const yMax = u.scales['y']?.max ?? 0;
    ctx.strokeStyle = '#ff5d5d';
    ctx.fillStyle = '#ff5d5d';
    ctx.lineWidth = 1.5 * devicePixelRatio;
    if (targetLine <= yMax) {
      const y = u.valToPos(targetLine, 'y', true);
      ctx.setLineDash([8 * devicePixelRatio, 6 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.textAlign = 'right';
      ctx.fillText(
        `${targetLine} ${unit} target`,
        bbox.left + bbox.width - 6 * devicePixelRatio,
        y - 6 * devicePixelRatio,
      );
    } else {
      ctx.textAlign = 'right';
      ctx.fillText(
        `▲ ${targetLine} ${unit} target above scale`,
        bbox.left + bbox.width - 6 * devicePixelRatio,
        bbox.top + 14 * devicePixelRatio,
      );
    }
    ctx.textAlign = 'left';
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
}

function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function trimNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 1 ? 2 : 1);
}

export function formatValue(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

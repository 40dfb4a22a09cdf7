import { useEffect, useRef } from 'react';
import type { LatencyHistogram } from '../../../shared/api';
import type { ClockFit, LoopbackEdge, LoopbackResult } from '../../../shared/loopback';

// The loop-back page's pictures and the words beside them. The engine computes every figure
// (bins included); these only draw and explain them.

/** "2.11 ms" or "640 µs". */
export const formatUs = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : Math.abs(value) >= 1000
      ? `${(value / 1000).toFixed(2)} ms`
      : `${value.toFixed(0)} µs`;

const COLORS = {
  axis: '#93a4b6',
  grid: '#24303d',
  rise: '#4cc9f0',
  fall: '#ffc247',
  target: '#ff4d4d',
  bar: '#ffc247',
  sent: '#39ff9c',
};

/** 1-2-5 steps from `low` to `high` (µs), for a log axis. */
function logTicks(lowUs: number, highUs: number): number[] {
  const ticks: number[] = [];
  for (let decade = Math.floor(Math.log10(lowUs)); decade <= Math.ceil(Math.log10(highUs)); decade += 1) {
    for (const step of [1, 2, 5]) {
      const value = step * 10 ** decade;
      if (value >= lowUs * 0.999 && value <= highUs * 1.001) ticks.push(value);
    }
  }
  return ticks;
}

/** Round steps for a linear axis with about `count` ticks. */
function linearTicks(max: number, count: number): number[] {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= raw) ?? raw;
  const ticks: number[] = [0];
  // Up to the first tick at or above max, so the tallest bar stays inside the axis.
  while ((ticks[ticks.length - 1] as number) < max - step * 0.001)
    ticks.push((ticks[ticks.length - 1] as number) + step);
  return ticks;
}

/** The latency histogram: log-spaced bins, a log time axis in ms, counts on the left, the target marked. */
export function LatencyHistogramChart({
  histogram,
  targetMs,
}: {
  histogram: LatencyHistogram;
  targetMs: number;
}): React.JSX.Element {
  const width = 640;
  const height = 240;
  const margin = { left: 52, right: 16, top: 14, bottom: 40 };
  const first = histogram.boundsUs[0] ?? 1;
  const last = histogram.boundsUs[histogram.boundsUs.length - 1] ?? 10;
  // Show at least a decade, and the target when it is near enough to compare.
  const lowUs = Math.min(first, last / 10 ** 0.5);
  const highUs = Math.max(last, targetMs * 1000 <= last * 10 ? targetMs * 1000 * 1.15 : last);
  const x = (valueUs: number): number =>
    margin.left +
    ((Math.log10(valueUs) - Math.log10(lowUs)) / (Math.log10(highUs) - Math.log10(lowUs))) *
      (width - margin.left - margin.right);
  const tallest = Math.max(1, ...histogram.counts);
  const yTicks = linearTicks(tallest, 4);
  const yMax = yTicks[yTicks.length - 1] ?? tallest;
  const y = (count: number): number => height - margin.bottom - (count / yMax) * (height - margin.top - margin.bottom);
  const total = histogram.counts.reduce((sum, count) => sum + count, 0);
  const targetX = x(targetMs * 1000);
  return (
    <figure className="loopback-figure" aria-label="latency histogram">
      <figcaption className="loopback-caption">
        Latency histogram (clock model): {total.toLocaleString()} edges between {formatUs(first)} and {formatUs(last)};
        bins widen by 12 % each, so the bulk and the tail both show
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} className="loopback-svg" role="img" aria-label="edges per latency bin">
        {yTicks.map((tick) => (
          <g key={`y${tick}`}>
            <line x1={margin.left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} stroke={COLORS.grid} />
            <text x={margin.left - 6} y={y(tick) + 4} textAnchor="end" className="axis-text">
              {tick.toLocaleString()}
            </text>
          </g>
        ))}
        {logTicks(lowUs, highUs).map((tick) => (
          <g key={`x${tick}`}>
            <line
              x1={x(tick)}
              x2={x(tick)}
              y1={height - margin.bottom}
              y2={height - margin.bottom + 5}
              stroke={COLORS.axis}
            />
            <text x={x(tick)} y={height - margin.bottom + 18} textAnchor="middle" className="axis-text">
              {tick / 1000}
            </text>
          </g>
        ))}
        <text x={(margin.left + width - margin.right) / 2} y={height - 4} textAnchor="middle" className="axis-title">
          latency, ms (log scale)
        </text>
        <text
          x={12}
          y={(margin.top + height - margin.bottom) / 2}
          textAnchor="middle"
          className="axis-title"
          transform={`rotate(-90 12 ${(margin.top + height - margin.bottom) / 2})`}
        >
          edges
        </text>
        {histogram.counts.map((count, index) => {
          const left = x(histogram.boundsUs[index] as number);
          const right = x(histogram.boundsUs[index + 1] as number);
          return count > 0 ? (
            <rect
              key={index}
              x={left + 0.5}
              width={Math.max(1, right - left - 1)}
              y={y(count)}
              height={height - margin.bottom - y(count)}
              fill={COLORS.bar}
            >
              <title>{`${formatUs(histogram.boundsUs[index])} – ${formatUs(histogram.boundsUs[index + 1])}: ${count} edges`}</title>
            </rect>
          ) : null;
        })}
        <line
          x1={margin.left}
          x2={width - margin.right}
          y1={height - margin.bottom}
          y2={height - margin.bottom}
          stroke={COLORS.axis}
        />
        {targetX <= width - margin.right && (
          <g>
            <line
              x1={targetX}
              x2={targetX}
              y1={margin.top}
              y2={height - margin.bottom}
              stroke={COLORS.target}
              strokeDasharray="5 4"
              strokeWidth={2}
            />
            <text x={targetX - 6} y={margin.top + 12} textAnchor="end" className="axis-text target-text">
              target {targetMs} ms
            </text>
          </g>
        )}
      </svg>
    </figure>
  );
}

/**
 * Every edge overlaid, aligned at its OSC send instant, like a scope's persistence mode
 * triggered on the send: where the traces switch shows the latency and its spread at a glance.
 * Drawn on a canvas from the edges ref (many edges, redrawn only when they change).
 */
export function TriggeredView({
  edges,
  version,
  targetMs,
}: {
  edges: React.RefObject<LoopbackEdge[]>;
  version: React.RefObject<number>;
  targetMs: number;
}): React.JSX.Element {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    let drawn = -1;
    let width = 0;
    let animation = 0;
    const draw = (): void => {
      animation = requestAnimationFrame(draw);
      const cssWidth = Math.max(300, canvas.clientWidth);
      if (version.current === drawn && cssWidth === width) return;
      drawn = version.current;
      width = cssWidth;
      const cssHeight = 240;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = cssWidth * ratio;
      canvas.height = cssHeight * ratio;
      const context = canvas.getContext('2d');
      if (!context) return;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, cssWidth, cssHeight);
      const margin = { left: 52, right: 16, top: 16, bottom: 40 };
      const measured = edges.current.filter((edge) => edge.latencyUs !== null);
      const sorted = measured.map((edge) => (edge.latencyUs as number) / 1000).sort((a, b) => a - b);
      // The window: the bulk (up to p95) with room after it, at least 1 ms, the target when near.
      // A long tail would squeeze the bulk into a sliver; its edges are counted at the right edge.
      const p95 = sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
      const spanMs = niceSpan(Math.max(1, p95 * 1.4, p95 > targetMs * 0.4 ? targetMs * 1.1 : 0));
      const beyond = sorted.filter((value) => value > spanMs).length;
      const x = (ms: number): number => margin.left + (ms / spanMs) * (cssWidth - margin.left - margin.right);
      const low = cssHeight - margin.bottom - 22;
      const high = margin.top + 22;
      context.font = '12px "DejaVu Sans Mono", monospace';
      context.lineWidth = 1;
      for (const tick of linearTicks(spanMs, Math.max(4, Math.floor(cssWidth / 110))).filter(
        (value) => value <= spanMs * 1.001,
      )) {
        context.strokeStyle = COLORS.grid;
        context.beginPath();
        context.moveTo(x(tick), margin.top);
        context.lineTo(x(tick), cssHeight - margin.bottom);
        context.stroke();
        context.fillStyle = COLORS.axis;
        context.textAlign = 'center';
        context.fillText(formatTick(tick), x(tick), cssHeight - margin.bottom + 16);
      }
      context.textAlign = 'center';
      context.fillText('time after the OSC send, ms', (margin.left + cssWidth - margin.right) / 2, cssHeight - 6);
      context.textAlign = 'right';
      context.fillText('high', margin.left - 6, high + 4);
      context.fillText('low', margin.left - 6, low + 4);
      // The trigger: the send instant.
      context.strokeStyle = COLORS.sent;
      context.setLineDash([4, 4]);
      context.beginPath();
      context.moveTo(x(0), margin.top);
      context.lineTo(x(0), cssHeight - margin.bottom);
      context.stroke();
      if (targetMs <= spanMs) {
        context.strokeStyle = COLORS.target;
        context.beginPath();
        context.moveTo(x(targetMs), margin.top);
        context.lineTo(x(targetMs), cssHeight - margin.bottom);
        context.stroke();
        context.fillStyle = COLORS.target;
        context.textAlign = 'left';
        context.fillText(`target ${targetMs} ms`, x(targetMs) + 4, (low + high) / 2);
      }
      context.setLineDash([]);
      // Faint traces add up where edges agree: a persistence display.
      context.globalAlpha = Math.max(0.06, Math.min(0.6, 12 / Math.max(1, measured.length)));
      context.lineWidth = 1.5;
      for (const edge of measured) {
        const at = x(Math.min(spanMs, (edge.latencyUs as number) / 1000));
        const [before, after] = edge.direction === 'rise' ? [low, high] : [high, low];
        context.strokeStyle = edge.direction === 'rise' ? COLORS.rise : COLORS.fall;
        context.beginPath();
        context.moveTo(x(0), before);
        context.lineTo(at, before);
        context.lineTo(at, after);
        context.lineTo(x(spanMs), after);
        context.stroke();
      }
      context.globalAlpha = 1;
      context.fillStyle = COLORS.sent;
      context.textAlign = 'left';
      context.fillText('OSC sent', x(0) + 4, margin.top + 10);
      if (beyond > 0) {
        context.fillStyle = COLORS.axis;
        context.textAlign = 'right';
        context.fillText(`${beyond} later than ${formatTick(spanMs)} ms →`, cssWidth - margin.right, margin.top + 10);
      }
    };
    animation = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(animation);
  }, [edges, version, targetMs]);
  return (
    <section className="scope-panel loopback-triggered loopback-figure" aria-label="triggered view">
      <header className="loopback-caption">
        Every edge overlaid, aligned at its OSC send (like a scope&apos;s persistence mode):{' '}
        <span style={{ color: COLORS.rise }}>rising</span> and <span style={{ color: COLORS.fall }}>falling</span> edges
        as the probe saw them; where the traces bunch is the typical latency, their spread is the jitter
      </header>
      <canvas ref={canvasRef} className="loopback-canvas" style={{ width: '100%', height: 240 }} />
    </section>
  );
}

function niceSpan(ms: number): number {
  for (const step of [1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 500, 1000, 2000, 5000, 10000])
    if (step >= ms) return step;
  return ms;
}

function formatTick(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(ms < 1 ? 2 : 1);
}

/** The verdict against the latency target, as big as the run page's. */
export function LoopbackVerdict({ result }: { result: LoopbackResult }): React.JSX.Element {
  const targetMs = result.target?.latencyMs ?? 10;
  const passed = result.target?.passed ?? (result.latency ? result.latency.p99Us <= targetMs * 1000 : null);
  const label = passed === null ? 'NO VERDICT' : passed ? 'PASS' : 'FAIL';
  return (
    <div className="loopback-verdict" data-testid="loopback-verdict">
      <span className={`summary-verdict ${passed === null ? '' : passed ? 'ok' : 'bad'}`}>{label}</span>
      <div>
        <div className="loopback-verdict-line">
          {passed === null
            ? 'no edge was measured, so there is nothing to judge'
            : `p99 ${formatUs(result.latency?.p99Us)} ${passed ? 'within' : 'over'} the ${targetMs} ms target (p50 ${formatUs(result.latency?.p50Us)}, ${result.matched.toLocaleString()} of ${result.sent.toLocaleString()} edges measured)`}
        </div>
        {!result.complete && (
          <div className="loopback-warning" role="alert">
            Incomplete: {result.stopReason}. The figures are those of the edges measured before.
          </div>
        )}
      </div>
    </div>
  );
}

/** The clock fit, each figure with what it means. */
export function ClockFitExplained({
  fit,
  link,
  latencyTimerWarning,
}: {
  fit: ClockFit;
  link: LoopbackResult['link'] | null;
  latencyTimerWarning: string | null;
}): React.JSX.Element {
  const misfit = linkFitWords(fit, link);
  const rows: [string, string, string][] = [
    [
      'samples kept',
      `${fit.kept}/${fit.samples}`,
      `of ${fit.samples} PING exchanges with the probe, the ${fit.kept} quickest were used: slow ones were held up by the link (USB polling, a busy host) and would mislead`,
    ],
    [
      'fit residual',
      formatUs(fit.residualUs),
      'how far the kept exchanges sit from the fitted clock line (rms): small means a steady probe clock and a clean link',
    ],
    [
      'bound',
      `±${formatUs(fit.boundUs)}`,
      "the exchanges pin the probe's clock within this: each edge time carries at most that uncertainty",
    ],
    [
      'clock offset',
      Math.abs(fit.offsetUs) >= 1e6 ? `${(fit.offsetUs / 1e6).toFixed(6)} s` : formatUs(fit.offsetUs),
      "the probe's clock minus the host's: any value is fine, it is taken out",
    ],
    [
      'drift',
      `${fit.driftPpm.toFixed(1)} ppm`,
      "how much faster (+) or slower the probe's crystal runs; taken out too",
    ],
    [
      'quickest round trip',
      formatUs(fit.minRoundTripUs),
      fit.expectedMinRoundTripUs !== undefined
        ? `the link itself needs ${formatUs(fit.expectedMinRoundTripUs)} (lines on the wire and the probe's reply time); the rest is USB and the host`
        : 'the fastest PING → PONG seen',
    ],
  ];
  return (
    <section className="loopback-fit-explained" aria-label="clock fit">
      <h3>
        Clock fit of this run (final: from every PING of the run; the latencies use it)
        {link
          ? `: ${link.kind === 'uart' ? `UART at ${link.baud.toLocaleString()} baud behind a USB bridge` : 'native USB'}`
          : ''}
      </h3>
      {latencyTimerWarning && (
        <div className="loopback-warning" role="alert">
          {latencyTimerWarning}
        </div>
      )}
      {misfit && (
        <div className="loopback-warning" role="alert">
          {misfit}
        </div>
      )}
      <table className="data-table">
        <tbody>
          {rows.map(([name, value, meaning]) => (
            <tr key={name}>
              <td>{name}</td>
              <td className="numeric">{value}</td>
              <td className="dim">{meaning}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The clock-fit verdict in words, or null when the link fits. */
export function linkFitWords(fit: ClockFit, link: LoopbackResult['link'] | null): string | null {
  switch (fit.linkFit) {
    case 'slow-link':
      return `The link's timing does not fit: even the quickest PING took ${formatUs(fit.minRoundTripUs)} where the wire needs ${formatUs(fit.expectedMinRoundTripUs ?? 0)}. Something holds the replies (a USB-serial adapter with a 16 ms latency timer does this), so the clock cannot be split between the two directions.`;
    case 'faster-than-wire':
      return `Replies came back faster than a UART at ${link?.baud ?? '?'} baud can carry them: the probe is probably on native USB or at another baud. Set serial.link ("usb") or serial.baud in the rig.`;
    case 'loose':
      return `The PING exchanges pin the clock only to ±${formatUs(fit.boundUs)}: the link is slow or very jittery, so edge times carry that much uncertainty.`;
    default:
      return null;
  }
}

/** A latency timer over 1 ms in words, with how to set it, or null. */
export function latencyTimerWords(path: string, latencyTimerMs: number | null | undefined): string | null {
  if (latencyTimerMs === null || latencyTimerMs === undefined || latencyTimerMs <= 1) return null;
  const tty = path.split('/').pop() ?? path;
  return `The USB-serial adapter on ${path} holds replies for up to ${latencyTimerMs} ms (its latency timer). Set it to 1 ms: echo 1 | sudo tee /sys/bus/usb-serial/devices/${tty}/latency_timer`;
}

import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import type { LoopbackOutcome, ProbeState } from '../../../shared/api';
import {
  LoopbackOptionsSchema,
  type ClockFit,
  type LoopbackEdge,
  type LoopbackProgress,
  type ProbePort,
} from '../../../shared/loopback';
import { problemsByPath } from '../components/DocumentForm';
import { messageOf, useSession } from '../session';

/** Edges kept for the trace: the newest ones only, so a long run stays light. */
const KEPT_EDGES = 2000;
/** Seconds of the square wave on screen. */
const TRACE_SECONDS = 2;

const us = (value: number | null | undefined): string =>
  value === null || value === undefined
    ? '–'
    : value >= 1000
      ? `${(value / 1000).toFixed(2)} ms`
      : `${value.toFixed(0)} µs`;

/** The sent square wave and the level the probe saw, edges marked; drawn from a ref in an animation loop. */
function EdgeTrace({
  edges,
  version,
}: {
  edges: React.RefObject<LoopbackEdge[]>;
  version: React.RefObject<number>;
}): React.JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    const axis = {
      stroke: '#9fb0c2',
      grid: { stroke: '#1b232d', width: 1 },
      font: '12px "DejaVu Sans Mono", monospace',
    };
    const chart = new uPlot(
      {
        width: Math.max(300, container.clientWidth),
        height: 220,
        legend: { show: true },
        scales: { x: { time: false }, y: { auto: false, range: [-0.15, 1.25] } },
        axes: [
          { ...axis, values: (_u, splits) => splits.map((value) => `${value.toFixed(2)} s`) },
          { ...axis, values: (_u, splits) => splits.map((value) => (value === 0 ? 'low' : value === 1 ? 'high' : '')) },
        ],
        series: [
          { label: 't', value: (_u, value) => (value == null ? '–' : `${value.toFixed(3)} s`) },
          {
            label: 'sent (OSC)',
            stroke: '#4cc9f0',
            width: 2,
            paths: uPlot.paths.stepped?.({ align: 1 }),
            spanGaps: true,
            points: { show: false },
          },
          {
            label: 'seen by probe',
            stroke: '#ffc247',
            width: 2,
            paths: uPlot.paths.stepped?.({ align: 1 }),
            spanGaps: true,
            points: { show: true, size: 7, fill: '#ffc247' },
          },
        ],
      },
      [[], [], []],
      container,
    );
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(300, container.clientWidth), height: 220 }),
    );
    resize.observe(container);
    let drawn = -1;
    let animation = 0;
    const tick = (): void => {
      animation = requestAnimationFrame(tick);
      if (version.current === drawn || container.offsetParent === null) return;
      drawn = version.current;
      // Arrange the engine's edges as two step traces on one time axis (no statistics here).
      const points: { t: number; sent: number | null; seen: number | null }[] = [];
      for (const edge of edges.current) {
        const level = edge.direction === 'rise' ? 1 : 0;
        points.push({ t: edge.sentUs / 1e6, sent: level, seen: null });
        if (edge.latencyUs !== null) points.push({ t: (edge.sentUs + edge.latencyUs) / 1e6, sent: null, seen: level });
      }
      points.sort((a, b) => a.t - b.t);
      const end = points.at(-1)?.t ?? TRACE_SECONDS;
      chart.batch(() => {
        chart.setData(
          [points.map((point) => point.t), points.map((point) => point.sent), points.map((point) => point.seen)],
          false,
        );
        chart.setScale('x', { min: Math.max(0, end - TRACE_SECONDS), max: Math.max(end, TRACE_SECONDS) });
      });
    };
    animation = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(animation);
      resize.disconnect();
      chart.destroy();
    };
  }, [edges, version]);
  return (
    <section className="scope-panel" aria-label="square wave trace">
      <header className="scope-panel-title">Square wave: sent vs seen by the probe</header>
      <div ref={containerRef} className="scope-canvas" />
    </section>
  );
}

/** Loop-back: port picker, connect, calibrate, run; the square-wave trace and the latency histogram. */
export function LoopbackPage(): React.JSX.Element {
  const { lab, page, rig } = useSession();
  const [ports, setPorts] = useState<ProbePort[]>([]);
  const [path, setPath] = useState('');
  const [probe, setProbe] = useState<ProbeState>({ state: 'closed', path: null, detail: 'no probe open' });
  const [fit, setFit] = useState<ClockFit | null>(null);
  const [progress, setProgress] = useState<LoopbackProgress | null>(null);
  const [outcome, setOutcome] = useState<LoopbackOutcome | null>(null);
  const [running, setRunning] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [options, setOptions] = useState<Record<string, unknown>>({ edges: 200, rateHz: 20 });
  const edges = useRef<LoopbackEdge[]>([]);
  const version = useRef(0);
  const problems = useMemo(() => problemsByPath(LoopbackOptionsSchema, options), [options]);

  useEffect(() => {
    const subscriptions = [
      lab.onDidChangeProbe(setProbe),
      lab.onDidLoopbackProgress(setProgress),
      lab.onDidLoopbackEdges((batch) => {
        // Edges go to the trace's ref, never through React state.
        const byIndex = new Map(edges.current.map((edge) => [edge.index, edge]));
        for (const edge of batch) byIndex.set(edge.index, edge);
        edges.current = [...byIndex.values()].sort((a, b) => a.index - b.index).slice(-KEPT_EDGES);
        version.current++;
      }),
      lab.onDidFinishLoopback((value) => {
        setOutcome(value);
        setRunning(false);
      }),
    ];
    return () => subscriptions.forEach((unsubscribe) => unsubscribe());
  }, [lab]);

  // Set once the port list came back: it may fill in the port field.
  const [portsListed, setPortsListed] = useState(false);

  useEffect(() => {
    if (page !== 'loopback') return;
    lab.listProbePorts().then(
      (list) => {
        setPorts(list);
        setPath((current) => current || rig?.rig.serial?.path || list[0]?.path || '');
        setPortsListed(true);
      },
      (error: unknown) => {
        setMessage(messageOf(error));
        setPortsListed(true);
      },
    );
  }, [lab, page, rig]);

  const act = async (label: string, action: () => Promise<void>): Promise<void> => {
    setBusy(label);
    setMessage(null);
    try {
      await action();
    } catch (error) {
      setMessage(messageOf(error));
    } finally {
      setBusy(null);
    }
  };

  const connected = probe.state === 'connected';
  const result = outcome?.ok ? outcome.result : null;
  const histogram = outcome?.ok ? outcome.histogram : null;
  const tallest = histogram ? Math.max(1, ...histogram.counts) : 1;
  const fieldProblem = (name: string): string | undefined => problems.get(name)?.join('; ');

  return (
    <div className="page page-loopback">
      <header className="run-bar">
        <div className="run-title">
          <h2>Loop-back</h2>
          <div className="dim">
            OSC out → converter → CV → probe → serial back. Rig {rig?.rig.name ?? '…'}; the test variable drives the
            square wave.
          </div>
        </div>
      </header>
      {message && <div className="notice bad">{message}</div>}

      <div className="loopback-controls">
        <label>
          port
          <input
            list="probe-ports"
            value={path}
            onChange={(event) => setPath(event.target.value)}
            aria-label="probe serial port"
            data-ports-listed={portsListed}
            placeholder="/dev/ttyACM0"
          />
          <datalist id="probe-ports">
            {ports.map((port) => (
              <option key={port.path} value={port.path}>
                {port.manufacturer ?? ''}
              </option>
            ))}
          </datalist>
        </label>
        {connected ? (
          <button
            type="button"
            onClick={() => void act('disconnect', async () => setProbe(await lab.disconnectProbe()))}
            disabled={running}
          >
            Disconnect
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            disabled={!path || busy !== null}
            onClick={() => void act('connect', async () => setProbe(await lab.connectProbe(path)))}
          >
            {busy === 'connect' ? 'Connecting…' : 'Connect'}
          </button>
        )}
        <span
          className={`connection ${connected ? 'open' : probe.state === 'reconnecting' ? 'connecting' : 'closed'}`}
          data-testid="probe-state"
        >
          <span className="led" aria-hidden="true" /> {probe.state}: {probe.detail}
        </span>
        <button
          type="button"
          disabled={!connected || running || busy !== null}
          onClick={() => void act('calibrate', async () => setFit(await lab.calibrateProbe()))}
        >
          {busy === 'calibrate' ? 'Calibrating…' : 'Calibrate'}
        </button>
        <label className={fieldProblem('edges') ? 'invalid' : ''}>
          edges
          <input
            className="narrow"
            value={String(options['edges'] ?? '')}
            aria-invalid={fieldProblem('edges') ? true : undefined}
            onChange={(event) => setOptions({ ...options, edges: Number(event.target.value) || event.target.value })}
          />
        </label>
        <label>
          rate
          <input
            className="narrow"
            value={String(options['rateHz'] ?? '')}
            aria-invalid={fieldProblem('rateHz') ? true : undefined}
            onChange={(event) => setOptions({ ...options, rateHz: Number(event.target.value) || event.target.value })}
          />
          Hz
        </label>
        {running ? (
          <button type="button" className="danger" onClick={() => void act('stop', () => lab.stopLoopback())}>
            Stop
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            disabled={!connected || problems.size > 0 || busy !== null}
            onClick={() =>
              void act('run', async () => {
                const parsed = LoopbackOptionsSchema.parse(options);
                edges.current = [];
                version.current++;
                setOutcome(null);
                setRunning(true);
                await lab.startLoopback(parsed);
              })
            }
          >
            Run
          </button>
        )}
      </div>
      {problems.size > 0 && (
        <div className="field-problem" role="alert">
          {[...problems].map(([key, list]) => `${key}: ${list.join('; ')}`).join(' · ')}
        </div>
      )}

      {fit && (
        <div className="numerals loopback-fit" aria-label="clock fit">
          <div className="numeral">
            <div className="numeral-label">clock offset</div>
            <div className="numeral-value small">{us(Math.abs(fit.offsetUs))}</div>
          </div>
          <div className="numeral">
            <div className="numeral-label">drift</div>
            <div className="numeral-value small">
              {fit.driftPpm.toFixed(1)}
              <span className="numeral-unit">ppm</span>
            </div>
          </div>
          <div className="numeral">
            <div className="numeral-label">fit residual</div>
            <div className="numeral-value small">{us(fit.residualUs)}</div>
          </div>
          <div className="numeral">
            <div className="numeral-label">min round trip</div>
            <div className="numeral-value small">{us(fit.minRoundTripUs)}</div>
          </div>
          <div className="numeral">
            <div className="numeral-label">samples kept</div>
            <div className="numeral-value small">
              {fit.kept}/{fit.samples}
            </div>
          </div>
        </div>
      )}

      {(progress || running) && (
        <div
          className="progress"
          role="progressbar"
          aria-label="loop-back progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress ? Math.round((progress.sent / Math.max(1, progress.total)) * 100) : 0}
        >
          <div
            className="progress-fill"
            style={{ width: `${progress ? (progress.sent / Math.max(1, progress.total)) * 100 : 0}%` }}
          />
          <div className="progress-text">
            {progress
              ? `${progress.phase} · ${progress.sent}/${progress.total} sent · ${progress.matched} matched · ${progress.misses} missed · ${progress.spurious} spurious`
              : 'starting…'}
          </div>
        </div>
      )}

      <EdgeTrace edges={edges} version={version} />

      {outcome && !outcome.ok && <div className="notice bad">The loop-back run failed: {outcome.error}</div>}
      {result && (
        <div className="summary-grid loopback-result">
          <table className="data-table">
            <caption>Latency</caption>
            <thead>
              <tr>
                <th />
                <th>p50</th>
                <th>p95</th>
                <th>p99</th>
                <th>max</th>
                <th>jitter</th>
                <th>edges</th>
              </tr>
            </thead>
            <tbody>
              {[
                ['clock model', result.latency],
                ['host arrival', result.arrivalLatency],
              ].map(([label, stats]) =>
                stats && typeof stats === 'object' ? (
                  <tr key={String(label)}>
                    <td>{String(label)}</td>
                    <td className="numeric">{us(stats.p50Us)}</td>
                    <td className="numeric">{us(stats.p95Us)}</td>
                    <td className="numeric">{us(stats.p99Us)}</td>
                    <td className="numeric">{us(stats.maxUs)}</td>
                    <td className="numeric">{us(stats.jitterUs)}</td>
                    <td className="numeric">{stats.count}</td>
                  </tr>
                ) : null,
              )}
            </tbody>
          </table>
          <table className="data-table">
            <caption>Edges</caption>
            <tbody>
              <tr>
                <td>sent / matched</td>
                <td className="numeric">
                  {result.sent} / {result.matched}
                </td>
              </tr>
              <tr className={result.misses ? 'bad' : ''}>
                <td>missed</td>
                <td className="numeric">{result.misses}</td>
              </tr>
              <tr className={result.spurious ? 'bad' : ''}>
                <td>spurious</td>
                <td className="numeric">{result.spurious}</td>
              </tr>
              <tr>
                <td>clock residual</td>
                <td className="numeric">{us(result.clock?.residualUs)}</td>
              </tr>
            </tbody>
          </table>
          {histogram && histogram.counts.length > 0 && (
            <figure className="histogram" aria-label="latency histogram">
              <figcaption className="label">
                latency histogram (clock model), {us(histogram.boundsUs[0])} –{' '}
                {us(histogram.boundsUs[histogram.boundsUs.length - 1])}
              </figcaption>
              <div className="histogram-bars">
                {histogram.counts.map((count, index) => (
                  <span
                    key={index}
                    className="histogram-bar"
                    style={{ height: `${(count / tallest) * 100}%` }}
                    title={`${us(histogram.boundsUs[index])}: ${count}`}
                  />
                ))}
              </div>
            </figure>
          )}
          <p className="dim loopback-note">{result.arrivalErrorNote}</p>
        </div>
      )}
    </div>
  );
}

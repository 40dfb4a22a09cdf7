import { Term } from '../components/Term';
import { LoopbackResults } from '../components/LoopbackResults';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { LoopbackOutcome, ProbeState } from '../../../shared/api';
import {
  LoopbackOptionsSchema,
  type ClockFit,
  type LoopbackEdge,
  type LoopbackProgress,
  DEFAULT_LATENCY_TARGET_MS,
  type ProbePort,
} from '../../../shared/loopback';
import { problemsByPath } from '../components/DocumentForm';
import { messageOf, useSession } from '../session';
import {
  ClockFitExplained,
  LatencyHistogramChart,
  LoopbackVerdict,
  TriggeredView,
  formatUs,
  latencyTimerWords,
} from './loopback-views';
import './loopback.css';

/** Edges kept for the triggered view: the newest ones only, so a long run stays light. */
const KEPT_EDGES = 2000;

const us = formatUs;

/** What a listed port is, in a few words. */
function describePort(port: ProbePort): string {
  if (port.probe) {
    return `probe: firmware ${port.probe.firmware}, ${port.probe.adcBits}-bit ADC${port.probe.link ? `, ${port.probe.link === 'uart' ? 'UART behind a USB bridge' : 'native USB'}` : ''}${port.emulator ? ` (cvlab probe-emulator, pid ${port.emulator.pid})` : ''}`;
  }
  if (port.emulator) return `cvlab probe-emulator (pid ${port.emulator.pid}), did not answer HELLO`;
  return `${port.manufacturer ?? 'serial port'}: no probe answered`;
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
        if (value.ok) {
          // The final edges carry the final clock mapping: the view shows those.
          edges.current = value.result.edges.slice(-KEPT_EDGES);
          version.current++;
          if (value.result.clock) setFit(value.result.clock);
        }
      }),
    ];
    return () => subscriptions.forEach((unsubscribe) => unsubscribe());
  }, [lab]);

  // A console that opens (or reloads) starts from what the engine holds: the connection and the last result.
  useEffect(() => {
    let cancelled = false;
    lab.loopbackState().then(
      (state) => {
        if (cancelled) return;
        setProbe(state.probe);
        if (state.probe.path) setPath((current) => current || (state.probe.path ?? ''));
        setRunning(state.running);
        if (state.last) {
          setOutcome(state.last);
          if (state.last.ok) {
            edges.current = state.last.result.edges.slice(-KEPT_EDGES);
            version.current++;
            if (state.last.result.clock) setFit(state.last.result.clock);
          }
        }
      },
      (error: unknown) => !cancelled && setMessage(messageOf(error)),
    );
    return () => {
      cancelled = true;
    };
  }, [lab]);

  // Set once the port list came back: it may fill in the port field.
  const [portsListed, setPortsListed] = useState(false);
  const listPorts = useCallback(() => {
    lab.listProbePorts().then(
      (list) => {
        setPorts(list);
        // Only a probe that answered, an emulator or the rig's own port: never a guess that waits for nothing.
        const answered = list.find((port) => port.probe) ?? list.find((port) => port.emulator);
        setPath((current) => current || rig?.rig.serial?.path || answered?.path || '');
        setPortsListed(true);
      },
      (error: unknown) => {
        setMessage(messageOf(error));
        setPortsListed(true);
      },
    );
  }, [lab, rig]);

  useEffect(() => {
    if (page === 'loopback') listPorts();
  }, [page, listPorts]);

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
  const targetMs = result?.target?.latencyMs ?? rig?.rig.serial?.latencyTargetMs ?? DEFAULT_LATENCY_TARGET_MS;
  const timerWarning = result?.link ? latencyTimerWords(result.port, result.link.latencyTimerMs) : null;
  const selectedPort = ports.find((port) => port.path === path);
  const selectedTimerWarning = selectedPort ? latencyTimerWords(selectedPort.path, selectedPort.latencyTimerMs) : null;
  const fieldProblem = (name: string): string | undefined => problems.get(name)?.join('; ');

  return (
    <div className="page page-loopback">
      <header className="run-bar">
        <div className="run-title">
          <h2>Loop-back</h2>
          <div className="dim">
            OSC out → converter → CV → probe → serial back. Rig {rig?.rig.name ?? '…'}; the test variable drives the
            square wave; judged against the {targetMs} ms target (p99).
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
            placeholder="pick a port below"
          />
          <datalist id="probe-ports">
            {ports.map((port) => (
              <option key={port.path} value={port.path}>
                {describePort(port)}
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

      {!connected && (
        <section className="loopback-ports" aria-label="probe ports">
          <header>
            <span>
              {portsListed
                ? ports.some((port) => port.probe)
                  ? 'Probes found'
                  : 'No probe found'
                : 'Looking for probes…'}
            </span>
            <button
              type="button"
              onClick={() => {
                setPortsListed(false);
                listPorts();
              }}
              disabled={!portsListed}
            >
              Look again
            </button>
          </header>
          {ports.length > 0 && (
            <ul>
              {ports.map((port) => (
                <li key={port.path} className={port.probe ? 'probe' : ''}>
                  <button type="button" className="link-button" onClick={() => setPath(port.path)}>
                    {port.path}
                  </button>{' '}
                  <span className="dim">{describePort(port)}</span>
                  {latencyTimerWords(port.path, port.latencyTimerMs) && (
                    <span className="loopback-warning inline">
                      {' '}
                      latency timer {port.latencyTimerMs} ms: set it to 1
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
          {portsListed && !ports.some((port) => port.probe) && (
            <p className="dim">
              No hardware? Start the emulator in a terminal: <code>cvlab probe-emulator</code> (add{' '}
              <code>--baud 115200</code> to play a board behind a USB-UART bridge). It listens for the rig&apos;s OSC
              and appears here; then press Look again. A real probe: flash resources/firmware/loopback-probe and plug it
              in.
            </p>
          )}
        </section>
      )}
      {selectedTimerWarning && !result && <div className="loopback-warning">{selectedTimerWarning}</div>}

      {fit && !result && (
        <p className="dim" data-testid="calibration-caption">
          Calibration: a quick clock fit before the run, to check the link. A run fits the clock again from every PING it
          makes; that final fit, shown with the run&apos;s result, is the one its latencies use and replaces this one.
        </p>
      )}
      {fit && !result && (
        <div className="numerals loopback-fit" aria-label="clock fit">
          <div className="numeral">
            <div className="numeral-label">
              <Term name="clock offset" />
            </div>
            <div className="numeral-value small">{us(Math.abs(fit.offsetUs))}</div>
          </div>
          <div className="numeral">
            <div className="numeral-label">
              <Term name="drift" />
            </div>
            <div className="numeral-value small">
              {fit.driftPpm.toFixed(1)}
              <span className="numeral-unit">ppm</span>
            </div>
          </div>
          <div className="numeral">
            <div className="numeral-label">
              <Term name="fit residual" />
            </div>
            <div className="numeral-value small">{us(fit.residualUs)}</div>
          </div>
          <div className="numeral">
            <div className="numeral-label">
              <Term name="min round trip" />
            </div>
            <div className="numeral-value small">{us(fit.minRoundTripUs)}</div>
          </div>
          <div className="numeral">
            <div className="numeral-label">
              <Term name="samples kept" />
            </div>
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

      {outcome && !outcome.ok && <div className="notice bad">The loop-back run failed: {outcome.error}</div>}
      {result && <LoopbackVerdict result={result} />}

      <div className="loopback-pictures">
        {(running || result) && <TriggeredView edges={edges} version={version} targetMs={targetMs} />}
        {histogram && histogram.counts.length > 0 && (
          <section className="scope-panel">
            <LatencyHistogramChart histogram={histogram} targetMs={targetMs} />
          </section>
        )}
      </div>
      {result && result.clock && (
        <ClockFitExplained fit={result.clock} link={result.link ?? null} latencyTimerWarning={timerWarning} />
      )}
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
              <tr className={result.lines.garbage + result.lines.partial + result.lines.oversized ? 'bad' : ''}>
                <td>serial lines not protocol</td>
                <td className="numeric">
                  {(result.lines.garbage + result.lines.partial + result.lines.oversized).toLocaleString()}
                </td>
              </tr>
            </tbody>
          </table>
          <p className="dim loopback-note">{result.arrivalErrorNote}</p>
        </div>
      )}
      {page === 'loopback' && (
        <LoopbackResults lab={lab} openedRunId={null} refreshKey={null} expectNew={outcome} onAttached={() => undefined} />
      )}
    </div>
  );
}

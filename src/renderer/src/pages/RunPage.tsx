import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ScenarioSchema } from '../../../shared/scenario';
import type { FrameClock } from '../scope/frame-clock';
import { LATENCY_STAGES, OUTCOME_SERIES, type FrameStore } from '../scope/frame-store';
import { ScopeChart, formatValue, type TraceSpec } from '../scope/ScopeChart';
import { createScopeView, formatTimebase, TIMEBASES_SECONDS, type ScopeView } from '../scope/scope-view';
import { useLiveReadout } from '../scope/use-live-readout';
import { useRunProgress, useSession } from '../session';
import { RunSummaryPanel } from './RunSummaryPanel';

/** Side panels follow at 4 updates a second; the latency trace follows every delivery. */
const SIDE_PANEL_REDRAW_MS = 250;

/** The promise to the audience: a chat message moves the picture in under 10 ms. */
const TARGET_MS = 10;

const E2E_TRACES: TraceSpec[] = [
  { key: 'e2eP50', label: 'p50', color: '#4cc9f0', width: 1.5 },
  { key: 'e2eP99', label: 'p99', color: '#ffc247', width: 2.5 },
  { key: 'e2eMax', label: 'max', color: '#ff5fa2', width: 1, dash: [4, 3] },
];
const STAGE_COLORS = ['#9be564', '#4cc9f0', '#c77dff', '#ffc247', '#ff8c42', '#f5f7fa'];
const STAGE_TRACES: TraceSpec[] = LATENCY_STAGES.map((stage, index) => ({
  key: `stage:${stage}`,
  label: stage,
  color: STAGE_COLORS[index] ?? '#fff',
}));
const THROUGHPUT_TRACES: TraceSpec[] = [{ key: 'throughput', label: 'completed', color: '#9be564', width: 2 }];
const OUTCOME_COLORS: Record<string, string> = {
  accepted: '#9be564',
  failed: '#ff3b3b',
  rate_limited_user: '#ffc247',
  rate_limited_global: '#ff8c42',
  cooldown: '#c77dff',
};
// Grammar rejections are rare and steady; they start hidden (click the legend to show one).
const OUTCOME_TRACES: TraceSpec[] = OUTCOME_SERIES.map((outcome) => ({
  key: `outcome:${outcome}`,
  label: outcome.replace(/_/g, ' '),
  color: OUTCOME_COLORS[outcome] ?? '#8a99aa',
  width: outcome === 'accepted' ? 2 : 1.25,
  hidden: !(outcome in OUTCOME_COLORS),
}));
const LOOP_TRACES: TraceSpec[] = [
  { key: 'loopP99', label: 'p99', color: '#ffc247', width: 2 },
  { key: 'loopMax', label: 'max', color: '#ff5fa2', width: 1, dash: [4, 3] },
];
const CPU_TRACES: TraceSpec[] = [{ key: 'cpu', label: 'cpu', color: '#4cc9f0', width: 2 }];
const MEMORY_TRACES: TraceSpec[] = [
  { key: 'heap', label: 'heap', color: '#c77dff', width: 2 },
  { key: 'rss', label: 'rss', color: '#6c7a89', width: 1 },
];

/** The smaller scopes under the main one, left to right. */
const SIDE_PANELS: readonly { title: string; unit: string; traces: TraceSpec[] }[] = [
  { title: 'Stage p99', unit: 'ms', traces: STAGE_TRACES },
  { title: 'Throughput', unit: '/s', traces: THROUGHPUT_TRACES },
  { title: 'Outcomes per interval', unit: '', traces: OUTCOME_TRACES },
  { title: 'Event-loop delay', unit: 'ms', traces: LOOP_TRACES },
  { title: 'CPU (100 % = one core)', unit: '%', traces: CPU_TRACES },
  { title: 'Memory', unit: 'MiB', traces: MEMORY_TRACES },
];

/** The smallest timebase that shows a whole run of `plannedMs` (10 min at most). */
function fitTimebase(plannedMs: number | undefined): number {
  if (!plannedMs) return 30;
  return (
    TIMEBASES_SECONDS.find((seconds) => seconds * 1000 >= plannedMs) ??
    TIMEBASES_SECONDS[TIMEBASES_SECONDS.length - 1] ??
    600
  );
}

/** The value of a series at the frame nearest to `seconds` (a lookup for the cursor readout). */
function valueAt(store: FrameStore, key: 'e2eP99', seconds: number): number {
  const time = store.ring('time').view();
  const values = store.ring(key).view();
  let best = -1;
  let bestDistance = Infinity;
  for (let index = 0; index < time.length; index++) {
    const distance = Math.abs((time[index] ?? 0) - seconds);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  }
  return best < 0 ? Number.NaN : (values[best] ?? Number.NaN);
}

function Numeral({
  store,
  clock,
  label,
  series,
  unit,
  paused,
  accent,
}: {
  store: FrameStore;
  clock: FrameClock;
  label: string;
  series: 'e2eP50' | 'e2eP99' | 'e2eMax' | 'throughput' | 'cpu' | 'heap';
  unit: string;
  paused: boolean;
  accent?: string;
}): React.JSX.Element {
  const ref = useLiveReadout<HTMLSpanElement>(store, clock, series, paused);
  return (
    <div className="numeral">
      <div className="numeral-label">{label}</div>
      <div className="numeral-value" style={accent ? { color: accent } : undefined}>
        <span ref={ref} data-testid={`numeral-${series}`}>
          –
        </span>
        <span className="numeral-unit">{unit}</span>
      </div>
    </div>
  );
}

/** Run: start and stop, progress, the live scope, and the summary at the end. */
export function RunPage(): React.JSX.Element {
  const { store, clock, run, summary, startRun, stopRun, runError, scenario, rig, page, starting } = useSession();
  const progress = useRunProgress();
  // The scope's view is a plain object the charts' animation loops read; it never re-renders anything.
  const viewRef = useRef<ScopeView>(createScopeView());
  // 'fit': the smallest timebase that holds the whole planned run.
  const [timebase, setTimebase] = useState<number | 'fit'>('fit');
  const plannedMs = run?.plannedDurationMs ?? summary?.run.plannedDurationMs;
  const windowSeconds = timebase === 'fit' ? fitTimebase(plannedMs) : timebase;
  const [paused, setPaused] = useState(false);
  const [fixedMax, setFixedMax] = useState<number | null>(null);
  const [fixedText, setFixedText] = useState('20');
  const [cursors, setCursors] = useState<[number | null, number | null]>([null, null]);
  const [stopping, setStopping] = useState(false);
  const scenarioValid = useMemo(() => ScenarioSchema.safeParse(scenario.draft).success, [scenario.draft]);

  // The charts read the view in their animation loop; React state only mirrors the choices for the controls.
  useEffect(() => {
    const view = viewRef.current;
    view.windowSeconds = windowSeconds;
    view.paused = paused;
    view.fixedMaxMs = fixedMax;
    view.cursors = cursors;
    view.revision++;
    clock.request();
  }, [windowSeconds, paused, fixedMax, cursors, clock, page]);

  const placeCursor = useCallback((seconds: number, which: 0 | 1, exactly = false) => {
    setCursors((current) => {
      const next: [number | null, number | null] = [...current];
      // A plain click fills A, then B; shift-click (or the b key) always moves B.
      const slot = exactly ? which : which === 1 || (current[0] !== null && current[1] === null) ? 1 : 0;
      next[slot] = seconds;
      return next;
    });
  }, []);

  const stepTimebase = useCallback(
    (direction: 1 | -1) => {
      const index = TIMEBASES_SECONDS.indexOf(windowSeconds as (typeof TIMEBASES_SECONDS)[number]);
      setTimebase(
        TIMEBASES_SECONDS[Math.min(TIMEBASES_SECONDS.length - 1, Math.max(0, index + direction))] ?? windowSeconds,
      );
    },
    [windowSeconds],
  );

  const stop = useCallback(async () => {
    setStopping(true);
    await stopRun();
    setStopping(false);
  }, [stopRun]);

  useEffect(() => {
    if (page !== 'run') return;
    const onKey = (event: KeyboardEvent): void => {
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA'))
        return;
      if (event.ctrlKey && event.key === 'Enter') {
        if (scenarioValid) void startRun();
      } else if (event.ctrlKey && event.key === '.') void stop();
      else if (event.key === ' ' && !event.ctrlKey && target?.tagName !== 'BUTTON') setPaused((value) => !value);
      else if (event.key === '[') stepTimebase(-1);
      else if (event.key === ']') stepTimebase(1);
      else if (event.key === 'c' && !event.ctrlKey) setCursors([null, null]);
      else if ((event.key === 'a' || event.key === 'b') && !event.ctrlKey) {
        // From the keyboard a cursor lands on the newest frame on screen.
        const latest = store.ring('time').last();
        if (!Number.isNaN(latest)) placeCursor(latest, event.key === 'a' ? 0 : 1, true);
      } else if (event.key === 'y' && !event.ctrlKey)
        setFixedMax((value) => (value === null ? Number(fixedText) || 20 : null));
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [page, startRun, stop, stepTimebase, fixedText, scenarioValid, store, placeCursor]);

  const [a, b] = cursors;
  const deltaT = a !== null && b !== null ? b - a : null;
  const deltaLatency = a !== null && b !== null ? valueAt(store, 'e2eP99', b) - valueAt(store, 'e2eP99', a) : null;
  const scenarioName = String((scenario.draft as { name?: unknown } | null)?.name ?? '');
  const fraction =
    progress && run && progress.runId === run.id ? Math.min(1, progress.fraction) : run ? 0 : summary ? 1 : 0;

  return (
    <div className="page page-run">
      <header className="run-bar">
        <div className="run-title">
          <h2>{run ? run.scenario : summary ? summary.run.scenario : scenarioName || 'no scenario'}</h2>
          <div className="dim">
            rig {run?.rig ?? rig?.rig.name ?? '…'} · seed{' '}
            <code data-testid="run-seed">
              {run
                ? run.seed
                : summary
                  ? summary.run.seed
                  : ((scenario.draft as { seed?: number } | null)?.seed ?? 'random')}
            </code>
            {run && ` · ${run.store} store · ${run.plannedMessages.toLocaleString()} messages planned`}
          </div>
        </div>
        <div className="run-actions">
          {run ? (
            <button
              type="button"
              className="danger"
              onClick={() => void stop()}
              disabled={stopping}
              title="Stop the run (Ctrl+.)"
            >
              {stopping ? 'Stopping…' : 'Stop'}
            </button>
          ) : (
            <button
              type="button"
              className="primary"
              onClick={() => void startRun()}
              disabled={!scenarioValid || !rig || starting}
              title={
                scenarioValid ? 'Start (Ctrl+Enter)' : 'The scenario has invalid fields: fix them on the Scenarios page'
              }
            >
              {starting ? 'Starting…' : 'Start'}
            </button>
          )}
          <button
            type="button"
            onClick={() => setPaused(!paused)}
            aria-pressed={paused}
            title="Freeze the traces; the run goes on (Space)"
          >
            {paused ? 'Resume' : 'Pause'}
          </button>
        </div>
      </header>
      {runError && <div className="notice bad">{runError}</div>}

      <div
        className="progress"
        role="progressbar"
        aria-label="run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
      >
        <div className="progress-fill" style={{ width: `${fraction * 100}%` }} />
        <div className="progress-text">
          {progress && run && progress.runId === run.id
            ? `${(progress.elapsedMs / 1000).toFixed(1)} s / ${(progress.plannedDurationMs / 1000).toFixed(1)} s · ${progress.sent.toLocaleString()} sent · ${progress.completed.toLocaleString()} done · ${progress.inFlight} in flight · ${progress.late} late`
            : run
              ? 'starting…'
              : summary
                ? `finished: ${(summary.elapsedMs / 1000).toFixed(1)} s`
                : 'idle'}
        </div>
      </div>

      {summary && !run && <RunSummaryPanel summary={summary} />}

      <div className="numerals">
        <Numeral
          store={store}
          clock={clock}
          label="e2e p50"
          series="e2eP50"
          unit="ms"
          paused={paused}
          accent="#4cc9f0"
        />
        <Numeral
          store={store}
          clock={clock}
          label="e2e p99"
          series="e2eP99"
          unit="ms"
          paused={paused}
          accent="#ffc247"
        />
        <Numeral
          store={store}
          clock={clock}
          label="e2e max"
          series="e2eMax"
          unit="ms"
          paused={paused}
          accent="#ff5fa2"
        />
        <div className="numeral">
          <div className="numeral-label">run p99</div>
          <div className="numeral-value">
            <span data-testid="run-p99">{progress && run ? formatValue(progress.e2eP99 / 1e6) : '–'}</span>
            <span className="numeral-unit">ms</span>
          </div>
        </div>
        <Numeral store={store} clock={clock} label="throughput" series="throughput" unit="/s" paused={paused} />
        <Numeral store={store} clock={clock} label="cpu" series="cpu" unit="%" paused={paused} />
        <Numeral store={store} clock={clock} label="heap" series="heap" unit="MiB" paused={paused} />
      </div>

      <div className="scope-controls" role="toolbar" aria-label="scope controls">
        <label>
          timebase
          <select
            value={String(timebase)}
            onChange={(event) => setTimebase(event.target.value === 'fit' ? 'fit' : Number(event.target.value))}
            aria-label="timebase per screen"
          >
            <option value="fit">fit run ({formatTimebase(fitTimebase(plannedMs))})</option>
            {TIMEBASES_SECONDS.map((seconds) => (
              <option key={seconds} value={seconds}>
                {formatTimebase(seconds)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={fixedMax === null}
            onChange={(event) => setFixedMax(event.target.checked ? null : Number(fixedText) || 20)}
          />
          auto y
        </label>
        <label>
          fixed top
          <input
            className="narrow"
            inputMode="decimal"
            value={fixedText}
            aria-label="fixed latency scale top in ms"
            onChange={(event) => {
              setFixedText(event.target.value);
              const value = Number(event.target.value);
              if (fixedMax !== null && value > 0) setFixedMax(value);
            }}
          />
          ms
        </label>
        <div className={`cursor-readout ${a !== null ? 'active' : ''}`} aria-live="polite" data-testid="cursor-readout">
          <span className="cursor-a">A {a !== null ? `${a.toFixed(2)} s` : '–'}</span>
          <span className="cursor-b">B {b !== null ? `${b.toFixed(2)} s` : '–'}</span>
          <span>Δt {deltaT !== null ? `${deltaT.toFixed(2)} s` : '–'}</span>
          <span>
            Δp99{' '}
            {deltaLatency !== null && !Number.isNaN(deltaLatency)
              ? `${deltaLatency >= 0 ? '+' : ''}${formatValue(deltaLatency)} ms`
              : '–'}
          </span>
          <button
            type="button"
            className="button-small"
            onClick={() => setCursors([null, null])}
            disabled={a === null && b === null}
          >
            clear
          </button>
        </div>
        {paused && <span className="badge bad">FROZEN — run continues</span>}
      </div>

      <div className="scope" data-testid="scope">
        <ScopeChart
          className="scope-main"
          store={store}
          clock={clock}
          view={viewRef}
          title="End-to-end latency (due → kernel)"
          unit="ms"
          traces={E2E_TRACES}
          height={300}
          targetLine={TARGET_MS}
          followsFixedScale
          onPlaceCursor={placeCursor}
        />
        <div className="scope-grid">
          {SIDE_PANELS.map((panel) => (
            <ScopeChart
              key={panel.title}
              store={store}
              clock={clock}
              view={viewRef}
              title={panel.title}
              unit={panel.unit}
              traces={panel.traces}
              height={150}
              minRedrawMs={SIDE_PANEL_REDRAW_MS}
              onPlaceCursor={placeCursor}
            />
          ))}
        </div>
      </div>

      <footer className="key-help" aria-label="keyboard">
        <kbd>Ctrl</kbd>+<kbd>Enter</kbd> start · <kbd>Ctrl</kbd>+<kbd>.</kbd> stop · <kbd>Space</kbd> pause ·{' '}
        <kbd>[</kbd> <kbd>]</kbd> timebase · <kbd>y</kbd> auto/fixed y · click / shift-click: cursor A / B ·{' '}
        <kbd>c</kbd> clear cursors
      </footer>
    </div>
  );
}

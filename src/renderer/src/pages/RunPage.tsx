import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ScenarioSchema } from '../../../shared/scenario';
import type { FrameClock } from '../scope/frame-clock';
import { LATENCY_STAGES, OUTCOME_SERIES, type FrameStore } from '../scope/frame-store';
import { ScopeChart, type TraceSpec } from '../scope/ScopeChart';
import { formatCount, formatNsAsMs, formatValue } from '../format/format';
import { StageGlossary } from '../components/StageGlossary';
import { E2E_COLORS, OUTCOME_STYLES, STAGE_COLORS } from '../scope/palette';
import { createScopeView, formatTimebase, TIMEBASES_SECONDS, type ScopeView } from '../scope/scope-view';
import { useLiveReadout } from '../scope/use-live-readout';
import { runnableScenario, useRunProgress, useSession } from '../session';
import { RunSummaryPanel } from './RunSummaryPanel';
import { BotStatusPanel } from './BotStatusPanel';
import { ProbeOffer } from './ProbeOffer';
import { RunKindLivePanel } from './RunKindLivePanel';
import { useBotCommands } from '../components/TargetPanel';
import { targetMode } from '../bot-target';
import { Term } from '../components/Term';
import { ScenarioFactsLine } from '../components/ScenarioFactsLine';
import { TERM_GLOSSARY } from '../glossary';
import { plannedMsOfDraft } from '../scope/scope-format';

/** Side panels follow at 4 updates a second; the latency trace follows every delivery. */
const SIDE_PANEL_REDRAW_MS = 250;

/** The promise to the audience: a chat message moves the picture in under 10 ms. */
const TARGET_MS = 10;

const E2E_TRACES: TraceSpec[] = [
  { key: 'e2eP50', label: 'p50', color: E2E_COLORS.p50, width: 1.5 },
  { key: 'e2eP99', label: 'p99', color: E2E_COLORS.p99, width: 2.5 },
  // Thicker than before and dashed, drawn last: where max meets p99 it still shows on top.
  { key: 'e2eMax', label: 'max', color: E2E_COLORS.max, width: 1.5, dash: [4, 3] },
];
const STAGE_TRACES: TraceSpec[] = LATENCY_STAGES.map((stage, index) => ({
  key: `stage:${stage}`,
  label: stage,
  color: STAGE_COLORS[index] ?? '#fff',
  ...(stage === 'tap' ? { dash: [5, 3] } : {}),
}));
const THROUGHPUT_TRACES: TraceSpec[] = [{ key: 'throughput', label: 'completed', color: '#009e73', width: 2 }];
// A replay draws its recorded shape (messages due per interval at its speed) under what it did.
const REPLAY_THROUGHPUT_TRACES: TraceSpec[] = [...THROUGHPUT_TRACES, { key: 'recorded', label: 'recorded', color: '#bab0ac', width: 1, dash: [4, 3] }];
// Grammar rejections are rare and steady; they start hidden (click the legend to show one).
const SHOWN_OUTCOMES = new Set(['accepted', 'failed', 'rate_limited_user', 'rate_limited_global', 'cooldown']);
const OUTCOME_TRACES: TraceSpec[] = OUTCOME_SERIES.map((outcome) => ({
  key: `outcome:${outcome}`,
  label: outcome,
  color: OUTCOME_STYLES[outcome]?.color ?? '#fff',
  width: outcome === 'accepted' ? 2 : 1.5,
  ...(OUTCOME_STYLES[outcome]?.dash ? { dash: OUTCOME_STYLES[outcome].dash } : {}),
  hidden: !SHOWN_OUTCOMES.has(outcome),
}));
const LOOP_TRACES: TraceSpec[] = [
  { key: 'loopP99', label: 'p99', color: E2E_COLORS.p99, width: 2 },
  { key: 'loopMax', label: 'max', color: E2E_COLORS.max, width: 1, dash: [4, 3] },
];
// A black-box bot's own CPU and RSS are drawn beside cvlab's (they have no points otherwise).
const CPU_TRACES: TraceSpec[] = [
  { key: 'cpu', label: 'cpu', color: '#56b4e9', width: 2 },
  { key: 'botCpu', label: 'bot cpu', color: '#e69f00', width: 2 },
];
const MEMORY_TRACES: TraceSpec[] = [
  { key: 'heap', label: 'heap', color: '#cc79a7', width: 2 },
  { key: 'rss', label: 'rss', color: '#bab0ac', width: 1, dash: [4, 3] },
  { key: 'botRss', label: 'bot rss', color: '#e69f00', width: 1.5 },
];

/** The smaller scopes under the main one, left to right. */
const SIDE_PANELS: readonly { title: string; unit: string; traces: TraceSpec[] }[] = [
  { title: 'Stage p99', unit: 'ms', traces: STAGE_TRACES },
  { title: 'Throughput', unit: '/s', traces: THROUGHPUT_TRACES },
  { title: 'Outcomes per interval', unit: 'msg', traces: OUTCOME_TRACES },
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

type LiveSeries = 'e2eP50' | 'e2eP99' | 'e2eMax' | 'throughput' | 'cpu' | 'heap';

/** A big figure: the newest interval while a run goes on, the whole run's figure once it ended. */
function Numeral({
  store,
  clock,
  label,
  series,
  unit,
  paused,
  accent,
  whole,
}: {
  store: FrameStore;
  clock: FrameClock;
  label: string;
  series: LiveSeries;
  unit: string;
  paused: boolean;
  accent?: string;
  /** The whole run's figure and its label, after a run; undefined while live. */
  whole?: { label: string; text: string };
}): React.JSX.Element {
  return (
    <div className="numeral">
      <div className="numeral-label">{whole ? whole.label : label}</div>
      <div className="numeral-value" style={accent ? { color: accent } : undefined}>
        {whole ? (
          <span key="whole" data-testid={`numeral-${series}`}>
            {whole.text}
          </span>
        ) : (
          <LiveFigure key="live" store={store} clock={clock} series={series} paused={paused} />
        )}
        <span className="numeral-unit">{unit}</span>
      </div>
    </div>
  );
}

function LiveFigure(props: {
  store: FrameStore;
  clock: FrameClock;
  series: LiveSeries;
  paused: boolean;
}): React.JSX.Element {
  const ref = useLiveReadout<HTMLSpanElement>(props.store, props.clock, props.series, props.paused);
  return (
    <span ref={ref} data-testid={`numeral-${props.series}`}>
      –
    </span>
  );
}

/** Run: start and stop, progress, the live scope, and the summary at the end. */
export function RunPage(): React.JSX.Element {
  const {
    store,
    clock,
    run,
    summary,
    startRun,
    stopRun,
    runError,
    scenario,
    rig,
    page,
    starting,
    awaitingBot,
    connection,
    navigate,
  } = useSession();
  const progress = useRunProgress();
  // The scope's view is a plain object the charts' animation loops read; it never re-renders anything.
  const viewRef = useRef<ScopeView>(createScopeView());
  // 'fit': the smallest timebase that holds the whole planned run.
  const [timebase, setTimebase] = useState<number | 'fit'>('fit');
  // The timebase fits the run on the scope: the one going on, else the last one shown, else the one about to start.
  const plannedMs = run ? run.plannedDurationMs : summary ? summary.run.plannedDurationMs : plannedMsOfDraft(scenario.draft);
  const fitWhat = run ? 'fit run' : summary ? 'fit last run' : 'fit next run';
  const windowSeconds = timebase === 'fit' ? fitTimebase(plannedMs) : timebase;
  // A pause belongs to one run: once it ends nothing moves, and the next run starts live.
  const [pausedRunId, setPausedRunId] = useState<string | null>(null);
  const paused = run !== null && pausedRunId === run.id;
  const togglePause = useCallback(() => setPausedRunId((id) => (run && id !== run.id ? run.id : null)), [run]);
  const [fixedMax, setFixedMax] = useState<number | null>(null);
  const [fixedText, setFixedText] = useState('20');
  const [cursors, setCursors] = useState<[number | null, number | null]>([null, null]);
  // Keyboard focus follows Start to the run's own control (the Start button it came from is gone):
  // Pause, not Stop, so that Space (the pause key) on the focused button can never end the run.
  const pauseButton = useRef<HTMLButtonElement>(null);
  const focusedForRunId = useRef<string | null>(null);
  const runId = run?.id;
  const runPageShown = page === 'run';
  useEffect(() => {
    // Once per run, once this page is shown (a control inside a hidden page cannot take focus; on a
    // busy machine the page may show a few frames after the run starts), unless the technician
    // already works on this page.
    if (!runId || !runPageShown || focusedForRunId.current === runId) return;
    const frame = requestAnimationFrame(() => {
      focusedForRunId.current = runId;
      const active = document.activeElement;
      if (!active || active === document.body || !active.closest('[data-page=run]')) pauseButton.current?.focus();
    });
    return () => cancelAnimationFrame(frame);
  }, [runId, runPageShown]);
  // Cursors belong to one run: a new run starts without the last one's A and B.
  const [cursorsRunId, setCursorsRunId] = useState<string | null>(null);
  if (run && run.id !== cursorsRunId) {
    setCursorsRunId(run.id);
    setCursors([null, null]);
  }
  const [stopping, setStopping] = useState(false);
  const parsedScenario = useMemo(() => ScenarioSchema.safeParse(scenario.draft), [scenario.draft]);
  const scenarioValid = parsedScenario.success;
  const nextName = parsedScenario.success
    ? runnableScenario(scenario, parsedScenario.data).name
    : String((scenario.draft as { name?: unknown } | null)?.name ?? 'no scenario');
  const botCommands = useBotCommands();
  // Why Start cannot be pressed, said on the page (a tooltip is not read at the bench).
  const startBlocked =
    connection !== 'open'
      ? 'Not connected to the engine.'
      : !rig
        ? 'Waiting for the engine to name the rig in use…'
        : !scenarioValid
          ? `Scenario "${nextName}" has invalid fields: fix them on the Scenarios page.`
          : botCommands && !botCommands.allowed && targetMode(scenario.draft) === 'start'
            ? `Scenario "${nextName}" starts a bot command, which this engine refuses: ${botCommands.reason ?? ''}`
            : null;

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
      else if (event.key === ' ' && !event.ctrlKey && target?.tagName !== 'BUTTON') {
        togglePause();
      } else if (event.key === '[') stepTimebase(-1);
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
  }, [page, startRun, stop, stepTimebase, fixedText, scenarioValid, store, placeCursor, togglePause]);

  const [a, b] = cursors;
  const deltaT = a !== null && b !== null ? b - a : null;
  const deltaLatency = a !== null && b !== null ? valueAt(store, 'e2eP99', b) - valueAt(store, 'e2eP99', a) : null;
  const finished = summary && !run ? summary : null;
  const e2e = finished?.stages.e2e;
  // HDR percentiles are bucket edges: one may sit a hair above the exact max; never show p99 > max.
  const wholeMs = (ns: number | undefined): string =>
    ns === undefined || !e2e ? '–' : formatNsAsMs(Math.min(ns, e2e.max));
  const fraction =
    progress && run && progress.runId === run.id ? Math.min(1, progress.fraction) : run ? 0 : summary ? 1 : 0;

  return (
    <div className="page page-run">
      <header className="run-bar">
        <div className="run-title">
          <div className="label">
            {run ? 'running' : summary ? `next run (Start) · the result below is of ${summary.run.scenario}` : 'next run (Start)'}
          </div>
          <h2 data-testid="run-title">{run ? run.scenario : nextName}</h2>
          <div className="dim">
            rig {run?.rig ?? rig?.rig.name ?? '…'} · seed{' '}
            <code data-testid="run-seed">
              {run ? run.seed : ((scenario.draft as { seed?: number } | null)?.seed ?? 'random')}
            </code>
            {run && ` · ${run.store} store · ${formatCount(run.plannedMessages)} messages planned`}
          </div>
          {!run && (
            <div className="dim">
              <ScenarioFactsLine scenario={scenario.draft} />
            </div>
          )}
        </div>
        <div className="run-actions">
          {/* While the run waits for its bot to join, Stop ends the wait at once (the run is kept as stopped). */}
          {run || (starting && awaitingBot) ? (
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
              disabled={startBlocked !== null || starting}
              title={startBlocked ?? 'Start (Ctrl+Enter)'}
            >
              {starting ? 'Starting…' : 'Start'}
            </button>
          )}
          <button
            ref={pauseButton}
            type="button"
            onClick={togglePause}
            aria-pressed={paused}
            disabled={!run}
            title={run ? 'Freeze the traces; the run goes on (Space)' : 'Pause freezes the traces of a run going on'}
          >
            {paused ? 'Resume' : 'Pause'}
          </button>
        </div>
      </header>
      {runError && <div className="notice bad">{runError}</div>}
      {!run && startBlocked && (
        <div className="notice warn" data-testid="start-blocked">
          Start is off: {startBlocked}{' '}
          {(!scenarioValid || targetMode(scenario.draft) === 'start') && (
            <button type="button" className="button-small" onClick={() => navigate('scenarios')}>
              Open Scenarios
            </button>
          )}
        </div>
      )}

      <div
        className="progress"
        role="progressbar"
        aria-label="run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
      >
        <div className="progress-fill" style={{ width: `${fraction * 100}%` }} />
        <div className="progress-text" title={`late: ${TERM_GLOSSARY.late}`}>
          {progress && run && progress.runId === run.id
            ? `${(progress.elapsedMs / 1000).toFixed(1)} s / ${(progress.plannedDurationMs / 1000).toFixed(1)} s · ${formatCount(progress.sent)} sent · ${formatCount(progress.completed)} done · ${formatCount(progress.inFlight)} in flight · ${formatCount(progress.late)} late`
            : run
              ? 'starting…'
              : summary
                ? `finished: ${summary.run.scenario} · ${(summary.elapsedMs / 1000).toFixed(1)} s · ${formatCount(summary.sent)} sent`
                : 'idle'}
        </div>
      </div>

      <ProbeOffer />
      <BotStatusPanel />
      <RunKindLivePanel />

      <div className="numerals-caption label" data-testid="numerals-caption">
        {finished ? (
          <>
            whole run <code>{finished.run.id}</code> · {formatCount(e2e?.count ?? 0)} e2e samples
          </>
        ) : run ? (
          `newest ${run.intervalMs} ms interval · run p99 over the run so far`
        ) : (
          'newest interval'
        )}
      </div>
      <div className="numerals">
        <Numeral
          store={store}
          clock={clock}
          label="e2e p50"
          series="e2eP50"
          unit="ms"
          paused={paused}
          accent={E2E_COLORS.p50}
          {...(finished && { whole: { label: 'e2e p50 · run', text: wholeMs(e2e?.p50) } })}
        />
        <Numeral
          store={store}
          clock={clock}
          label="e2e p99"
          series="e2eP99"
          unit="ms"
          paused={paused}
          accent={E2E_COLORS.p99}
          {...(finished && { whole: { label: 'e2e p99 · run', text: wholeMs(e2e?.p99) } })}
        />
        <Numeral
          store={store}
          clock={clock}
          label="e2e max"
          series="e2eMax"
          unit="ms"
          paused={paused}
          accent={E2E_COLORS.max}
          {...(finished && { whole: { label: 'e2e max · run', text: wholeMs(e2e?.max) } })}
        />
        <div className="numeral">
          <div className="numeral-label">{finished ? 'e2e p99.9 · run' : 'run p99 so far'}</div>
          <div className="numeral-value">
            <span data-testid="run-p99">
              {finished
                ? wholeMs(e2e?.p999)
                : progress && run && progress.runId === run.id
                  ? formatValue(progress.e2eP99 / 1e6)
                  : '–'}
            </span>
            <span className="numeral-unit">ms</span>
          </div>
        </div>
        <Numeral
          store={store}
          clock={clock}
          label="throughput"
          series="throughput"
          unit="/s"
          paused={paused}
          {...(finished && { whole: { label: 'throughput · mean', text: formatValue(finished.throughput) } })}
        />
        <Numeral
          store={store}
          clock={clock}
          label="cpu"
          series="cpu"
          unit="%"
          paused={paused}
          {...(finished && {
            whole: { label: 'cpu · mean', text: formatValue(finished.resources.cpuPercentMean) },
          })}
        />
        <Numeral
          store={store}
          clock={clock}
          label="heap"
          series="heap"
          unit="MiB"
          paused={paused}
          {...(finished && {
            whole: { label: 'heap · max', text: formatValue(finished.resources.heapMaxBytes / 1048576) },
          })}
        />
      </div>

      {summary && !run && <RunSummaryPanel summary={summary} />}

      <div className="scope-controls" role="toolbar" aria-label="scope controls">
        <label>
          timebase
          <select
            value={String(timebase)}
            onChange={(event) => setTimebase(event.target.value === 'fit' ? 'fit' : Number(event.target.value))}
            aria-label="timebase per screen"
          >
            <option value="fit">
              {fitWhat} ({formatTimebase(fitTimebase(plannedMs))})
            </option>
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
        {paused && run && <span className="badge bad">FROZEN — run continues</span>}
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
              traces={panel.traces === THROUGHPUT_TRACES && (run ?? summary?.run)?.replay ? REPLAY_THROUGHPUT_TRACES : panel.traces}
              height={150}
              minRedrawMs={SIDE_PANEL_REDRAW_MS}
              onPlaceCursor={placeCursor}
            />
          ))}
        </div>
        <p className="dim scope-hint" data-testid="legend-hint">
          Click a legend entry (p50, p99, max, a stage, an outcome) to hide or show its trace; dimmed entries are hidden.
          The title&apos;s <Term name="due → kernel">due → kernel</Term> is the e2e stage.
        </p>
      </div>

      <StageGlossary />

      <footer className="key-help" aria-label="keyboard">
        <kbd>Ctrl</kbd>+<kbd>Enter</kbd> start · <kbd>Ctrl</kbd>+<kbd>.</kbd> stop · <kbd>Space</kbd> pause ·{' '}
        <kbd>[</kbd> <kbd>]</kbd> timebase · <kbd>y</kbd> auto/fixed y · click / shift-click: cursor A / B ·{' '}
        <kbd>c</kbd> clear cursors
      </footer>
    </div>
  );
}

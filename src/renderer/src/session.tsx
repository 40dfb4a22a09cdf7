import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { MAX_FRAMES_PER_CALL, type LabApi, type OpenedRig } from '../../shared/api';
import type { RunFrame } from '../../shared/run';
import type { AlertEvent } from '../../shared/alerts';
import type { BotAwaited, RunInfo, RunProgress, RunSummary } from '../../shared/run';
import { ScenarioSchema } from '../../shared/scenario';
import { connectLab, type LabConnection } from './lab/lab-client';
import type { ConnectionState } from './lab/socket-transport';
import { runnableScenario, scenarioDraft, type ScenarioDraft } from './scenario-draft';
import { readDrafts, writeDrafts } from './draft-storage';

export { runnableScenario, scenarioModified, type ScenarioDraft } from './scenario-draft';
import { FrameClock } from './scope/frame-clock';
import { FrameStore } from './scope/frame-store';

export const PAGES = ['rig', 'scenarios', 'run', 'loopback', 'reports', 'alerts'] as const;
export type Page = (typeof PAGES)[number];

/** One alert episode: the event that fired it and, once it stopped, the one that resolved it. */
export interface AlertRow {
  alertId: string;
  firing: AlertEvent;
  resolved?: AlertEvent;
}

interface Session {
  lab: LabApi;
  runtime: LabConnection['runtime'];
  connection: ConnectionState;
  store: FrameStore;
  /** The one animation-frame scheduler of the scope. */
  clock: FrameClock;
  page: Page;
  navigate(page: Page): void;
  rig: OpenedRig | null;
  setRig(rig: OpenedRig): void;
  scenario: ScenarioDraft;
  setScenario(scenario: ScenarioDraft): void;
  /** Edited drafts of other scenario files, by path, kept while another is open (and across reloads, per rig). */
  parkedDrafts: Readonly<Record<string, ScenarioDraft>>;
  setParkedDrafts(parked: Readonly<Record<string, ScenarioDraft>>): void;
  run: RunInfo | null;
  summary: RunSummary | null;
  /** Alert episodes of the current and last run, newest first. */
  alerts: AlertRow[];
  /** Starts the draft scenario on the active rig; errors come back as plain words. */
  startRun(): Promise<void>;
  stopRun(): Promise<void>;
  runError: string | null;
  /** A start was asked for and the engine has not answered yet (the first run opens the store). */
  starting: boolean;
  /** A bot run waits for its bot to join: where it must connect (from any console's Start). */
  awaitingBot: BotAwaited | null;
  /** Chat → CV with the probe connected on the Loop-back page (when one is): the technician's choice for the next runs. */
  useProbe: boolean;
  setUseProbe(useProbe: boolean): void;
}

const SessionContext = createContext<Session | null>(null);
// Progress changes a few times a second: its own context, so only what shows it re-renders.
const ProgressContext = createContext<RunProgress | null>(null);

/** How far the run is (a few updates a second). */
export function useRunProgress(): RunProgress | null {
  return useContext(ProgressContext);
}

/** The console's session: the LabApi connection, what the technician chose, and the low-rate run state. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() outside <SessionProvider>');
  return session;
}

const DEFAULT_SCENARIO = {
  name: 'sustained',
  executor: { type: 'constant-arrival-rate', rate: 500, duration: '20s' },
  thresholds: { 'e2e.p99': '<10ms' },
};

export function SessionProvider({ children }: { children: React.ReactNode }): React.JSX.Element {
  const [connection] = useState(connectLab);
  const lab = connection.lab;
  // One store for the session: frames are written into it outside React.
  const [store] = useState(() => new FrameStore());
  const [clock] = useState(() => new FrameClock());
  useEffect(() => store.onDidChange(() => clock.request()), [store, clock]);
  const [state, setState] = useState<ConnectionState>(connection.state());
  const [page, setPage] = useState<Page>(() => pageFromHash() ?? 'run');
  const [rig, setRig] = useState<OpenedRig | null>(null);
  const [scenario, setScenario] = useState<ScenarioDraft>({ file: null, draft: DEFAULT_SCENARIO, saved: null });
  const [parkedDrafts, setParkedDrafts] = useState<Readonly<Record<string, ScenarioDraft>>>({});
  const [run, setRun] = useState<RunInfo | null>(null);
  const [progress, setProgress] = useState<RunProgress | null>(null);
  const [summary, setSummary] = useState<RunSummary | null>(null);
  const [alerts, setAlerts] = useState<AlertRow[]>([]);
  const [runError, setRunError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [useProbe, setUseProbe] = useState(true);
  const [awaitingBot, setAwaitingBot] = useState<BotAwaited | null>(null);

  useEffect(() => connection.onDidChangeState(setState), [connection]);

  // Live data: frames go straight into the store (never React state); the rest is low-rate.
  // While the frames kept before this console opened are fetched, live ones wait behind them.
  // Replay starts before the first call goes out: a live frame that came first would hide the older ones.
  const replayRef = useRef<{ active: boolean; waiting: RunFrame[] }>({ active: true, waiting: [] });
  const runIdRef = useRef<string | null>(null);
  const askingRef = useRef(false);
  useEffect(() => {
    runIdRef.current = run?.id ?? null;
  }, [run]);
  useEffect(() => {
    const subscriptions = [
      lab.onDidRunFrames((frames) => {
        const replay = replayRef.current;
        if (replay.active) replay.waiting.push(...frames);
        else store.ingest(frames);
      }),
      // A run started elsewhere (another console, a reload of this one): show it, with Stop.
      lab.onDidAwaitBot((awaited) => setAwaitingBot(awaited)),
      lab.onDidStartRun((info) => {
        setAwaitingBot(null);
        store.begin(info);
        setSummary(null);
        setProgress(null);
        setRun(info);
      }),
      lab.onDidRunProgress((value) => {
        setProgress(value);
        // Progress of a run this console never heard start (its socket was down at that moment): ask which.
        if (runIdRef.current !== value.runId && !askingRef.current) {
          askingRef.current = true;
          void lab
            .currentRun()
            .then((current) => {
              if (current && current.id === value.runId) {
                store.follow(current);
                setRun(current);
              }
            })
            .finally(() => (askingRef.current = false));
        }
      }),
      lab.onDidFinishRun((value) => {
        setAwaitingBot(null);
        setSummary(value);
        setRun(null);
      }),
      lab.onDidAlert((alert) => setAlerts((rows) => mergeAlerts(rows, [alert]))),
    ];
    return () => subscriptions.forEach((unsubscribe) => unsubscribe());
  }, [lab, store]);

  // What the engine holds now: rig, run in progress, last summary, the frames and alerts of the
  // current (else last) run, and a scenario to start from. A console that attaches sees it all.
  useEffect(() => {
    if (state !== 'open') return;
    let cancelled = false;
    const replay = replayRef.current;
    replay.active = true;
    let activeRigName: string | undefined;
    void (async () => {
      try {
        const [active, current, last, kept] = await Promise.all([
          lab.activeRig(),
          lab.currentRun(),
          lab.lastSummary(),
          lab.listAlerts(),
        ]);
        if (cancelled) return;
        activeRigName = active.rig.name;
        setRig((existing) => existing ?? active);
        setRun(current);
        store.follow(current ?? last?.run);
        setSummary((existing) => existing ?? last);
        setAlerts((rows) => mergeAlerts(rows, kept));
        if (current || last) {
          for (let after = -1; ;) {
            const chunk = await lab.runFrames(after, MAX_FRAMES_PER_CALL);
            store.ingest(chunk);
            const newest = chunk.at(-1);
            if (!newest || chunk.length < MAX_FRAMES_PER_CALL) break;
            after = newest.sequence;
          }
        }
      } finally {
        replay.active = false;
        store.ingest(replay.waiting.splice(0));
      }
      // A draft kept from before a reload wins over the default scenario.
      if (activeRigName !== undefined && readDrafts(activeRigName).open) return;
      const scenarios = await lab.listScenarios();
      const preferred = scenarios.find((file) => file.name === 'burst') ?? scenarios[0];
      if (preferred) {
        const opened = await lab.readScenario(preferred.path);
        if (!cancelled)
          setScenario((existing) => {
            if (existing.file) return existing;
            const draft = scenarioDraft(opened.content);
            return { file: opened.file, draft, saved: draft };
          });
      }
    })().catch((error: unknown) => setRunError(messageOf(error)));
    return () => {
      cancelled = true;
    };
  }, [lab, state, store]);

  // Drafts are kept per rig in the browser's storage: restored when a rig is first seen, then
  // written on every edit (never before the restore, which would overwrite them with the default).
  const rigName = rig?.rig.name;
  const [restoredFor, setRestoredFor] = useState<string | null>(null);
  // Adjusted while rendering (not in an effect), so no render ever writes the default over them.
  if (rigName && restoredFor !== rigName) {
    setRestoredFor(rigName);
    const kept = readDrafts(rigName);
    if (kept.open) setScenario(kept.open);
    setParkedDrafts(kept.parked);
  }
  useEffect(() => {
    if (rigName && restoredFor === rigName) writeDrafts(rigName, { open: scenario, parked: parkedDrafts });
  }, [rigName, restoredFor, scenario, parkedDrafts]);

  const navigate = useCallback((next: Page) => {
    setPage(next);
    history.replaceState(null, '', `${location.pathname}${location.search}${tokenHash()}&page=${next}`);
  }, []);

  const startRun = useCallback(async () => {
    setRunError(null);
    const parsed = ScenarioSchema.safeParse(scenario.draft);
    if (!parsed.success) {
      setRunError('The scenario has invalid fields: fix them on the Scenarios page.');
      return;
    }
    if (!rig) {
      setRunError('No rig is loaded yet.');
      return;
    }
    setStarting(true);
    try {
      const info = await lab.startRun({
        scenario: runnableScenario(scenario, parsed.data),
        rig: rig.rig,
        useProbe,
        // A replay's relative chat log is looked up next to the scenario's file first.
        ...(scenario.file ? { scenarioFile: scenario.file.path } : {}),
      });
      store.begin(info);
      setSummary(null);
      setProgress(null);
      setRun(info);
      navigate('run');
    } catch (error) {
      setRunError(messageOf(error));
    } finally {
      setStarting(false);
      setAwaitingBot(null);
    }
  }, [lab, navigate, rig, scenario, store, useProbe]);

  const stopRun = useCallback(async () => {
    try {
      const result = await lab.stopRun();
      if (result) setSummary(result);
      setRun(null);
    } catch (error) {
      setRunError(messageOf(error));
    }
  }, [lab]);

  const value = useMemo<Session>(
    () => ({
      lab,
      runtime: connection.runtime,
      connection: state,
      store,
      clock,
      page,
      navigate,
      rig,
      setRig,
      scenario,
      setScenario,
      parkedDrafts,
      setParkedDrafts,
      run,
      summary,
      alerts,
      startRun,
      stopRun,
      runError,
      starting,
      awaitingBot,
      useProbe,
      setUseProbe,
    }),
    [
      lab,
      connection.runtime,
      state,
      store,
      clock,
      page,
      navigate,
      rig,
      scenario,
      parkedDrafts,
      run,
      summary,
      alerts,
      startRun,
      stopRun,
      runError,
      starting,
      awaitingBot,
      useProbe,
    ],
  );
  return (
    <SessionContext.Provider value={value}>
      <ProgressContext.Provider value={progress}>{children}</ProgressContext.Provider>
    </SessionContext.Provider>
  );
}

/** Folds alert events into one row per episode (a resolve completes its firing), newest first. */
function mergeAlerts(rows: readonly AlertRow[], events: readonly AlertEvent[]): AlertRow[] {
  const byId = new Map(rows.map((row) => [row.alertId, row]));
  for (const event of events) {
    const row = byId.get(event.alertId);
    if (event.kind === 'firing') byId.set(event.alertId, { ...row, alertId: event.alertId, firing: event });
    else
      byId.set(event.alertId, {
        alertId: event.alertId,
        firing: row?.firing ?? { ...event, kind: 'firing' },
        resolved: event,
      });
  }
  return [...byId.values()].sort((a, b) => b.firing.firedAtMs - a.firing.firedAtMs).slice(0, 500);
}

/** An error's plain words (the engine's ValidationError lists each bad field on its own line). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hashParameters(): URLSearchParams {
  return new URLSearchParams(location.hash.replace(/^#/, ''));
}

function tokenHash(): string {
  const token = hashParameters().get('token');
  return token ? `#token=${token}` : '#';
}

function pageFromHash(): Page | undefined {
  const page = hashParameters().get('page');
  return (PAGES as readonly string[]).includes(page ?? '') ? (page as Page) : undefined;
}

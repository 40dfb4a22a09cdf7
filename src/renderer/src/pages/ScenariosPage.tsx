import { useEffect, useMemo, useState } from 'react';
import type { LabFile } from '../../../shared/api';
import { CHAT_LOG_FORMATS } from '../../../shared/chat-log';
import { ScenarioSchema } from '../../../shared/scenario';
import { ChatLogPanel } from '../components/ChatLogPanel';
import { DocumentForm, ProblemList, problemsByPath } from '../components/DocumentForm';
import { EditorActions } from '../components/EditorActions';
import { FileButtons } from '../components/FileButtons';
import { JsonEditor } from '../components/JsonEditor';
import { TargetPanel } from '../components/TargetPanel';
import { scenarioDraft } from '../scenario-draft';
import { messageOf, runnableScenario, scenarioModified, useSession, type ScenarioDraft } from '../session';

const EXECUTOR_TEMPLATES: Record<string, unknown> = {
  'constant-arrival-rate': { type: 'constant-arrival-rate', rate: 500, duration: '20s' },
  'ramping-arrival-rate': {
    type: 'ramping-arrival-rate',
    startRate: 0,
    stages: [
      { target: 1000, duration: '10s' },
      { target: 1000, duration: '10s' },
    ],
  },
  'virtual-users': {
    type: 'virtual-users',
    users: 1000,
    duration: '30s',
    thinkTime: { distribution: 'exponential', meanMs: 1000, minMs: 0 },
  },
  burst: { type: 'burst', messages: 2000, users: 1000, window: '2s' },
  replay: { type: 'replay', file: 'sample-irc.log', speed: 10 },
};

const FORM_OPTIONS = {
  choices: { type: Object.keys(EXECUTOR_TEMPLATES), distribution: ['constant', 'uniform', 'exponential'], format: ['auto', ...CHAT_LOG_FORMATS] },
  templates: { type: (choice: string) => structuredClone(EXECUTOR_TEMPLATES[choice]) },
  openRecords: ['thresholds'],
  hints: {
    duration: '"30s", "250ms", "2m" or ms',
    window: '"2s" or ms',
    interval: 'frame length in ms, or "100ms"',
    slipTolerance: 'ms; later than this counts as late',
    abortGrace: 'ms after a broken threshold before the run aborts',
    file: 'a chat log: next to the scenario, in the data folder\'s chat/, or a shipped sample',
    speed: 'recorded time ÷ speed (10: ten minutes of chat in one)',
    from: 'offset from the log\'s first message, "3m"',
    to: 'offset from the log\'s first message, "15m"',
  },
};

/** Scenarios: built-in and the user's own, every parameter editable with its problems inline. */
export function ScenariosPage(): React.JSX.Element {
  const { lab, scenario, setScenario, parkedDrafts, setParkedDrafts, startRun, run, runError, rig, starting } = useSession();
  const [files, setFiles] = useState<LabFile[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [saveName, setSaveName] = useState('');
  const [raw, setRaw] = useState(false);
  const problems = useMemo(() => problemsByPath(ScenarioSchema, scenario.draft), [scenario.draft]);
  const valid = problems.size === 0;
  const seed = (scenario.draft as { seed?: unknown } | null)?.seed;
  const modified = scenarioModified(scenario);
  // Edits of other files, kept while the technician looks elsewhere (and across reloads): switching never drops them.
  const parkedPaths = useMemo(() => new Set(Object.keys(parkedDrafts)), [parkedDrafts]);
  const draftName = ScenarioSchema.safeParse(scenario.draft).success
    ? runnableScenario(scenario, ScenarioSchema.parse(scenario.draft)).name
    : null;

  useEffect(() => {
    lab.listScenarios().then(setFiles, (error: unknown) => setMessage(messageOf(error)));
  }, [lab]);

  const open = async (file: LabFile): Promise<void> => {
    if (file.path === scenario.file?.path) return;
    try {
      const parked: Record<string, ScenarioDraft> = { ...parkedDrafts };
      if (scenario.file && modified) parked[scenario.file.path] = scenario;
      else if (scenario.file) delete parked[scenario.file.path];
      const kept = parked[file.path];
      if (kept) setScenario(kept);
      else {
        const opened = await lab.readScenario(file.path);
        const draft = scenarioDraft(opened.content);
        setScenario({ file: opened.file, draft, saved: draft });
      }
      delete parked[file.path];
      setParkedDrafts(parked);
      setSaveName(file.builtIn ? `my-${file.name}` : file.name);
      setMessage(null);
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  const save = async (): Promise<void> => {
    const parsed = ScenarioSchema.safeParse(scenario.draft);
    if (!parsed.success) return;
    try {
      const file = await lab.saveScenario(saveName, parsed.data);
      setScenario({ file, draft: scenario.draft, saved: scenario.draft });
      setMessage(`Saved ${file.path}`);
      setFiles(await lab.listScenarios());
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  return (
    <div className="page page-scenarios">
      <aside className="file-list" aria-label="scenario files">
        <h2>Scenarios</h2>
        <FileButtons
          files={files}
          selectedPath={scenario.file?.path}
          modifiedPaths={modified && scenario.file ? new Set([...parkedPaths, scenario.file.path]) : parkedPaths}
          onOpen={(file) => void open(file)}
          emptyText="No scenario files yet."
        />
      </aside>
      <section className="editor">
        <header className="editor-header">
          <div>
            <h2>
              {String((scenario.draft as { name?: unknown } | null)?.name ?? 'scenario')}
              <span className={`badge ${valid ? 'ok' : 'bad'}`}>
                {valid ? 'valid' : `${problems.size} problem${problems.size === 1 ? '' : 's'}`}
              </span>
              {modified && (
                <span className="badge warn" data-testid="scenario-modified">
                  ● modified, not saved
                </span>
              )}
            </h2>
            <div className="dim">
              {scenario.file ? scenario.file.path : 'not saved'} · rig {rig?.rig.name ?? '…'}
            </div>
            {modified && draftName && (
              <div className="dim draft-note">
                A run of this draft is saved as <code>{draftName}</code>, apart from the file&apos;s own trend and
                baseline; save it to run it under its own name.
              </div>
            )}
          </div>
          <div className="seed" aria-label="seed">
            <span className="label">seed</span>
            <input
              aria-label="seed value"
              inputMode="numeric"
              value={seed === undefined ? '' : String(seed)}
              placeholder="random"
              onChange={(event) => {
                const text = event.target.value.trim();
                const next = { ...(scenario.draft as Record<string, unknown>) };
                if (text === '') delete next['seed'];
                else next['seed'] = /^\d+$/.test(text) ? Number(text) : text;
                setScenario({ ...scenario, draft: next });
              }}
            />
            {problems.get('seed') && (
              <div className="field-problem" role="alert">
                {problems.get('seed')?.join('; ')}
              </div>
            )}
          </div>
          <EditorActions
            raw={raw}
            onToggleRaw={() => setRaw(!raw)}
            saveName={saveName}
            onSaveNameChange={setSaveName}
            valid={valid}
            onSave={() => void save()}
          >
            <button
              type="button"
              className="primary"
              disabled={!valid || run !== null || starting}
              onClick={() => void startRun()}
              title={valid ? 'Start a run of this scenario' : 'Fix the problems first'}
            >
              {starting ? 'Starting…' : 'Start run'}
            </button>
          </EditorActions>
        </header>
        {message && <div className="notice">{message}</div>}
        {runError && <div className="notice bad">{runError}</div>}
        {!valid && <ProblemList problems={problems} />}
        <TargetPanel draft={scenario.draft} problems={problems} onChange={(draft) => setScenario({ ...scenario, draft })} />
        <ChatLogPanel draft={scenario.draft} onChange={(draft) => setScenario({ ...scenario, draft })} />
        {raw ? (
          <JsonEditor
            key={scenario.file?.path ?? 'draft'}
            label="scenario JSON"
            draft={scenario.draft}
            onChange={(draft) => setScenario({ ...scenario, draft })}
          />
        ) : (
          <DocumentForm
            draft={scenario.draft}
            problems={problems}
            skip={['seed', 'target']}
            onChange={(draft) => setScenario({ ...scenario, draft })}
            {...FORM_OPTIONS}
          />
        )}
      </section>
    </div>
  );
}

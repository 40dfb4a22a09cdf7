import { useEffect, useMemo, useState } from 'react';
import type { LabFile } from '../../../shared/api';
import { ScenarioSchema } from '../../../shared/scenario';
import { DocumentForm, ProblemList, problemsByPath } from '../components/DocumentForm';
import { EditorActions } from '../components/EditorActions';
import { FileButtons } from '../components/FileButtons';
import { JsonEditor } from '../components/JsonEditor';
import { scenarioDraft } from '../scenario-draft';
import { messageOf, useSession } from '../session';

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
};

const FORM_OPTIONS = {
  choices: { type: Object.keys(EXECUTOR_TEMPLATES), distribution: ['constant', 'uniform', 'exponential'] },
  templates: { type: (choice: string) => structuredClone(EXECUTOR_TEMPLATES[choice]) },
  openRecords: ['thresholds'],
  hints: {
    duration: '"30s", "250ms", "2m" or ms',
    window: '"2s" or ms',
    interval: 'frame length: "100ms"',
    slipTolerance: 'later than this counts as late',
  },
};

/** Scenarios: built-in and the user's own, every parameter editable with its problems inline. */
export function ScenariosPage(): React.JSX.Element {
  const { lab, scenario, setScenario, startRun, run, runError, rig, starting } = useSession();
  const [files, setFiles] = useState<LabFile[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [saveName, setSaveName] = useState('');
  const [raw, setRaw] = useState(false);
  const problems = useMemo(() => problemsByPath(ScenarioSchema, scenario.draft), [scenario.draft]);
  const valid = problems.size === 0;
  const seed = (scenario.draft as { seed?: unknown } | null)?.seed;

  useEffect(() => {
    lab.listScenarios().then(setFiles, (error: unknown) => setMessage(messageOf(error)));
  }, [lab]);

  const open = async (file: LabFile): Promise<void> => {
    try {
      const opened = await lab.readScenario(file.path);
      setScenario({ file: opened.file, draft: scenarioDraft(opened.content) });
      setSaveName(opened.file.builtIn ? `my-${opened.file.name}` : opened.file.name);
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
            </h2>
            <div className="dim">
              {scenario.file ? scenario.file.path : 'not saved'} · rig {rig?.rig.name ?? '…'}
            </div>
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
            skip={['seed']}
            onChange={(draft) => setScenario({ ...scenario, draft })}
            {...FORM_OPTIONS}
          />
        )}
      </section>
    </div>
  );
}

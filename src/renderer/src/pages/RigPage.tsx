import { useCallback, useEffect, useMemo, useState } from 'react';
import type { DoctorCheckResult, LabFile } from '../../../shared/api';
import { RigSchema } from '../../../shared/rig';
import { DocumentForm, ProblemList, problemsByPath, setIn } from '../components/DocumentForm';
import { EditorActions } from '../components/EditorActions';
import { FileButtons } from '../components/FileButtons';
import { JsonEditor } from '../components/JsonEditor';
import { PatchSheet, describeVariablePath } from '../components/PatchSheet';
import { formatTimeOfDay } from '../format/format';
import { messageOf, useSession } from '../session';

const FORM_OPTIONS = {
  choices: { kind: ['float', 'int', 'bool', 'enum'], unit: ['V', 'norm'] },
  hints: {
    tapPort: 'UDP port where cvlab listens for its own datagrams',
    port: 'UDP port of the OSC-to-CV converter',
    baud: 'bits/s of the probe’s serial line',
    latencyTargetMs: 'ms: the loop-back target line',
    cooldownMs: 'ms: min time between changes',
    userRate: 'messages/s per viewer',
    userBurst: 'messages a viewer may send at once',
    globalRate: 'messages/s across all instances',
    globalBurst: 'messages at once across all instances',
  },
};

const CHECK_INTERVAL_MS = 5000;

function variablesOf(draft: unknown): readonly unknown[] {
  const variables = (draft as { variables?: unknown } | null)?.variables;
  return Array.isArray(variables) ? variables : [];
}

/** Rig: load, edit, validate and save; live connection status from the doctor's checks. */
export function RigPage(): React.JSX.Element {
  const { lab, rig, setRig, page, runtime } = useSession();
  const [files, setFiles] = useState<LabFile[]>([]);
  // What the technician edits; until they open or change something, the rig in use.
  const [editing, setEditing] = useState<{ draft: unknown; file: LabFile | null } | null>(null);
  const draft = editing ? editing.draft : (rig?.rig ?? null);
  const file = editing ? editing.file : (rig?.file ?? null);
  const setDraft = (next: unknown): void => setEditing({ draft: next, file });
  const setFile = (next: LabFile | null): void => setEditing({ draft, file: next });
  const [checks, setChecks] = useState<DoctorCheckResult[] | null>(null);
  const [checking, setChecking] = useState(false);
  const [checkedAtMs, setCheckedAtMs] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [typedName, setSaveName] = useState<string | null>(null);
  const saveName = typedName ?? (file?.builtIn ? `my-${file.name}` : (file?.name ?? ''));
  const [raw, setRaw] = useState(false);
  const problems = useMemo(() => problemsByPath(RigSchema, draft), [draft]);
  const valid = draft !== null && problems.size === 0;
  // Compared as parsed (defaults filled in), as the engine holds the rig in use.
  const parsedDraft = useMemo(() => RigSchema.safeParse(draft), [draft]);
  const dirty = rig !== null && draft !== null && JSON.stringify(parsedDraft.data ?? draft) !== JSON.stringify(rig.rig);

  useEffect(() => {
    lab.listRigs().then(setFiles, (error: unknown) => setMessage(messageOf(error)));
  }, [lab]);

  const check = useCallback(() => {
    lab
      .checkRig()
      .then(
        (results) => {
          setChecks(results);
          setCheckedAtMs(Date.now());
        },
        (error: unknown) => setMessage(messageOf(error)),
      )
      .finally(() => setChecking(false));
  }, [lab]);

  // Live status while the page is open.
  useEffect(() => {
    if (page !== 'rig') return;
    check();
    const timer = setInterval(check, CHECK_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [page, check, rig]);

  const open = async (target: LabFile): Promise<void> => {
    try {
      const opened = await lab.readRig(target.path);
      setEditing({ draft: opened.content, file: opened.file });
      setSaveName(null);
      setMessage(null);
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  const use = async (): Promise<void> => {
    const parsed = RigSchema.safeParse(draft);
    if (!parsed.success) return;
    try {
      setRig(await lab.useRig(parsed.data, file));
      setMessage(`Runs now use rig "${parsed.data.name}".`);
      // The old rig's status would mislead until the new checks answer.
      setChecks(null);
      check();
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  const save = async (): Promise<void> => {
    const parsed = RigSchema.safeParse(draft);
    if (!parsed.success) return;
    try {
      const saved = await lab.saveRig(saveName, parsed.data);
      setFile(saved);
      setMessage(`Saved ${saved.path}`);
      setFiles(await lab.listRigs());
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  return (
    <div className="page page-rig">
      <aside className="file-list" aria-label="rig files">
        <h2>Rigs</h2>
        <FileButtons files={files} selectedPath={file?.path} onOpen={(entry) => void open(entry)} />
        <h2>Status</h2>
        <ul className="status-list" aria-label="connection status">
          {(checks ?? []).map((result) => {
            // In a browser the console does not need Electron: not an error, just not used here.
            const notUsed = result.name === 'Electron' && runtime === 'browser' && !result.ok;
            return (
              <li key={result.name} className={notUsed ? 'neutral' : result.ok ? 'ok' : 'bad'} title={result.detail}>
                <span className="led" aria-hidden="true" />
                <span className="status-name">{result.name}</span>
                <span className="status-detail">
                  {notUsed ? 'not used: this console runs in a browser through cvlab serve' : result.detail}
                </span>
              </li>
            );
          })}
          {!checks && <li className="dim">checking…</li>}
        </ul>
        <div className="check-now">
          <button
            type="button"
            className="button-small"
            onClick={() => {
              setChecking(true);
              check();
            }}
            disabled={checking}
          >
            {checking ? 'Checking…' : 'Check now'}
          </button>
          <span className="dim" data-testid="checked-at">
            {checkedAtMs !== null
              ? `checked ${formatTimeOfDay(checkedAtMs)} · every ${CHECK_INTERVAL_MS / 1000} s`
              : ''}
          </span>
        </div>
      </aside>
      <section className="editor">
        <header className="editor-header">
          <div>
            <h2>
              {String((draft as { name?: unknown } | null)?.name ?? 'rig')}
              <span className={`badge ${valid ? 'ok' : 'bad'}`}>
                {valid ? 'valid' : `${problems.size} problem${problems.size === 1 ? '' : 's'}`}
              </span>
              {rig && !dirty && file?.path === rig.file?.path && <span className="badge">in use</span>}
            </h2>
            <div className="dim">{file ? file.path : 'not saved'}</div>
          </div>
          <EditorActions
            raw={raw}
            onToggleRaw={() => setRaw(!raw)}
            saveName={saveName}
            onSaveNameChange={setSaveName}
            valid={valid}
            onSave={() => void save()}
          >
            <button type="button" className="primary" disabled={!valid} onClick={() => void use()}>
              Use this rig
            </button>
          </EditorActions>
        </header>
        {message && (
          <div className="notice" data-testid="rig-message">
            {message}
          </div>
        )}
        {dirty && (
          <div className="notice warn" data-testid="rig-not-in-use">
            Your edits are not in use yet: runs and checks keep using rig &quot;{rig?.rig.name}&quot; as it was until
            you press <strong>Use this rig</strong>
            {valid ? '.' : ' (fix the problems first).'}
          </div>
        )}
        {!valid && draft !== null && (
          <ProblemList problems={problems} describe={(path) => describeVariablePath(path, variablesOf(draft))} />
        )}
        {draft !== null &&
          (raw ? (
            <JsonEditor key={file?.path ?? 'draft'} label="rig JSON" draft={draft} onChange={setDraft} />
          ) : (
            <>
              <label className="form-field rig-description-field">
                <span>description</span>
                <textarea
                  className="rig-description"
                  data-path="description"
                  value={String((draft as { description?: unknown }).description ?? '')}
                  onChange={(event) => setDraft(setIn(draft, ['description'], event.target.value || undefined))}
                />
              </label>
              <DocumentForm
                draft={draft}
                problems={problems}
                onChange={setDraft}
                skip={['variables', 'description']}
                {...FORM_OPTIONS}
              />
              <PatchSheet
                variables={variablesOf(draft)}
                problems={problems}
                onChange={(path, next) => setDraft(setIn(draft, path, next))}
              />
            </>
          ))}
      </section>
    </div>
  );
}

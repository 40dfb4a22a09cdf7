/**
 * The actions above a rig or scenario editor: form/JSON view, the file name to save as, Save,
 * then the page's own primary action (`children`).
 */
export function EditorActions(props: {
  raw: boolean;
  onToggleRaw: () => void;
  saveName: string;
  onSaveNameChange: (name: string) => void;
  valid: boolean;
  onSave: () => void;
  /** The open file is built in (read-only): Save becomes "Save as…", a copy under the given name. */
  builtIn?: boolean;
  children: React.ReactNode;
}): React.JSX.Element {
  return (
    <div className="editor-actions">
      <button type="button" onClick={props.onToggleRaw} aria-pressed={props.raw}>
        {props.raw ? 'Form' : 'JSON'}
      </button>
      <input
        aria-label="save as file name"
        value={props.saveName}
        placeholder="file name"
        onChange={(event) => props.onSaveNameChange(event.target.value)}
      />
      <button
        type="button"
        disabled={!props.valid || !props.saveName}
        onClick={props.onSave}
        title={
          props.builtIn
            ? 'Built-in files are read-only: this saves a copy under the file name beside it'
            : !props.saveName
              ? 'Type a file name first'
              : !props.valid
                ? 'Fix the problems first'
                : undefined
        }
      >
        {props.builtIn ? 'Save as…' : 'Save'}
      </button>
      {props.children}
    </div>
  );
}

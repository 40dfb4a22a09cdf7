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
      <button type="button" disabled={!props.valid || !props.saveName} onClick={props.onSave}>
        Save
      </button>
      {props.children}
    </div>
  );
}

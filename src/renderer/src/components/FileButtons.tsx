import type { LabFile } from '../../../shared/api';

/** The list of rig or scenario files beside an editor: one button per file, the open one marked. */
export function FileButtons(props: {
  files: readonly LabFile[];
  selectedPath: string | undefined;
  /** Files with unsaved edits (marked ●). */
  modifiedPaths?: ReadonlySet<string>;
  onOpen: (file: LabFile) => void;
  emptyText?: string;
}): React.JSX.Element {
  return (
    <ul>
      {props.files.map((file) => (
        <li key={file.path}>
          <button
            type="button"
            className={props.selectedPath === file.path ? 'selected' : ''}
            onClick={() => props.onOpen(file)}
            title={file.path}
          >
            <span>
              {file.name}
              {props.modifiedPaths?.has(file.path) && (
                <span className="modified-mark" title="edited, not saved" aria-label="edited, not saved">
                  {' '}
                  ●
                </span>
              )}
            </span>
            <span className="badge">{file.builtIn ? 'built-in' : 'mine'}</span>
          </button>
        </li>
      ))}
      {props.files.length === 0 && props.emptyText && <li className="dim">{props.emptyText}</li>}
    </ul>
  );
}

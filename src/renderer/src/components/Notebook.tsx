import { useState } from 'react';
import type { LabApi } from '../../../shared/api';
import type { LabNote } from '../../../shared/report';
import { formatDateTime } from '../format/format';
import { messageOf } from '../session';

/** A run's or measurement's notes: what changed, when, with tags. */
export function NoteList({
  notes,
  label,
}: {
  notes: readonly LabNote[] | undefined;
  label: string;
}): React.JSX.Element | null {
  if (!notes?.length) return null;
  return (
    <ul className="note-list" aria-label={label}>
      {notes.map((note, index) => (
        <li key={`${note.atMs}-${index}`}>
          <span className="dim">{formatDateTime(note.atMs)}</span> {note.text}
          {note.tags.map((tag) => (
            <span key={tag} className="badge tag">
              {tag}
            </span>
          ))}
        </li>
      ))}
    </ul>
  );
}

/** A line to add a note ("cable B", tags "cable-b") to a saved run or loop-back measurement. */
export function NoteForm({
  lab,
  kind,
  id,
  onAdded,
}: {
  lab: LabApi;
  kind: 'run' | 'loopback';
  id: string;
  onAdded(): void;
}): React.JSX.Element {
  const [text, setText] = useState('');
  const [tags, setTags] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const add = async (): Promise<void> => {
    try {
      setMessage(null);
      await lab.addNote(
        kind,
        id,
        text,
        tags
          .split(/[,\s]+/)
          .map((tag) => tag.trim())
          .filter(Boolean),
      );
      setText('');
      setTags('');
      onAdded();
    } catch (error) {
      setMessage(messageOf(error));
    }
  };
  return (
    <>
      <form
        className="note-form"
        onSubmit={(event) => {
          event.preventDefault();
          void add();
        }}
      >
        <input
          aria-label="note"
          placeholder='what changed, e.g. "new converter firmware"'
          value={text}
          maxLength={2000}
          onChange={(event) => setText(event.target.value)}
        />
        <input
          aria-label="tags"
          placeholder="tags, e.g. fw-2.1, cable-b"
          value={tags}
          onChange={(event) => setTags(event.target.value)}
        />
        <button type="submit" className="button-small" disabled={text.trim() === ''}>
          Add note
        </button>
      </form>
      {message && <div className="notice bad">{message}</div>}
    </>
  );
}

/** The lab notebook of one saved run: its notes, and a line to add one. */
export function Notebook({
  lab,
  runId,
  notes,
  onAdded,
}: {
  lab: LabApi;
  runId: string;
  notes: readonly LabNote[] | undefined;
  onAdded(): void;
}): React.JSX.Element {
  return (
    <section className="notebook" aria-label="lab notebook">
      <h3>Lab notebook</h3>
      <NoteList notes={notes} label="notes" />
      <NoteForm lab={lab} kind="run" id={runId} onAdded={onAdded} />
    </section>
  );
}

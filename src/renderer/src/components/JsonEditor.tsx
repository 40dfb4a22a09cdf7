import { useState } from 'react';

/** The whole document as JSON text, for fields the form cannot add (optional sections). */
export function JsonEditor({
  draft,
  onChange,
  label,
}: {
  draft: unknown;
  onChange(draft: unknown): void;
  label: string;
}): React.JSX.Element {
  const [text, setText] = useState(() => JSON.stringify(draft, null, 2));
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <div className="json-editor">
      <textarea
        aria-label={label}
        spellCheck={false}
        value={text}
        aria-invalid={problem ? true : undefined}
        onChange={(event) => {
          setText(event.target.value);
          try {
            onChange(JSON.parse(event.target.value));
            setProblem(null);
          } catch (error) {
            setProblem(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
          }
        }}
      />
      {problem && (
        <div className="field-problem" role="alert">
          {problem}
        </div>
      )}
    </div>
  );
}

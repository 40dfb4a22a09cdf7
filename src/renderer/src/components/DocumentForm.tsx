import { useId, useState } from 'react';
import type { z } from 'zod';
import { formatPath } from '../../../shared/format-issues';

type Path = readonly (string | number)[];

/** Problems of a draft by dotted path (`executor.rate`, `variables[2].out.unit`), from its zod schema. */
export function problemsByPath(schema: z.ZodType, draft: unknown): Map<string, string[]> {
  const problems = new Map<string, string[]>();
  const result = schema.safeParse(draft);
  if (result.success) return problems;
  for (const issue of result.error.issues) {
    const key = formatPath(issue.path);
    problems.set(key, [...(problems.get(key) ?? []), issue.message]);
  }
  return problems;
}

/** Returns a copy of `value` with `next` at `path` (undefined removes the key). */
export function setIn(value: unknown, path: Path, next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[head as number] = setIn(copy[head as number], rest, next);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const child = setIn(copy[head as string], rest, next);
  if (child === undefined) delete copy[head as string];
  else copy[head as string] = child;
  return copy;
}

export interface DocumentFormOptions {
  /** Fixed choices for a key, shown as a select (`kind`, `unit`, executor `type`). */
  choices?: Readonly<Record<string, readonly string[]>>;
  /** A select change of this key replaces its parent object with the template (executor type). */
  templates?: Readonly<Record<string, (choice: string) => unknown>>;
  /** Objects whose keys the technician adds and removes (thresholds). */
  openRecords?: readonly string[];
  /** Hints shown beside a key. */
  hints?: Readonly<Record<string, string>>;
}

interface DocumentFormProps extends DocumentFormOptions {
  draft: unknown;
  problems: Map<string, string[]>;
  onChange(draft: unknown): void;
  /** Keys left out of the generic form because the page shows them itself. */
  skip?: readonly string[];
}

/**
 * Edits any JSON document field by field, with the schema's problems next to the field they
 * name. Numbers stay numbers while they parse; anything else is kept as typed so the schema,
 * not the form, says what is wrong with it.
 */
export function DocumentForm({
  draft,
  problems,
  onChange,
  skip = [],
  ...options
}: DocumentFormProps): React.JSX.Element {
  const shown = new Set<string>();
  const body = (
    <ValueEditor
      value={draft}
      path={[]}
      problems={problems}
      shown={shown}
      options={options}
      skip={skip}
      onChange={(path, next) => onChange(setIn(draft, path, next))}
    />
  );
  return <div className="document-form">{body}</div>;
}

interface EditorProps {
  value: unknown;
  path: Path;
  problems: Map<string, string[]>;
  shown: Set<string>;
  options: DocumentFormOptions;
  skip?: readonly string[];
  onChange(path: Path, next: unknown): void;
}

function ValueEditor({ value, path, problems, shown, options, skip = [], onChange }: EditorProps): React.JSX.Element {
  if (Array.isArray(value))
    return (
      <ArrayEditor value={value} path={path} problems={problems} shown={shown} options={options} onChange={onChange} />
    );
  if (value !== null && typeof value === 'object') {
    return (
      <ObjectEditor
        value={value as Record<string, unknown>}
        path={path}
        problems={problems}
        shown={shown}
        options={options}
        skip={skip}
        onChange={onChange}
      />
    );
  }
  return (
    <FieldEditor value={value} path={path} problems={problems} shown={shown} options={options} onChange={onChange} />
  );
}

function ObjectEditor({
  value,
  path,
  problems,
  shown,
  options,
  skip = [],
  onChange,
}: EditorProps & { value: Record<string, unknown> }): React.JSX.Element {
  const key = formatPath(path);
  const open = options.openRecords?.includes(String(path.at(-1) ?? ''));
  const [newKey, setNewKey] = useState('');
  const own = problems.get(key);
  if (own) shown.add(key);
  const entries = Object.entries(value).filter(([name]) => !(path.length === 0 && skip.includes(name)));
  if (path.length === 0) {
    // At the top: the plain fields together first, then one panel per section.
    const isPlain = ([, child]: [string, unknown]): boolean => child === null || typeof child !== 'object';
    const plain = entries.filter(isPlain);
    return (
      <div className="form-root">
        {own && <FieldProblems problems={own} />}
        {plain.length > 0 && (
          <div className="form-group form-general">
            <div className="form-group-title">general</div>
            {plain.map(([name, child]) => (
              <ValueEditor
                key={name}
                value={child}
                path={[name]}
                problems={problems}
                shown={shown}
                options={options}
                onChange={onChange}
              />
            ))}
          </div>
        )}
        {entries
          .filter((entry) => !isPlain(entry))
          .map(([name, child]) => (
            <ValueEditor
              key={name}
              value={child}
              path={[name]}
              problems={problems}
              shown={shown}
              options={options}
              onChange={onChange}
            />
          ))}
      </div>
    );
  }
  const index = path.at(-1);
  const title =
    typeof index === 'number'
      ? `${humanize(String(path.at(-2))).replace(/s$/, '')} ${index + 1}${typeof value['name'] === 'string' ? ` · ${value['name']}` : ''}`
      : humanize(String(index));
  return (
    <div className="form-group">
      <div className="form-group-title">{title}</div>
      {own && <FieldProblems problems={own} />}
      {entries.map(([name, child]) => (
        <div key={name} className="form-entry">
          <ValueEditor
            value={child}
            path={[...path, name]}
            problems={problems}
            shown={shown}
            options={options}
            onChange={onChange}
          />
          {open && (
            <button
              type="button"
              className="button-small"
              onClick={() => onChange([...path, name], undefined)}
              aria-label={`remove ${name}`}
            >
              remove
            </button>
          )}
        </div>
      ))}
      {open && (
        <div className="form-add">
          <input
            value={newKey}
            placeholder="e.g. e2e.p99"
            aria-label={`new ${humanize(String(path.at(-1)))} key`}
            onChange={(event) => setNewKey(event.target.value)}
          />
          <button
            type="button"
            className="button-small"
            disabled={!newKey || newKey in value}
            onClick={() => {
              onChange([...path, newKey], '<10ms');
              setNewKey('');
            }}
          >
            add
          </button>
        </div>
      )}
    </div>
  );
}

function ArrayEditor({
  value,
  path,
  problems,
  shown,
  options,
  onChange,
}: EditorProps & { value: unknown[] }): React.JSX.Element {
  const key = formatPath(path);
  const own = problems.get(key);
  if (own) shown.add(key);
  return (
    <div className="form-group">
      <div className="form-group-title">
        {humanize(String(path.at(-1)))} <span className="dim">({value.length})</span>
      </div>
      {own && <FieldProblems problems={own} />}
      {value.map((item, index) => (
        <div key={index} className="form-array-item">
          <ValueEditor
            value={item}
            path={[...path, index]}
            problems={problems}
            shown={shown}
            options={options}
            onChange={onChange}
          />
          <button
            type="button"
            className="button-small"
            onClick={() =>
              onChange(
                path,
                value.filter((_item, at) => at !== index),
              )
            }
          >
            remove {humanize(String(path.at(-1))).replace(/s$/, '')} {index + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        className="button-small"
        onClick={() => onChange(path, [...value, structuredClone(value.at(-1) ?? {})])}
      >
        add
      </button>
    </div>
  );
}

function FieldEditor({ value, path, problems, shown, options, onChange }: EditorProps): React.JSX.Element {
  const id = useId();
  const key = formatPath(path);
  const name = String(path.at(-1) ?? '');
  const own = problems.get(key);
  if (own) shown.add(key);
  const choices = options.choices?.[name];
  const template = options.templates?.[name];
  const label =
    typeof path.at(-1) === 'number' ? `${humanize(String(path.at(-2)))} ${Number(path.at(-1)) + 1}` : humanize(name);
  let input: React.JSX.Element;
  if (typeof value === 'boolean') {
    input = (
      <input id={id} type="checkbox" checked={value} onChange={(event) => onChange(path, event.target.checked)} />
    );
  } else if (choices) {
    input = (
      <select
        id={id}
        value={String(value)}
        aria-invalid={own ? true : undefined}
        onChange={(event) =>
          template ? onChange(path.slice(0, -1), template(event.target.value)) : onChange(path, event.target.value)
        }
      >
        {!choices.includes(String(value)) && <option value={String(value)}>{String(value)}</option>}
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        type="text"
        inputMode={typeof value === 'number' ? 'decimal' : undefined}
        spellCheck={false}
        value={value === undefined || value === null ? '' : String(value)}
        aria-invalid={own ? true : undefined}
        aria-describedby={own ? `${id}-problem` : undefined}
        data-path={key}
        onChange={(event) => onChange(path, typed(value, event.target.value))}
      />
    );
  }
  return (
    <div className={`form-field ${own ? 'invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {input}
      {options.hints?.[name] && <span className="form-hint">{options.hints[name]}</span>}
      {own && <FieldProblems id={`${id}-problem`} problems={own} />}
    </div>
  );
}

function FieldProblems({ problems, id }: { problems: string[]; id?: string }): React.JSX.Element {
  return (
    <div className="field-problem" role="alert" id={id}>
      {problems.join('; ')}
    </div>
  );
}

/** Keeps a number a number while the text parses as one; otherwise the text as typed. */
function typed(previous: unknown, text: string): unknown {
  if (typeof previous === 'number' || previous === undefined) {
    const trimmed = text.trim();
    if (trimmed !== '' && /^-?\d*\.?\d+(e[+-]?\d+)?$/i.test(trimmed)) return Number(trimmed);
  }
  return text;
}

/** `cooldownMs` → "cooldown ms", `rate_limited_user` → "rate limited user". */
export function humanize(key: string): string {
  return key
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/\bMs\b/g, 'ms')
    .toLowerCase();
}

/** Problems whose field the form does not show (a missing key, a check across fields). */
export function ProblemList({ problems }: { problems: Map<string, string[]> }): React.JSX.Element | null {
  if (problems.size === 0) return null;
  return (
    <ul className="problem-list" aria-label="problems">
      {[...problems].map(([path, messages]) => (
        <li key={path}>
          <code>{path || '(document)'}</code> {messages.join('; ')}
        </li>
      ))}
    </ul>
  );
}

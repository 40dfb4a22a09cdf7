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
    problems.set(key, [...(problems.get(key) ?? []), plainProblem(issue.message)]);
  }
  return problems;
}

/** zod's generic wording in plain words; the schemas' own messages are plain already and pass through. */
export function plainProblem(message: string): string {
  const rules: [RegExp, (match: RegExpExecArray) => string][] = [
    [/^Too small: expected string to have >=?1 characters?$/, () => 'must not be empty'],
    [/^Too small: expected string to have >=?(\d+) characters$/, (m) => `needs at least ${m[1]} characters`],
    [/^Too big: expected string to have <=?(\d+) characters$/, (m) => `at most ${m[1]} characters`],
    [/^Too small: expected number to be >=?(-?[\d.]+)$/, (m) => `must be at least ${m[1]}`],
    [/^Too small: expected number to be >(-?[\d.]+)$/, (m) => `must be above ${m[1]}`],
    [/^Too big: expected number to be <=?(-?[\d.]+)$/, (m) => `must be at most ${m[1]}`],
    [/^Too big: expected number to be <(-?[\d.]+)$/, (m) => `must be below ${m[1]}`],
    [/^Too small: expected array to have >=?(\d+) items?$/, (m) => `needs at least ${m[1]} entries`],
    [/^Invalid input: expected (\w+), received undefined$/, (m) => `missing: expected ${article(m[1] ?? '')}`],
    [
      /^Invalid input: expected (\w+), received (\w+)$/,
      (m) => `expected ${article(m[1] ?? '')}, not ${article(m[2] ?? '')}`,
    ],
    [
      /^Invalid option: expected one of (.+)$/,
      (m) => `expected one of ${(m[1] ?? '').replace(/"/g, '').split('|').join(', ')}`,
    ],
    [/^Unrecognized keys?: (.+)$/, (m) => `not a field cvlab knows: ${(m[1] ?? '').replace(/"/g, '')}`],
  ];
  for (const [pattern, words] of rules) {
    const match = pattern.exec(message);
    if (match) return words(match);
  }
  return message;
}

function article(type: string): string {
  if (type === 'int') return 'a whole number';
  if (type === 'nan') return 'a number';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
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
  /** Arrays of like objects shown as one table, a row per item (the rig's variables). */
  tables?: readonly string[];
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
  if (Array.isArray(value) && options.tables?.includes(String(path.at(-1))))
    return <ArrayTable value={value} path={path} problems={problems} options={options} onChange={onChange} />;
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
            remove this {humanize(String(path.at(-1))).replace(/s$/, '')}
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
export function typed(previous: unknown, text: string): unknown {
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
export function ProblemList({
  problems,
  describe,
}: {
  problems: Map<string, string[]>;
  /** The field's name in the page's own words (the rig's variables are numbered from 1). */
  describe?: (path: string) => string;
}): React.JSX.Element | null {
  if (problems.size === 0) return null;
  return (
    <ul className="problem-list" aria-label="problems">
      {[...problems].map(([path, messages]) => (
        <li key={path}>
          {describe ? <strong>{describe(path)}</strong> : <code>{path || '(document)'}</code>}
          {describe ? ': ' : ' '}
          {messages.join('; ')}
        </li>
      ))}
    </ul>
  );
}

/** The columns of a table of like objects: each key, and each key of a nested object (`out.min`). */
function tableColumns(items: readonly unknown[]): Path[] {
  const columns: Path[] = [];
  const seen = new Set<string>();
  const add = (column: Path): void => {
    const key = column.join('.');
    if (!seen.has(key)) {
      seen.add(key);
      columns.push(column);
    }
  };
  for (const item of items) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    for (const [key, child] of Object.entries(item)) {
      if (child !== null && typeof child === 'object' && !Array.isArray(child))
        for (const inner of Object.keys(child)) add([key, inner]);
      else add([key]);
    }
  }
  return columns;
}

function getIn(value: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (current, key) =>
      current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key as string] : undefined,
    value,
  );
}

/** An array of like objects as a table: one row per item, one column per field, problems on the cell. */
function ArrayTable({
  value,
  path,
  problems,
  options,
  onChange,
}: Omit<EditorProps, 'shown'> & { value: unknown[] }): React.JSX.Element {
  const columns = tableColumns(value);
  const noun = humanize(String(path.at(-1))).replace(/s$/, '');
  const rowProblems = [...problems].filter(([key]) => key.startsWith(`${formatPath(path)}[`));
  return (
    <div className="form-group form-table">
      <div className="form-group-title">
        {humanize(String(path.at(-1)))} <span className="dim">({value.length})</span>
      </div>
      <div className="table-scroll">
        <table className="data-table edit-table" aria-label={humanize(String(path.at(-1)))}>
          <thead>
            <tr>
              <th>#</th>
              {columns.map((column) => (
                <th key={column.join('.')}>{column.map((part) => humanize(String(part))).join(' ')}</th>
              ))}
              <th aria-label="actions" />
            </tr>
          </thead>
          <tbody>
            {value.map((item, index) => (
              <tr key={index}>
                <td className="numeric">{index + 1}</td>
                {columns.map((column) => (
                  <TableCell
                    key={column.join('.')}
                    value={getIn(item, column)}
                    path={[...path, index, ...column]}
                    problems={problems}
                    options={options}
                    onChange={onChange}
                  />
                ))}
                <td>
                  <button
                    type="button"
                    className="button-small"
                    aria-label={`remove ${noun} ${index + 1}`}
                    title={`remove ${noun} ${index + 1}`}
                    onClick={() =>
                      onChange(
                        path,
                        value.filter((_item, at) => at !== index),
                      )
                    }
                  >
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rowProblems.length > 0 && (
        <ul className="problem-list" aria-label={`${noun} problems`}>
          {rowProblems.map(([key, messages]) => (
            <li key={key}>
              <code>{key}</code> {messages.join('; ')}
            </li>
          ))}
        </ul>
      )}
      <button
        type="button"
        className="button-small"
        onClick={() => onChange(path, [...value, structuredClone(value.at(-1) ?? {})])}
      >
        add {noun}
      </button>
    </div>
  );
}

function TableCell({
  value,
  path,
  problems,
  options,
  onChange,
}: {
  value: unknown;
  path: Path;
  problems: Map<string, string[]>;
  options: DocumentFormOptions;
  onChange(path: Path, next: unknown): void;
}): React.JSX.Element {
  const key = formatPath(path);
  const name = String(path.at(-1));
  const own = problems.get(key);
  const choices = options.choices?.[name];
  const label = `${key}`;
  let input: React.JSX.Element;
  if (typeof value === 'boolean') {
    input = (
      <input
        type="checkbox"
        aria-label={label}
        checked={value}
        onChange={(event) => onChange(path, event.target.checked)}
      />
    );
  } else if (choices) {
    input = (
      <select
        aria-label={label}
        value={String(value ?? '')}
        aria-invalid={own ? true : undefined}
        onChange={(event) => onChange(path, event.target.value)}
      >
        {!choices.includes(String(value ?? '')) && <option value={String(value ?? '')}>{String(value ?? '')}</option>}
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  } else if (Array.isArray(value)) {
    // A short list (an enum's values) as comma-separated words.
    input = (
      <input
        type="text"
        aria-label={label}
        data-path={key}
        value={value.join(', ')}
        aria-invalid={own ? true : undefined}
        onChange={(event) =>
          onChange(
            path,
            event.target.value
              .split(',')
              .map((part) => part.trim())
              .filter(Boolean),
          )
        }
      />
    );
  } else {
    input = (
      <input
        type="text"
        aria-label={label}
        data-path={key}
        spellCheck={false}
        size={Math.max(3, Math.min(20, String(value ?? '').length + 1))}
        inputMode={typeof value === 'number' ? 'decimal' : undefined}
        value={value === undefined || value === null ? '' : String(value)}
        aria-invalid={own ? true : undefined}
        onChange={(event) =>
          onChange(
            path,
            event.target.value === '' && value === undefined ? undefined : typed(value, event.target.value),
          )
        }
      />
    );
  }
  return (
    <td className={own ? 'invalid' : ''} title={own?.join('; ')}>
      {input}
    </td>
  );
}

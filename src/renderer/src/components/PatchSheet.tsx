import { formatPath } from '../../../shared/format-issues';
import { typed } from './DocumentForm';

type Variable = Record<string, unknown> & { out?: Record<string, unknown> };
type Path = (string | number)[];

/** What each field of a variable means on the rack, shown as the field's tooltip. */
const FIELD_HELP: Readonly<Record<string, string>> = {
  name: 'What viewers type in chat: "hue=0.4", "!hue 0.4".',
  kind: 'float: any number in the range; int: whole numbers; bool: on/off; enum: one of the named values.',
  drives: 'What this variable moves on the rack: the module and input its CV goes to, and what the picture does.',
  min: 'Lowest value a viewer may send, in the variable’s own units.',
  max: 'Highest value a viewer may send, in the variable’s own units.',
  default: 'The value the rig starts from (and "reset" returns to).',
  values: 'The names a viewer may type; each is sent as its position scaled onto the output range.',
  'out.min': 'What the converter outputs for the lowest value (V: volts at the CV output; norm: 0…1 of the converter’s range).',
  'out.max': 'What the converter outputs for the highest value.',
  'out.unit': 'V: the converter’s output in volts (LZX patch level is 0–1 V; Gen3 also ±1 V, ±2 V); norm: 0…1 of its range.',
  address: 'The OSC address the converter listens on for this CV output.',
  clamp: 'On: a value outside the range is set to the nearest end. Off: it is rejected (out_of_range).',
  cooldownMs: 'Shortest time between two accepted changes of this variable, whoever sends them (ms; 0 = none).',
  test: 'The loop-back probe’s variable: its square wave is measured at the CV output. Viewers never send it during a probe run.',
};

/** "variables[2].out.max" → "variable 3 (zoom), out max": rows are numbered from 1, as the sheet shows them. */
export function describeVariablePath(path: string, variables: readonly unknown[]): string {
  const match = /^variables\[(\d+)\](?:\.(.+))?$/.exec(path);
  if (!match) return path;
  const index = Number(match[1]);
  const name = (variables[index] as Variable | undefined)?.['name'];
  const field = match[2]?.replace('.', ' ').replace('cooldownMs', 'cooldown');
  return `variable ${index + 1}${typeof name === 'string' && name ? ` (${name})` : ''}${field ? `, ${field}` : ''}`;
}

interface PatchSheetProps {
  variables: readonly unknown[];
  problems: Map<string, string[]>;
  onChange(path: Path, next: unknown): void;
}

/**
 * The rig's variables as a patch sheet: one numbered block per variable — what viewers type, what
 * it drives, its range and what the converter outputs for it, its OSC address, limits and the
 * probe's test variable — wrapping instead of scrolling sideways.
 */
export function PatchSheet({ variables, problems, onChange }: PatchSheetProps): React.JSX.Element {
  const field = (
    index: number,
    path: Path,
    label: string,
    options: { width?: number; help?: string; type?: 'text' | 'checkbox' | 'select'; choices?: readonly string[]; unit?: string } = {},
  ): React.JSX.Element => {
    const variable = variables[index] as Variable;
    const fullPath: Path = ['variables', index, ...path];
    const key = formatPath(fullPath);
    const value = path.reduce<unknown>((current, part) => (current as Record<string, unknown> | undefined)?.[part], variable);
    const own = problems.get(key);
    const help = options.help ?? FIELD_HELP[path.join('.')];
    let input: React.JSX.Element;
    if (options.type === 'checkbox') {
      input = <input type="checkbox" data-path={key} checked={value === true} onChange={(event) => onChange(fullPath, event.target.checked)} />;
    } else if (options.type === 'select') {
      input = (
        <select data-path={key} value={String(value ?? '')} aria-invalid={own ? true : undefined} onChange={(event) => onChange(fullPath, event.target.value)}>
          {!options.choices?.includes(String(value ?? '')) && <option value={String(value ?? '')}>{String(value ?? '')}</option>}
          {options.choices?.map((choice) => (
            <option key={choice}>{choice}</option>
          ))}
        </select>
      );
    } else if (Array.isArray(value)) {
      input = (
        <input
          type="text"
          data-path={key}
          style={{ width: `${options.width ?? 14}ch` }}
          value={value.join(', ')}
          aria-invalid={own ? true : undefined}
          onChange={(event) =>
            onChange(
              fullPath,
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
          data-path={key}
          spellCheck={false}
          style={{ width: `${options.width ?? 6}ch` }}
          inputMode={typeof value === 'number' ? 'decimal' : undefined}
          // A cooldown left out is none.
          placeholder={path[0] === 'cooldownMs' ? '0' : undefined}
          value={value === undefined || value === null ? '' : String(value)}
          aria-invalid={own ? true : undefined}
          onChange={(event) => onChange(fullPath, event.target.value === '' && value === undefined ? undefined : typed(value, event.target.value))}
        />
      );
    }
    return (
      <label className={`patch-field${own ? ' invalid' : ''}`} title={[help, ...(own ?? [])].filter(Boolean).join('\n')}>
        <span className="patch-label">{label}</span>
        <span className="patch-input">
          {input}
          {options.unit && <span className="dim"> {options.unit}</span>}
        </span>
      </label>
    );
  };

  return (
    <div className="form-group patch-sheet">
      <div className="form-group-title">
        Patch sheet: {variables.length} variables{' '}
        <span className="dim">(hover a field for what it means on the rack)</span>
      </div>
      <ol className="patch-rows" aria-label="variables">
        {variables.map((item, index) => {
          const variable = (item ?? {}) as Variable;
          const kind = String(variable['kind'] ?? '');
          const unit = String(variable.out?.['unit'] ?? '');
          const rowProblems = [...problems].filter(([key]) => key === `variables[${index}]` || key.startsWith(`variables[${index}].`));
          return (
            <li key={index} className={`patch-row${rowProblems.length ? ' invalid' : ''}`} aria-label={`variable ${index + 1}`}>
              <div className="patch-number" aria-hidden="true">
                {index + 1}
              </div>
              <div className="patch-fields">
                <div className="patch-line">
                  {field(index, ['name'], 'chat name', { width: 10 })}
                  {field(index, ['kind'], 'kind', { type: 'select', choices: ['float', 'int', 'bool', 'enum'] })}
                  {field(index, ['drives'], 'drives on the rack', { width: 34 })}
                  {field(index, ['test'], 'probe test', { type: 'checkbox' })}
                </div>
                <div className="patch-line">
                  {kind === 'enum'
                    ? field(index, ['values'], 'values', { width: 26 })
                    : kind === 'bool'
                      ? null
                      : [
                          <span key="min">{field(index, ['min'], 'from')}</span>,
                          <span key="max">{field(index, ['max'], 'to')}</span>,
                        ]}
                  {field(index, ['default'], 'default', { width: kind === 'enum' ? 9 : 6 })}
                  <span className="patch-arrow" aria-hidden="true">
                    →
                  </span>
                  {field(index, ['out', 'min'], kind === 'bool' ? 'off sends' : 'out from', { unit })}
                  {field(index, ['out', 'max'], kind === 'bool' ? 'on sends' : 'out to', { unit })}
                  {field(index, ['out', 'unit'], 'unit', { type: 'select', choices: ['V', 'norm'] })}
                </div>
                <div className="patch-line">
                  {field(index, ['address'], 'OSC address', { width: 24 })}
                  {kind !== 'bool' && kind !== 'enum' && field(index, ['clamp'], 'clamp', { type: 'checkbox' })}
                  {field(index, ['cooldownMs'], 'cooldown', { unit: 'ms' })}
                </div>
                {rowProblems.length > 0 && (
                  <ul className="problem-list" aria-label={`variable ${index + 1} problems`}>
                    {rowProblems.map(([key, messages]) => (
                      <li key={key}>
                        <strong>{describeVariablePath(key, variables)}</strong>: {messages.join('; ')}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
              <button
                type="button"
                className="button-small patch-remove"
                aria-label={`remove variable ${index + 1}`}
                title={`remove variable ${index + 1}`}
                onClick={() =>
                  onChange(
                    ['variables'],
                    variables.filter((_item, at) => at !== index),
                  )
                }
              >
                ✕
              </button>
            </li>
          );
        })}
      </ol>
      <button type="button" className="button-small" onClick={() => onChange(['variables'], [...variables, structuredClone(variables.at(-1) ?? {})])}>
        add variable
      </button>
    </div>
  );
}

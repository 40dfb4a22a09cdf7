import { ScenarioSchema } from '../../shared/scenario';

/**
 * A scenario file as the editor shows it: every parameter the schema would default filled in,
 * while what the technician wrote stays as written ("30s" stays "30s", not 30000).
 */
export function scenarioDraft(content: unknown): unknown {
  const parsed = ScenarioSchema.safeParse(content);
  if (!parsed.success || typeof content !== 'object' || content === null) return content;
  return mergeInput(parsed.data, content);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeInput(defaults: unknown, input: unknown): unknown {
  if (isRecord(defaults) && isRecord(input)) {
    const merged: Record<string, unknown> = { ...defaults };
    for (const [key, value] of Object.entries(input)) merged[key] = mergeInput(merged[key], value);
    return merged;
  }
  return input === undefined ? defaults : input;
}

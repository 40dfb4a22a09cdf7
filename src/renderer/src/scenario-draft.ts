import type { LabFile } from '../../shared/api';
import { ScenarioSchema, type Scenario } from '../../shared/scenario';

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

/**
 * The scenario being edited: where it came from, the technician's draft (maybe invalid), and
 * the file's content as opened, so an edited draft is known as one.
 */
export interface ScenarioDraft {
  file: LabFile | null;
  draft: unknown;
  /** The file's content when it was opened (null: a draft with no file). */
  saved: unknown;
}

/** True when the draft differs from the file it came from (or has no file). */
export function scenarioModified(scenario: ScenarioDraft): boolean {
  return scenario.saved === null || JSON.stringify(scenario.draft) !== JSON.stringify(scenario.saved);
}

/**
 * The scenario a run starts with. An edited draft that still carries its file's name runs as
 * "<name>-draft", so its result never mixes into that file's trend and baseline.
 */
export function runnableScenario(scenario: ScenarioDraft, parsed: Scenario): Scenario {
  const fileName = (scenario.saved as { name?: unknown } | null)?.name;
  if (!scenarioModified(scenario) || (scenario.saved !== null && parsed.name !== fileName)) return parsed;
  return { ...parsed, name: `${parsed.name.slice(0, 58)}-draft` };
}

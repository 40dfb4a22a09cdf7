import { ScenarioSchema } from '../../../shared/scenario';
import { formatCount } from '../format/format';

/** An axis tick: exact to three decimals, trailing zeros dropped (a quarter-second tick reads 1.25 s, not 1.3 s). */
export function trimNumber(value: number): string {
  if (Number.isInteger(value)) return formatCount(value);
  return String(Number(value.toFixed(3)));
}

/** How long the draft scenario will run, as far as its executor says (a replay's length is known at start). */
export function plannedMsOfDraft(draft: unknown): number | undefined {
  const parsed = ScenarioSchema.safeParse(draft);
  if (!parsed.success) return undefined;
  const executor = parsed.data.executor as { type: string; duration?: number; window?: number; stages?: readonly { duration: number }[] };
  if (executor.type === 'burst') return executor.window;
  if (executor.stages) return executor.stages.reduce((total, stage) => total + stage.duration, 0);
  return executor.duration;
}

import { readFile } from 'node:fs/promises';
import { AlertRulesSchema, DEFAULT_ALERT_RULES, type AlertRule } from '../../../shared/alerts';
import { parseOrThrow } from '../../../shared/format-issues';

/** The `alerts` array of a scenario file, or the default rules when it has none. */
export async function readAlertRules(path: string): Promise<AlertRule[]> {
  const data = JSON.parse(await readFile(path, 'utf8')) as { alerts?: unknown };
  return parseOrThrow(AlertRulesSchema, data.alerts ?? DEFAULT_ALERT_RULES, `scenario file ${path}: alerts`);
}

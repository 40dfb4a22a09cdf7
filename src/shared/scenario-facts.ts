import { parseDurationMs } from './scenario';

/** The two settings of a scenario whose names need explaining wherever a run is shown: its executor, and its abort grace when it aborts on a broken threshold. */
export interface ScenarioFacts {
  /** e.g. `constant-arrival-rate`; null when the scenario names none (an old report). */
  readonly executor: string | null;
  /** e.g. `1 s`; null when the run does not abort on fail. */
  readonly abortGrace: string | null;
}

/** Reads them from a scenario as saved or drafted (unparsed: a report's copy may be old). */
export function scenarioFacts(scenario: unknown): ScenarioFacts {
  const record = (typeof scenario === 'object' && scenario !== null ? scenario : {}) as { executor?: { type?: unknown }; abortOnFail?: unknown; abortGrace?: unknown };
  const executor = typeof record.executor?.type === 'string' ? record.executor.type : null;
  const graceMs = typeof record.abortGrace === 'number' || typeof record.abortGrace === 'string' ? parseDurationMs(record.abortGrace) : 1000;
  const abortGrace = record.abortOnFail === true && graceMs !== undefined ? (graceMs >= 1000 ? `${graceMs / 1000} s` : `${graceMs} ms`) : null;
  return { executor, abortGrace };
}

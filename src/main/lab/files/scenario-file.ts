import { ScenarioSchema, type Scenario } from '../../../shared/scenario';
import { readJsonFile } from './json-file';

/** Loads and validates a scenario file; a ValidationError names the file and each bad field. */
export function loadScenario(path: string): Promise<Scenario> {
  return readJsonFile(path, ScenarioSchema, 'scenario file');
}

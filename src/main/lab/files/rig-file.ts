import { parseOrThrow } from '../../../shared/format-issues';
import { RigSchema, type RigConfig } from '../../../shared/rig';
import { readJsonFile, writeJsonFile } from './json-file';
import { demoRigPath } from './paths';

/** Loads and validates a rig file; without a path, the built-in demo rig. */
export function loadRig(path: string = demoRigPath()): Promise<RigConfig> {
  return readJsonFile(path, RigSchema, 'rig file');
}

/** Validates and saves a rig file. */
export async function saveRig(path: string, rig: unknown): Promise<RigConfig> {
  const parsed = parseOrThrow(RigSchema, rig, `rig for ${path}`);
  await writeJsonFile(path, parsed);
  return parsed;
}

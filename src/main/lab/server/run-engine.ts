import type { RunEngine } from '../lab';

/** The load engine the Lab drives; undefined while this build has none. */
export async function createRunEngine(): Promise<RunEngine | undefined> {
  return undefined;
}

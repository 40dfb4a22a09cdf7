import { BadInputError } from '../../../shared/exit-codes';
import type { Queryable } from './database';

/** The `baselines` table: at most one baseline run per rig and scenario. */
export class BaselineRepository {
  constructor(private readonly database: Queryable) {}

  /** Makes `runId` the baseline of its own rig and scenario, replacing any earlier one. */
  async mark(runId: string): Promise<{ rig: string; scenario: string }> {
    const rows = await this.database.query<{ rig: string; scenario: string }>(
      `INSERT INTO baselines (rig, scenario, run_id, marked_at) SELECT rig, scenario, id, now() FROM runs WHERE id = $1
       ON CONFLICT (rig, scenario) DO UPDATE SET run_id = excluded.run_id, marked_at = excluded.marked_at
       RETURNING rig, scenario`,
      [runId],
    );
    const row = rows[0];
    if (!row) throw new BadInputError(`No saved run has the id "${runId}"; expected an id from \`cvlab runs\`.`);
    return row;
  }

  /** The baseline run id of a rig and scenario, if one is marked. */
  async get(rig: string, scenario: string): Promise<string | undefined> {
    const rows = await this.database.query<{ run_id: string }>('SELECT run_id FROM baselines WHERE rig = $1 AND scenario = $2', [rig, scenario]);
    return rows[0]?.run_id;
  }

  async clear(rig: string, scenario: string): Promise<void> {
    await this.database.query('DELETE FROM baselines WHERE rig = $1 AND scenario = $2', [rig, scenario]);
  }
}

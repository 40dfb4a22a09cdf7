import type { LabNote } from '../../../shared/report';
import type { Queryable } from './database';
import { epochMs } from './run-repository';

/** The `notes` table: the lab notebook — what the technician changed, on a run or a loop-back measurement. */
export class NoteRepository {
  constructor(private readonly database: Queryable) {}

  /** Adds a note (text and tags) to a run or a loop-back measurement. */
  async add(kind: LabNote['kind'], subject: string, text: string, tags: readonly string[]): Promise<LabNote> {
    const [row] = await this.database.query<{ at_ms: number }>(
      `INSERT INTO notes (kind, subject, text, tags) VALUES ($1, $2, $3, $4::text[]) RETURNING ${epochMs('at')} AS at_ms`,
      [kind, subject, text, tags],
    );
    return { kind, subject, atMs: row?.at_ms ?? Date.now(), text, tags: [...tags] };
  }

  /** The notes of these subjects, oldest first. */
  async listFor(subjects: readonly string[]): Promise<LabNote[]> {
    if (subjects.length === 0) return [];
    const rows = await this.database.query<{ kind: LabNote['kind']; subject: string; at_ms: number; text: string; tags: string[] }>(
      `SELECT kind, subject, ${epochMs('at')} AS at_ms, text, tags FROM notes WHERE subject = ANY($1::text[]) ORDER BY at, id`,
      [subjects],
    );
    return rows.map((row) => ({ kind: row.kind, subject: row.subject, atMs: row.at_ms, text: row.text, tags: row.tags }));
  }

  /** Subjects that carry a tag. */
  async subjectsTagged(tag: string): Promise<Set<string>> {
    const rows = await this.database.query<{ subject: string }>(`SELECT DISTINCT subject FROM notes WHERE $1 = ANY(tags)`, [tag]);
    return new Set(rows.map((row) => row.subject));
  }
}

import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunStatus } from '../../../shared/report';
import type { Database } from './database';
import { HistogramRepository, type StoredHistogram } from './histogram-repository';
import { IntervalRepository, type StoredInterval } from './interval-repository';
import { RunRepository, type NewRun } from './run-repository';

/** How a run ends in the `runs` table. */
export interface RunFinish {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly endedAtMs: number;
  readonly summary: Record<string, unknown> | null;
  readonly e2eP99Ms: number | null;
  readonly intervalCount: number;
}

/** Everything the end of one run writes, kept on disk until the database has it. */
export interface RunJournalEntry {
  readonly formatVersion: 1;
  readonly runId: string;
  /** The run row, for a run whose start never reached the database. */
  readonly run: NewRun | null;
  /** Frames not yet saved. */
  readonly intervals: readonly StoredInterval[];
  readonly histograms: readonly StoredHistogram[];
  readonly finish: RunFinish;
}

const ENTRY_NAME = /^run-(.+)\.json$/;

/**
 * A folder of per-run journal files (one database's): the end of a run is written here first
 * (fsync'd), then to the database, and removed once the database has it. A run that ended
 * while the database was down keeps its summary here until a retry or the next open writes it.
 */
export class RunJournal {
  constructor(readonly dir: string) {}

  pathOf(runId: string): string {
    return join(this.dir, `run-${runId.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  }

  /** Writes the entry durably (a temp file, fsync, rename); returns its path. */
  async write(entry: RunJournalEntry): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const path = this.pathOf(entry.runId);
    const temporary = `${path}.${process.pid}.tmp`;
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(JSON.stringify(entry));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    return path;
  }

  async remove(runId: string): Promise<void> {
    await unlink(this.pathOf(runId)).catch(() => undefined);
  }

  /** Writes one entry in one transaction: the run row if missing, its frames, histograms and end. */
  static async apply(database: Database, entry: RunJournalEntry): Promise<void> {
    await database.transaction(async (transaction) => {
      const runs = new RunRepository(transaction);
      if (entry.run && !(await runs.get(entry.runId))) await runs.insert(entry.run);
      await new IntervalRepository(transaction).append(entry.runId, entry.intervals);
      await new HistogramRepository(transaction).save(entry.runId, entry.histograms);
      await runs.finish(entry.runId, entry.finish);
    });
  }

  /** Writes every journaled run into `database` and removes its file; returns the run ids written. */
  async replayInto(database: Database): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const written: string[] = [];
    for (const name of names.filter((candidate) => ENTRY_NAME.test(candidate)).sort()) {
      let entry: RunJournalEntry;
      try {
        entry = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as RunJournalEntry;
      } catch {
        // Unreadable (a torn write is impossible through rename; a hand edit is not): keep it aside.
        await rename(join(this.dir, name), join(this.dir, `${name}.unreadable`)).catch(() => undefined);
        continue;
      }
      await RunJournal.apply(database, entry);
      await unlink(join(this.dir, name)).catch(() => undefined);
      written.push(entry.runId);
    }
    return written;
  }
}

import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { spoolKeyOf } from './database-key';
import type { Database } from './database';
import { AlertRepository } from './alert-repository';
import { AuditRepository } from './audit-repository';
import { BaselineRepository } from './baseline-repository';
import { HistogramRepository } from './histogram-repository';
import { IntervalRepository } from './interval-repository';
import { LoopbackRepository } from './loopback-repository';
import { NoteRepository } from './note-repository';
import { applyMigrations } from './migrations';
import { PgDatabase } from './pg-database';
import { PgliteDatabase } from './pglite-database';
import { RunJournal } from './run-journal';
import { RunRepository } from './run-repository';

export interface StoreOptions {
  /** postgres://… (the rig's `databaseUrl` or DATABASE_URL). Absent: embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's folder; default `${XDG_DATA_HOME:-~/.local/share}/cvlab/db`. `memory` keeps it in memory. */
  readonly dataDir?: string | undefined;
  /** PostgreSQL schema to work in (tests); default the connection's search_path. */
  readonly schema?: string | undefined;
  /** A run whose heartbeat is older than this when the store opens is marked aborted. */
  readonly staleRunMs?: number;
  /**
   * Folder of the run journals (ends of runs the database did not take yet), one sub-folder
   * per database; default `journal` beside the PGlite folder; null: none (in-memory stores).
   */
  readonly journalDir?: string | null;
}

/** The journal folder of the database `options` names, or undefined for an in-memory store. */
export function journalDirOf(options: StoreOptions): string | undefined {
  if (options.journalDir === null) return undefined;
  const url = options.databaseUrl ?? (options.dataDir ? undefined : process.env['DATABASE_URL']);
  if (!url && options.dataDir === 'memory') return undefined;
  const root = options.journalDir ?? join(dirname(options.dataDir && options.dataDir !== 'memory' ? options.dataDir : defaultDataDir()), 'journal');
  return join(root, spoolKeyOf(url, options.schema));
}

/** The default PGlite folder, following the XDG base directory rules. */
export function defaultDataDir(environment: NodeJS.ProcessEnv = process.env): string {
  const base = environment['XDG_DATA_HOME'] || join(homedir(), '.local', 'share');
  return join(base, 'cvlab', 'db');
}

/**
 * Picks the backend: pg when a database URL is named (the option, else DATABASE_URL unless a
 * data folder was asked for explicitly), otherwise PGlite.
 */
export function createDatabase(options: StoreOptions): Database {
  const url = options.databaseUrl ?? (options.dataDir ? undefined : process.env['DATABASE_URL']);
  if (url) return new PgDatabase({ connectionString: url, ...(options.schema ? { schema: options.schema } : {}) });
  const dataDir = options.dataDir ?? defaultDataDir();
  return new PgliteDatabase(dataDir === 'memory' ? undefined : dataDir);
}

/** Everything saved: runs and their intervals, histograms, alerts, loop-back results, baselines, audit. */
export class Store {
  readonly runs: RunRepository;
  readonly intervals: IntervalRepository;
  readonly histograms: HistogramRepository;
  readonly alerts: AlertRepository;
  readonly loopback: LoopbackRepository;
  readonly notes: NoteRepository;
  readonly baselines: BaselineRepository;
  readonly audit: AuditRepository;

  /** Where this store's run journal lives (undefined: no journal, e.g. in memory). */
  readonly journal: RunJournal | undefined;

  private constructor(
    readonly database: Database,
    journalDir?: string,
  ) {
    this.journal = journalDir ? new RunJournal(journalDir) : undefined;
    this.runs = new RunRepository(database);
    this.intervals = new IntervalRepository(database);
    this.histograms = new HistogramRepository(database);
    this.alerts = new AlertRepository(database);
    this.loopback = new LoopbackRepository(database);
    this.notes = new NoteRepository(database);
    this.baselines = new BaselineRepository(database);
    this.audit = new AuditRepository(database);
  }

  /**
   * Opens the database, applies pending migrations and marks runs left `running` by a dead
   * process as aborted. Call it on first use: PGlite takes seconds to open.
   */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const database = createDatabase(options);
    try {
      return await Store.over(database, options.staleRunMs, journalDirOf(options));
    } catch (error) {
      await database.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * A store over an already created database (migrated and recovered here): runs journaled
   * while the database was away are written first, so they are not taken for dead ones.
   */
  static async over(database: Database, staleRunMs = 5_000, journalDir?: string): Promise<Store> {
    await applyMigrations(database);
    const store = new Store(database, journalDir);
    await store.journal?.replayInto(database);
    await store.runs.abortStale(Date.now(), staleRunMs);
    return store;
  }

  async close(): Promise<void> {
    await this.database.close();
  }
}

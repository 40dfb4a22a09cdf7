import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Database } from './database';
import { AlertRepository } from './alert-repository';
import { AuditRepository } from './audit-repository';
import { BaselineRepository } from './baseline-repository';
import { HistogramRepository } from './histogram-repository';
import { IntervalRepository } from './interval-repository';
import { LoopbackRepository } from './loopback-repository';
import { applyMigrations } from './migrations';
import { PgDatabase } from './pg-database';
import { PgliteDatabase } from './pglite-database';
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
  readonly baselines: BaselineRepository;
  readonly audit: AuditRepository;

  private constructor(readonly database: Database) {
    this.runs = new RunRepository(database);
    this.intervals = new IntervalRepository(database);
    this.histograms = new HistogramRepository(database);
    this.alerts = new AlertRepository(database);
    this.loopback = new LoopbackRepository(database);
    this.baselines = new BaselineRepository(database);
    this.audit = new AuditRepository(database);
  }

  /**
   * Opens the database, applies pending migrations and marks runs left `running` by a dead
   * process as aborted. Call it on first use: PGlite takes seconds to open.
   */
  static async open(options: StoreOptions = {}): Promise<Store> {
    return Store.over(createDatabase(options), options.staleRunMs);
  }

  /** A store over an already created database (migrated and recovered here). */
  static async over(database: Database, staleRunMs = 5_000): Promise<Store> {
    await applyMigrations(database);
    const store = new Store(database);
    await store.runs.abortStale(Date.now(), staleRunMs);
    return store;
  }

  async close(): Promise<void> {
    await this.database.close();
  }
}

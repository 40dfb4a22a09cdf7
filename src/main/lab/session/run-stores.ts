import { dirname, join } from 'node:path';
import type { RigConfig } from '../../../shared/rig';
import { defaultDataDir } from '../store/store';
import { ReportService } from '../report/report-service';
import { StoreProvider } from '../store/store-provider';

/** Where runs are saved, as the host was told: flags and the environment. */
export interface RunStoresOptions {
  /** A PostgreSQL named explicitly (`--database-url`): wins over the rig's. */
  readonly databaseUrl?: string | undefined;
  /** The PostgreSQL to use when neither the host nor the rig names one (DATABASE_URL). */
  readonly defaultDatabaseUrl?: string | undefined;
  /** The embedded database's folder when no PostgreSQL is named ('memory': none on disk). */
  readonly dataDir?: string | undefined;
}

/**
 * The stores runs are saved to, one per database: the rig's `databaseUrl` picks its own
 * PostgreSQL unless the host named one, else the default (DATABASE_URL, else the embedded
 * database). Each opens on first use. Reports of a rig come from the same place as its runs.
 */
export class RunStores {
  private readonly providers = new Map<string, StoreProvider>();

  private constructor(
    private readonly options: RunStoresOptions,
    private readonly fixed: StoreProvider | undefined,
  ) {}

  /** Stores chosen from the host's flags and each run's rig. */
  static choose(options: RunStoresOptions = {}): RunStores {
    return new RunStores(options, undefined);
  }

  /** Every run goes to this one store whatever its rig says (tests, benchmarks). */
  static fixed(provider: StoreProvider): RunStores {
    return new RunStores({}, provider);
  }

  /** The PostgreSQL a run of this rig is saved to; undefined: the embedded database. */
  databaseUrlFor(rig?: Pick<RigConfig, 'databaseUrl'>): string | undefined {
    if (this.fixed) return undefined;
    return this.options.databaseUrl ?? rig?.databaseUrl ?? this.options.defaultDatabaseUrl;
  }

  /** The store a run of this rig is saved to (the default one without a rig). */
  providerFor(rig?: Pick<RigConfig, 'databaseUrl'>): StoreProvider {
    if (this.fixed) return this.fixed;
    const databaseUrl = this.databaseUrlFor(rig);
    const key = databaseUrl ?? '';
    let provider = this.providers.get(key);
    if (!provider) {
      provider = new StoreProvider(databaseUrl !== undefined ? { databaseUrl } : { ...(this.options.dataDir !== undefined ? { dataDir: this.options.dataDir } : {}) });
      this.providers.set(key, provider);
    }
    return provider;
  }

  /** Saved runs, reports, baselines and comparisons of the store a rig's runs go to. */
  reportsFor(rig?: Pick<RigConfig, 'databaseUrl'>): ReportService {
    return new ReportService(this.providerFor(rig));
  }

  /** The audit log's spool folder beside the embedded database's (the default one when none is named). */
  static spoolDir(dataDir?: string): string {
    return join(dirname(dataDir && dataDir !== 'memory' ? dataDir : defaultDataDir()), 'spool');
  }

  /** Closes every store opened. */
  async close(): Promise<void> {
    await Promise.all([...this.providers.values(), ...(this.fixed ? [this.fixed] : [])].map((provider) => provider.close()));
  }
}

import { Store, type StoreOptions } from './store';

/**
 * Opens the store on first use and hands the same one to every caller afterwards, so a
 * console that never looks at reports never pays for PGlite.
 */
export class StoreProvider {
  private opening: Promise<Store> | undefined;

  constructor(private readonly options: StoreOptions = {}) {}

  /** The open store (opened now if this is the first call). */
  get(): Promise<Store> {
    this.opening ??= Store.open(this.options).catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  get isOpen(): boolean {
    return this.opening !== undefined;
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening) await (await opening).close();
  }
}

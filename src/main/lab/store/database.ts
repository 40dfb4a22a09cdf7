/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** One statement with `$1…` parameters; rows come back as plain objects. */
  query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** A script of several statements without parameters (migrations). */
  execute(sql: string): Promise<void>;
}

export type DatabaseKind = 'pg' | 'pglite';

/**
 * The one small query interface the store is written against, served by a `pg` pool or by
 * embedded PGlite. SQL sent through it stays in the subset both understand.
 */
export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

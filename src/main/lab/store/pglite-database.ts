import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import type { Database, Queryable } from './database';

/**
 * The process that owns PGlite. PGlite is PostgreSQL compiled to WebAssembly and runs every
 * statement synchronously on the thread that holds it. On the engine's thread a write of a few
 * interval frames stalled the event loop; in a worker thread of the same process the stalls
 * stayed (on-disk writes of a large WebAssembly memory held up the engine's thread all the
 * same: slip p99 of a 2,500 msg/s burst went from ~4 ms to over 100 ms). In a process of its
 * own they are gone. The source is inline so the same code works from src/ under tsx and from
 * the bundle in out/.
 */
const WORKER_SOURCE = `
const workerData = JSON.parse(process.argv[1]);
const parentPort = { postMessage: (message) => process.send(message), on: (event, listener) => process.on(event, listener) };
process.on('disconnect', () => process.exit(0));
let database;
async function open() {
  if (!database) {
    const { PGlite } = await import(workerData.moduleUrl);
    database = await PGlite.create(workerData.dataDir);
  }
  return database;
}
parentPort.on('message', async (request) => {
  try {
    if (request.op === 'close') {
      if (database) await database.close();
      parentPort.postMessage({ id: request.id });
      return;
    }
    const db = await open();
    if (request.op === 'exec') {
      await db.exec(request.sql);
      parentPort.postMessage({ id: request.id });
    } else {
      const result = await db.query(request.sql, request.params);
      parentPort.postMessage({ id: request.id, rows: result.rows });
    }
  } catch (error) {
    // A file-system failure inside PGlite is an ErrnoError with a WASI errno and no message.
    const errno = error && error.name === 'ErrnoError' && typeof error.errno === 'number' ? error.errno : undefined;
    parentPort.postMessage({ id: request.id, error: { message: String(error && error.message || (errno !== undefined ? 'file system error' : error)), code: error && error.code, detail: error && error.detail, errno } });
  }
});
`;

/**
 * Nice value of the database process: 19, the lowest priority, unless CVLAB_EMBEDDED_DATABASE_NICE
 * says otherwise (the test suite, which checks what is saved rather than who gets the CPU, and on
 * a machine busy with other work would otherwise wait minutes for the database to open).
 */
function backgroundPriority(environment: NodeJS.ProcessEnv = process.env): number {
  const text = environment['CVLAB_EMBEDDED_DATABASE_NICE']?.trim();
  const chosen = text ? Number(text) : Number.NaN;
  return Number.isInteger(chosen) && chosen >= -20 && chosen <= 19 ? chosen : 19;
}

interface Reply {
  id: number;
  rows?: object[];
  error?: { message: string; code?: string; detail?: string; errno?: number };
}

/** WASI's errno numbers (PGlite's file system reports them) and what each means for a data folder. */
const FILE_SYSTEM_ERRORS: Readonly<Record<number, readonly [code: string, words: string]>> = {
  2: ['EACCES', 'permission denied'],
  19: ['EDQUOT', 'the disk quota is used up'],
  29: ['EIO', 'an input/output error of the disk'],
  44: ['ENOENT', 'a file or folder is missing'],
  51: ['ENOSPC', 'no space left on the device'],
  54: ['ENOTDIR', 'a part of the path is not a folder'],
  63: ['EPERM', 'operation not permitted'],
  69: ['EROFS', 'the file system is read-only'],
};

/** An error from PGlite, with PostgreSQL's SQLSTATE code as pg reports it. */
class PgliteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'PgliteError';
  }
}

/**
 * Embedded PostgreSQL (PGlite) in a data folder, in a process of its own at low priority. Opening it takes seconds and
 * hundreds of MB, so nothing happens until the first query.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private worker: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  /** PGlite is one session: a transaction holds it, other statements wait their turn. */
  private turn: Promise<unknown> = Promise.resolve();

  /** `dataDir` undefined: an in-memory database (tests, throw-away runs). */
  constructor(readonly dataDir: string | undefined) {}

  get isOpen(): boolean {
    return this.worker !== undefined;
  }

  private start(): ChildProcess {
    if (this.worker) return this.worker;
    if (this.dataDir) mkdirSync(this.dataDir, { recursive: true });
    const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
    const worker = spawn(
      process.execPath,
      ['-e', WORKER_SOURCE, JSON.stringify({ moduleUrl, dataDir: this.dataDir })],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // Under Electron, execPath is the Electron binary: make it behave as Node.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      },
    );
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.hold(worker, false);
      waiting?.resolve(reply);
    });
    const failAll = (error: Error): void => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
      this.worker = undefined;
    };
    // Saving is background work: on a bench with two cores the database must not take the CPU
    // away from the pipeline it is recording.
    if (worker.pid !== undefined) {
      try {
        setPriority(worker.pid, backgroundPriority());
      } catch {
        // Not permitted here: it runs at normal priority.
      }
    }
    worker.on('error', (error) => failAll(new Error(`the embedded database could not start: ${error.message}`)));
    worker.on('exit', (code, signal) =>
      failAll(new Error(`the embedded database stopped (${signal ?? `exit ${code}`})`)),
    );
    this.hold(worker, false);
    return (this.worker = worker);
  }

  /** An idle database process must not keep the engine from exiting. */
  private hold(worker: ChildProcess, busy: boolean): void {
    const channel = worker.channel as { ref(): void; unref(): void } | undefined;
    if (busy) {
      worker.ref();
      channel?.ref();
    } else {
      worker.unref();
      channel?.unref();
    }
  }

  private async send(request: {
    op: 'query' | 'exec' | 'close';
    sql?: string;
    params?: readonly unknown[];
  }): Promise<Reply> {
    const worker = this.start();
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held while a statement is out, so an awaited query keeps the process alive; an idle
      // database does not keep the engine from exiting.
      this.hold(worker, true);
      worker.send({ id, ...request });
    });
    if (reply.error?.errno !== undefined) {
      const [code, words] = FILE_SYSTEM_ERRORS[reply.error.errno] ?? [`errno ${reply.error.errno}`, 'a file-system error'];
      throw new PgliteError(`the embedded database in ${this.dataDir ?? 'memory'} cannot use its files: ${words} (${code})`, code);
    }
    if (reply.error) throw new PgliteError(reply.error.message, reply.error.code, reply.error.detail);
    return reply;
  }

  private direct: Queryable = {
    query: async <Row extends object>(sql: string, params: readonly unknown[] = []) =>
      ((await this.send({ op: 'query', sql, params })).rows ?? []) as Row[],
    execute: async (sql: string) => {
      await this.send({ op: 'exec', sql });
    },
  };

  /** Runs `work` when the session is free. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work, work);
    this.turn = result.catch(() => undefined);
    return result;
  }

  query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.inTurn(() => this.direct.query<Row>(sql, params));
  }

  execute(sql: string): Promise<void> {
    return this.inTurn(() => this.direct.execute(sql));
  }

  transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T> {
    return this.inTurn(async () => {
      await this.direct.execute('BEGIN');
      try {
        const result = await work(this.direct);
        await this.direct.execute('COMMIT');
        return result;
      } catch (error) {
        await this.direct.execute('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.inTurn(() => this.send({ op: 'close' }));
    this.worker = undefined;
    worker.disconnect();
  }
}

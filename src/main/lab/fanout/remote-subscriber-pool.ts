import type { ChildProcess } from 'node:child_process';
import { spawnTied } from '../common/spawn-tied';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface RemoteSubscriberReport {
  /** Fan-out latency of every (subscriber, change), ns, compressed base64. */
  readonly histogram?: string;
  readonly received: readonly number[];
  readonly gaps: number;
  readonly outOfOrder: number;
}

/**
 * Simulated subscribers in a child process (FanoutSubscriberPool over IPC), so a measurement
 * of the fan-out is not slowed by the subscribers' own reading on the same event loop.
 * Runs from source (tsx); the built CLI keeps subscribers in-process.
 */
export class RemoteSubscriberPool {
  private constructor(private readonly child: ChildProcess) {}

  /** Whether this build can start the subscriber process (only when running from source). */
  static available(): boolean {
    return fileURLToPath(import.meta.url).endsWith('.ts');
  }

  /**
   * Starts the process and connects `count` subscribers (plus `stalled` ones that never read).
   * When connecting fails or `abandon` is aborted (the run was stopped), the process is ended.
   */
  static async connect(url: string, count: number, stalled = 0, abandon?: AbortSignal): Promise<RemoteSubscriberPool> {
    const here = fileURLToPath(import.meta.url);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = spawnTied(process.execPath, ['--import', tsx, join(dirname(here), 'fanout-subscriber-process.ts')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const end = (): void => void child.kill('SIGKILL');
    if (abandon?.aborted) end();
    else abandon?.addEventListener('abort', end, { once: true });
    try {
      const pool = new RemoteSubscriberPool(child);
      await pool.expect('ready');
      child.send({ type: 'connect', url, count, stalled });
      await pool.expect('connected');
      return pool;
    } catch (error) {
      if (child.exitCode === null && child.signalCode === null) end();
      throw error;
    } finally {
      abandon?.removeEventListener('abort', end);
    }
  }

  async resetHistogram(): Promise<void> {
    this.child.send({ type: 'reset' });
    await this.expect('reset');
  }

  /** Resolves once every reading subscriber has `received` changes. */
  async waitForReceived(received: number): Promise<void> {
    this.child.send({ type: 'wait', received });
    await this.expect('waited');
  }

  async report(): Promise<RemoteSubscriberReport> {
    this.child.send({ type: 'report' });
    return (await this.expect('report')) as unknown as RemoteSubscriberReport;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'close' });
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private expect(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>): void => {
        if (message['type'] === 'error') {
          cleanup();
          reject(new Error(`subscriber process: ${String(message['error'])}`));
        } else if (message['type'] === type) {
          cleanup();
          resolve(message);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`the subscriber process exited (code ${code}) while waiting for "${type}"`));
      };
      const cleanup = (): void => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

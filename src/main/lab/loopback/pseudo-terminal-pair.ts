import type { ChildProcess } from 'node:child_process';
import { ResourceUnavailableError } from '../../../shared/exit-codes';
import { spawnTied } from '../common/spawn-tied';

// Two connected pseudo-terminals made by socat: what one end writes, the other reads, like the
// two sides of a USB serial cable. Each end is a symlink at a path of our choosing.

export interface PseudoTerminalPairOptions {
  /** Path of the end the host (cvlab loopback) opens. */
  hostPath: string;
  /** Path of the end the emulated probe opens. */
  devicePath: string;
  /** How long to wait for socat to report both ends. */
  timeoutMs?: number;
}

/** A socat process linking two pseudo-terminals. */
export class PseudoTerminalPair {
  private exitListeners = new Set<() => void>();
  private exited = false;

  private constructor(
    readonly hostPath: string,
    readonly devicePath: string,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', () => {
      this.exited = true;
      for (const listener of this.exitListeners) listener();
    });
  }

  /** Starts socat and resolves once both pseudo-terminals exist. */
  static open(options: PseudoTerminalPairOptions): Promise<PseudoTerminalPair> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const child = spawnTied('socat', ['-d', '-d', `pty,raw,echo=0,link=${options.devicePath}`, `pty,raw,echo=0,link=${options.hostPath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new ResourceUnavailableError(`socat did not create the pseudo-terminals within ${timeoutMs} ms: ${log.trim() || 'no output'}`));
      }, timeoutMs);
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new ResourceUnavailableError(
            error.code === 'ENOENT' ? 'socat is not installed: install it (apt-get install socat) or pass an existing serial path' : `socat failed to start: ${error.message}`,
          ),
        );
      });
      const early = (code: number | null): void => {
        clearTimeout(timer);
        reject(new ResourceUnavailableError(`socat exited (code ${code}) before the pseudo-terminals were ready: ${log.trim()}`));
      };
      child.once('exit', early);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        log += text;
        if (log.includes('starting data transfer loop')) {
          clearTimeout(timer);
          child.off('exit', early);
          resolve(new PseudoTerminalPair(options.hostPath, options.devicePath, child));
        }
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Called when socat exits (killed or closed). */
  onDidExit(listener: () => void): void {
    this.exitListeners.add(listener);
  }

  /** Stops socat; both pseudo-terminals disappear. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.onDidExit(resolve));
    this.child.kill('SIGTERM');
    await gone;
  }
}

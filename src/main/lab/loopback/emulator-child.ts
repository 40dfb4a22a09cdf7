import type { ChildProcess } from 'node:child_process';
import { spawnTied } from '../common/spawn-tied';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EdgeTruth, ProbeEmulatorOptions } from './probe-emulator';

// Runs the probe emulator in its own Node process, as `cvlab probe-emulator` does at the bench,
// so its event loop and thread pool do not share time with the host being measured. The child
// reports its pseudo-terminal and every edge's ground truth as JSON lines on stdout.

const emulatorModule = fileURLToPath(new URL('./probe-emulator.ts', import.meta.url));

/** A probe emulator in a child process, with its ground truth streamed back. */
export class EmulatorChild {
  readonly truths: EdgeTruth[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly hostPath: string,
    readonly linkPid: number,
  ) {}

  /** Starts the child (through tsx, which runs the TypeScript source) and waits for its port. */
  static start(options: Omit<ProbeEmulatorOptions, 'random' | 'truthFile'>): Promise<EmulatorChild> {
    const code = [
      // It plays hardware that has a CPU of its own: ask for a better share of this one (socat,
      // the cable, inherits it), so a busy host delays the emulated probe less. Not allowed
      // without privileges, and then it runs at the normal priority.
      'try { (await import("node:os")).setPriority(-10); } catch {}',
      `const { ProbeEmulator } = await import(${JSON.stringify(emulatorModule)});`,
      `const emulator = new ProbeEmulator(${JSON.stringify(options)});`,
      'const started = await emulator.start();',
      'emulator.onDidEmitEdge((truth) => process.stdout.write(JSON.stringify({ truth }) + "\\n"));',
      'process.stdout.write(JSON.stringify({ hostPath: started.hostPath, linkPid: emulator.linkPid }) + "\\n");',
      'process.on("SIGTERM", () => emulator.close().then(() => process.exit(0)));',
    ].join('\n');
    const child = spawnTied(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr?.on('data', (text: Buffer) => (errors += text.toString()));
    return new Promise((resolve, reject) => {
      let instance: EmulatorChild | undefined;
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as { truth?: EdgeTruth; hostPath?: string; linkPid?: number };
        if (message.truth) instance?.truths.push(message.truth);
        else if (message.hostPath && message.linkPid) {
          instance = new EmulatorChild(child, message.hostPath, message.linkPid);
          resolve(instance);
        }
      });
      child.once('exit', (code) => {
        if (!instance) reject(new Error(`the emulator process exited (code ${code}) before it was ready: ${errors.trim()}`));
      });
    });
  }

  /** The emulator's own process id (tests hang it with SIGSTOP or kill it, leaving socat's port open). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a signal to the emulator process only. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops the child (and its socat). */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGCONT'); // a hung (stopped) emulator cannot act on SIGTERM
      this.child.kill('SIGTERM');
      await gone;
    }
    // A killed emulator leaves its socat behind, holding the pseudo-terminal open.
    try {
      process.kill(this.linkPid, 'SIGTERM');
    } catch {
      // already gone with the emulator
    }
  }
}

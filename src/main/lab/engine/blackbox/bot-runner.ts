import type { ChildProcess } from 'node:child_process';
import { spawnTied } from '../../common/spawn-tied';

/** How the bot process ended (or that it is still running). */
export interface BotExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

export interface BotRunnerOptions {
  /** A shell command line, run as the technician would type it. */
  readonly command: string;
  /** Added to this process's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Characters kept of each of stdout and stderr (the tail). Default 16 KiB. */
  readonly tailChars?: number;
  /** Between SIGTERM and SIGKILL when stopping. Default 5 s. */
  readonly killAfterMs?: number;
}

/** A bounded tail of a stream's text. */
class TextTail {
  private text = '';
  constructor(private readonly limit: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text.length > this.limit ? this.text.slice(-this.limit) : this.text;
  }
}

/** A line that names a version: `mybot v1.2.3`, `version 2.0`, `tmi.js 1.8.5`. */
const VERSION_LINE = /\b(?:v(?:ersion)?\s*)?\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?\b/i;

/**
 * Runs the technician's bot: one shell command with the black-box environment, its output kept
 * (a bounded tail of each stream and the first line that looks like a version), and stopped at
 * the end with SIGTERM, then SIGKILL if it has not exited after a grace period.
 */
export class BotRunner {
  private readonly child: ChildProcess;
  private readonly stdout: TextTail;
  private readonly stderr: TextTail;
  private versionLine: string | undefined;
  private exit: BotExit | undefined;
  private readonly exited: Promise<BotExit>;
  private stopping = false;
  private partial = '';

  private constructor(readonly options: BotRunnerOptions) {
    const limit = options.tailChars ?? 16 * 1024;
    this.stdout = new TextTail(limit);
    this.stderr = new TextTail(limit);
    // detached: the bot and anything its shell starts form one process group, stopped together.
    // A simple command is exec'd by the shell, so the exit reported is the bot's own, not the shell's.
    const simple = !/[;&|()<>`\n]/.test(options.command);
    this.child = spawnTied(simple ? `exec ${options.command}` : options.command, [], {
      shell: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.output(this.stdout, chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.output(this.stderr, chunk));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.stderr.push(`cvlab: could not start the bot: ${error.message}\n`);
        this.exit ??= { exitCode: null, signal: null };
        resolve(this.exit);
      });
      this.child.once('exit', (exitCode, signal) => {
        this.exit ??= { exitCode, signal };
        resolve(this.exit);
      });
    });
  }

  /** Starts the command. */
  static start(options: BotRunnerOptions): BotRunner {
    return new BotRunner(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first line of output that looked like a version. */
  get version(): string | undefined {
    return this.versionLine;
  }

  /** Undefined while it runs. */
  get exitStatus(): BotExit | undefined {
    return this.exit;
  }

  /** True when it exited before stop() was called (a crash or an early end). */
  get exitedByItself(): boolean {
    return this.exit !== undefined && !this.stopping;
  }

  get stdoutTail(): string {
    return this.stdout.toString();
  }

  get stderrTail(): string {
    return this.stderr.toString();
  }

  /** Resolves when the process has exited, whoever ended it. */
  whenExited(): Promise<BotExit> {
    return this.exited;
  }

  /** SIGTERM to the bot's process group, SIGKILL after the grace period; resolves with its exit. */
  async stop(): Promise<BotExit> {
    if (this.exit) return this.exit;
    this.stopping = true;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), this.options.killAfterMs ?? 5000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exit) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already; the child's own exit event still comes.
      this.child.kill(signal);
    }
  }

  private output(tail: TextTail, chunk: string): void {
    tail.push(chunk);
    if (this.versionLine !== undefined) return;
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = (lines.pop() ?? '').slice(-1024);
    for (const line of lines) {
      if (VERSION_LINE.test(line) && /version|\bv\d|\d+\.\d+\.\d+/i.test(line)) {
        this.versionLine = line.trim().slice(0, 200);
        return;
      }
    }
  }
}

import { spawn, type ChildProcess } from 'node:child_process';

/** What a `cvlab` process printed, and how it exited. */
export interface CvlabRunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `cvlab` process still running: its output so far, and its end. */
export interface CvlabProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<CvlabRunResult>;
}

export interface CvlabOptions {
  /** Ctrl-C this long after the run has started (its first progress line), as a person pressing it would. */
  readonly interruptAfterMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** The built program (the test run's global setup builds it from the source). */
export const CVLAB_CLI = 'out/main/cli.js';

/** Starts `cvlab <args>` as a real process (not through npx, so signals reach it). */
export function spawnCvlab(args: readonly string[], options: CvlabOptions = {}): CvlabProcess {
  const child = spawn(process.execPath, [CVLAB_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { interruptAfterMs } = options;
  if (interruptAfterMs !== undefined) {
    const timer = setInterval(() => {
      if (/^\d+\.\ds\//m.test(stderr)) {
        clearInterval(timer);
        setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
      }
    }, 50);
    child.once('exit', () => clearInterval(timer));
  }
  const exited = new Promise<CvlabRunResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `cvlab …` to its end. */
export function cvlab(args: readonly string[], options: CvlabOptions = {}): Promise<CvlabRunResult> {
  return spawnCvlab(args, options).exited;
}

/** Runs `cvlab run …`; see spawnCvlab(). */
export function cvlabRun(args: string[], interruptAfterMs?: number): Promise<CvlabRunResult> {
  return cvlab(['run', ...args], interruptAfterMs === undefined ? {} : { interruptAfterMs });
}

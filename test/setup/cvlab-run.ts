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

/** Starts `cvlab <args>` as a real process (not through npx, so signals reach it). */
export function spawnCvlab(args: string[]): CvlabProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<CvlabRunResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * Runs `cvlab run …`. With `interruptAfterMs`, Ctrl-C arrives that long after the run has
 * started (its first progress line), as a person pressing it would.
 */
export function cvlabRun(args: string[], interruptAfterMs?: number): Promise<CvlabRunResult> {
  const running = spawnCvlab(['run', ...args]);
  if (interruptAfterMs !== undefined) {
    const timer = setInterval(() => {
      if (/^\d+\.\ds\//m.test(running.stderr())) {
        clearInterval(timer);
        setTimeout(() => running.child.kill('SIGINT'), interruptAfterMs);
      }
    }, 50);
    running.child.once('exit', () => clearInterval(timer));
  }
  return running.exited;
}

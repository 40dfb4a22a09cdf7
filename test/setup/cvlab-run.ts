import { spawn } from 'node:child_process';

/** What a `cvlab run` process printed, and how it exited. */
export interface CvlabRunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cvlab run …` as a real process (not through npx, so signals reach it). With
 * `interruptAfterMs`, Ctrl-C arrives that long after the run has started (its first progress
 * line), as a person pressing it would.
 */
export function cvlabRun(args: string[], interruptAfterMs?: number): Promise<CvlabRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    if (interruptAfterMs !== undefined) {
      const timer = setInterval(() => {
        if (/^\d+\.\ds\//m.test(stderr)) {
          clearInterval(timer);
          setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
        }
      }, 50);
      child.once('exit', () => clearInterval(timer));
    }
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

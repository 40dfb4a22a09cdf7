import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** A running `cvlab serve` (the built output) and the URL it printed, token included. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: Promise<URL>;
}

/** Starts `node out/main/cli.js serve` on `port` with its own data folder (CVLAB_DATA_DIR). */
export function startCvlabServe(port: number, dataDir: string, environment: NodeJS.ProcessEnv): ServeProcess {
  const child = spawn(process.execPath, [join(ROOT, 'out/main/cli.js'), 'serve', '--port', String(port)], {
    cwd: ROOT,
    env: { ...environment, CVLAB_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<URL>((resolve, reject) => {
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /cvlab console: (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(new URL(match[1]));
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`cvlab serve exited with ${code}:\n${output}`)));
  });
  return { child, url };
}

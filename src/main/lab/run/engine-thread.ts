import { errorWithExitCode } from '../../../shared/exit-codes';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EngineEvent, EngineSendRequest, EngineSendResult, EngineStartRequest, HostCommand } from '../common/engine-protocol';
import { EventQueue, isEarlyEvent, type EarlyListener, type EngineLink } from '../common/engine-link';
import { startEngineWorker } from './engine-starter';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';

/**
 * How to start engine-worker: the built file next to the bundle (out/main/engine-worker.js), or,
 * when running from TypeScript source (vitest, tsx), the .ts module through tsx's loader,
 * registered inside the new thread before the module is imported.
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (/\.ts($|\?)/.test(here)) {
    const source = new URL('../engine/engine-worker.ts', here).href;
    const tsxApi = pathToFileURL(createRequire(here).resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
    return { entry: `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`, eval: true };
  }
  // Bundled: this code sits in out/main/ or in a chunk under out/main/chunks/.
  for (const candidate of ['./engine-worker.js', '../engine-worker.js']) {
    const url = new URL(candidate, here);
    if (existsSync(fileURLToPath(url))) return { entry: url, eval: false };
  }
  throw new Error(`the engine's thread module (engine-worker.js) is missing next to ${fileURLToPath(here)}: rebuild cvlab (npm run build)`);
}

/**
 * Starts the measured engine in a worker thread; resolves once it has started its run. What the
 * engine says before (a black-box bot's endpoint listening, its connection) goes to `early`.
 * `stopped` stops the run before it started: whatever the engine waits for ends at once and this
 * rejects with a StoppedWhileWaitingError saying what it waited for.
 */
export function startEngineThread(request: EngineStartRequest, early?: EarlyListener, stopped?: AbortSignal): Promise<EngineLink> {
  const { entry, eval: isEval } = workerEntry();
  // From the starter thread, at the normal priority (engine-starter.ts): not from this one.
  const worker = startEngineWorker(entry, { eval: isEval, workerData: request, name: 'cvlab-engine' });
  const queue = new EventQueue();
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => ((exited = true), resolve())));
  return new Promise<EngineLink>((resolve, reject) => {
    let started = false;
    const stopBeforeStart = (): void => {
      if (!started && !exited) worker.postMessage({ type: 'stop' } satisfies HostCommand);
    };
    if (stopped?.aborted) stopBeforeStart();
    else stopped?.addEventListener('abort', stopBeforeStart, { once: true });
    void exit.then(() => stopped?.removeEventListener('abort', stopBeforeStart));
    worker.on('message', (event: EngineEvent) => {
      if (!started && event.type === 'started') {
        started = true;
        stopped?.removeEventListener('abort', stopBeforeStart);
        resolve({
          threadId: event.threadId,
          startNs: event.startNs,
          ...(event.bot ? { bot: event.bot } : {}),
          listen: (listener) => queue.listen(listener),
          stop: () => {
            if (!exited) worker.postMessage({ type: 'stop' } satisfies HostCommand);
          },
          command: (command) => {
            if (!exited) worker.postMessage(command satisfies HostCommand);
          },
          terminate: async () => {
            if (!exited) await worker.terminate();
            await exit;
          },
        });
      } else if (!started && isEarlyEvent(event)) {
        early?.(event, (command) => {
          if (!exited) worker.postMessage(command satisfies HostCommand);
        });
      } else if (!started && event.type === 'failed') {
        started = true;
        reject(event.stoppedWhileWaiting ? new StoppedWhileWaitingError(event.error) : errorWithExitCode(event.error, event.exitCode));
        void worker.terminate();
      } else queue.push(event);
    });
    worker.once('error', (error) => {
      if (!started) {
        started = true;
        reject(error);
      } else queue.push({ type: 'failed', error: `the engine thread failed: ${error.message}` });
    });
    worker.once('exit', (code) => {
      if (!started) {
        started = true;
        reject(new Error(`the engine thread exited (code ${code}) before it started`));
      } else queue.push({ type: 'closed', ...(code !== 0 ? { closeError: `the engine thread exited with code ${code}` } : {}) });
    });
  });
}

/** `cvlab send`: one message through cvlab's pipeline on an engine thread; its outcome, or the error with its exit code. */
export function sendOnEngineThread(request: Omit<EngineSendRequest, 'type'>): Promise<EngineSendResult> {
  const { entry, eval: isEval } = workerEntry();
  const worker = startEngineWorker(entry, { eval: isEval, workerData: { type: 'send-once', ...request } satisfies EngineSendRequest, name: 'cvlab-engine' });
  return new Promise<EngineSendResult>((resolve, reject) => {
    worker.on('message', (event: EngineSendResult | EngineEvent) => {
      if (event.type === 'sent') resolve(event);
      else if (event.type === 'failed') reject(errorWithExitCode(event.error, event.exitCode));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the engine thread exited (code ${code}) before it answered`)));
  });
}

export type { EngineLink } from '../common/engine-link';
export { startInThreadEngine } from '../engine/in-thread-engine';

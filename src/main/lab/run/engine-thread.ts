import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { EngineEvent, EngineStartRequest, EngineThreadData, HostCommand } from '../common/engine-protocol';
import { EventQueue, type EngineLink } from '../common/engine-link';
import { lowerHostThreadPriority } from './host-thread-priority';

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

/** Messages between the host and the starter thread. */
type StarterCommand =
  | { type: 'start'; id: number; entry: string; eval: boolean; data: EngineThreadData }
  | { type: 'terminate'; id: number };
type StarterEvent = { type: 'error'; id: number; message: string } | { type: 'exit'; id: number; code: number };

/**
 * The starter thread: it starts each engine thread (a worker of its own) and reports its
 * errors and exit. A new thread takes the nice value of the thread that starts it, and the host
 * thread lowers its own once it has started the starter (host-thread-priority.ts), so every
 * engine thread keeps the normal priority while the host's gives way to it.
 */
const STARTER_SOURCE = `
const { parentPort, Worker } = require('node:worker_threads');
const engines = new Map();
parentPort.on('message', (command) => {
  if (command.type === 'terminate') return void engines.get(command.id)?.terminate();
  const worker = new Worker(command.entry, { eval: command.eval, workerData: command.data, transferList: [command.data.port], name: 'cvlab-engine' });
  engines.set(command.id, worker);
  worker.on('error', (error) => parentPort.postMessage({ type: 'error', id: command.id, message: String(error && error.message || error) }));
  worker.once('exit', (code) => {
    engines.delete(command.id);
    parentPort.postMessage({ type: 'exit', id: command.id, code });
  });
});
`;

interface Starter {
  readonly worker: Worker;
  readonly listeners: Map<number, (event: StarterEvent) => void>;
  nextId: number;
}

let starter: Starter | undefined;

function engineStarter(): Starter {
  if (starter) return starter;
  const worker = new Worker(STARTER_SOURCE, { eval: true, name: 'cvlab-engine-starter' });
  const created: Starter = { worker, listeners: new Map(), nextId: 1 };
  worker.on('message', (event: StarterEvent) => created.listeners.get(event.id)?.(event));
  worker.once('exit', () => {
    if (starter === created) starter = undefined;
    for (const listener of created.listeners.values()) listener({ type: 'exit', id: 0, code: 1 });
  });
  // It keeps the process alive only while an engine thread it started has not exited (see
  // startEngineThread). After the listeners: adding a 'message' listener takes the reference back.
  worker.unref();
  starter = created;
  lowerHostThreadPriority();
  return created;
}

/**
 * Starts the measured engine in a worker thread (started by the starter thread, so at the
 * normal priority); resolves once it has sent its first message. The engine talks to this
 * thread over a channel of its own.
 */
export function startEngineThread(request: EngineStartRequest): Promise<EngineLink> {
  const { entry, eval: isEval } = workerEntry();
  const spawner = engineStarter();
  const id = spawner.nextId++;
  const channel = new MessageChannel();
  const port = channel.port1;
  const queue = new EventQueue();
  let exited = false;
  let resolveExit: () => void = () => undefined;
  const exit = new Promise<void>((resolve) => (resolveExit = resolve));
  return new Promise<EngineLink>((resolve, reject) => {
    let started = false;
    const finished = (code: number): void => {
      if (exited) return;
      exited = true;
      spawner.listeners.delete(id);
      if (spawner.listeners.size === 0) spawner.worker.unref();
      port.close();
      resolveExit();
      if (!started) {
        started = true;
        reject(new Error(`the engine thread exited (code ${code}) before it started`));
      } else queue.push({ type: 'closed', ...(code !== 0 ? { closeError: `the engine thread exited with code ${code}` } : {}) });
    };
    spawner.listeners.set(id, (event) => {
      if (event.type === 'exit') return finished(event.code);
      if (!started) {
        started = true;
        reject(new Error(event.message));
      } else queue.push({ type: 'failed', error: `the engine thread failed: ${event.message}` });
    });
    port.on('message', (event: EngineEvent) => {
      if (!started && event.type === 'started') {
        started = true;
        resolve({
          threadId: event.threadId,
          startNs: event.startNs,
          listen: (listener) => queue.listen(listener),
          stop: () => {
            if (!exited) port.postMessage({ type: 'stop' } satisfies HostCommand);
          },
          terminate: async () => {
            if (!exited) spawner.worker.postMessage({ type: 'terminate', id } satisfies StarterCommand);
            await exit;
          },
        });
      } else if (!started && event.type === 'failed') {
        started = true;
        reject(new Error(event.error));
        spawner.worker.postMessage({ type: 'terminate', id } satisfies StarterCommand);
      } else queue.push(event);
    });
    // Until its exit is reported, this engine thread's starter keeps the process alive.
    spawner.worker.ref();
    const data: EngineThreadData = { request, port: channel.port2 };
    spawner.worker.postMessage({ type: 'start', id, entry: typeof entry === 'string' ? entry : fileURLToPath(entry), eval: isEval, data } satisfies StarterCommand, [channel.port2]);
  });
}

export type { EngineLink } from '../common/engine-link';
export { startInThreadEngine } from '../engine/in-thread-engine';

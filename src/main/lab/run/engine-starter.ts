import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { lowerHostThreadPriority } from './host-thread-priority';

/** Messages between the host and the starter thread. */
type StarterCommand =
  | { type: 'start'; id: number; entry: string; eval: boolean; name: string; workerData: { hostPort: MessagePort } }
  | { type: 'terminate'; id: number };
type StarterEvent = { type: 'error'; id: number; message: string } | { type: 'exit'; id: number; code: number };

/**
 * The starter thread: it starts each engine thread (a worker of its own) and reports its errors
 * and exit. A new thread takes the nice value of the thread that starts it, and the host thread
 * lowers its own once it has started the starter (host-thread-priority.ts), so every engine
 * thread keeps the normal priority while the host's gives way to it.
 */
const STARTER_SOURCE = `
const { parentPort, Worker } = require('node:worker_threads');
const engines = new Map();
parentPort.on('message', (command) => {
  if (command.type === 'terminate') return void engines.get(command.id)?.terminate();
  const worker = new Worker(command.entry, { eval: command.eval, workerData: command.workerData, transferList: [command.workerData.hostPort], name: command.name });
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
  readonly engines: Map<number, EngineWorker>;
  nextId: number;
}

let starter: Starter | undefined;

function engineStarter(): Starter {
  if (starter) return starter;
  const worker = new Worker(STARTER_SOURCE, { eval: true, name: 'cvlab-engine-starter' });
  const created: Starter = { worker, engines: new Map(), nextId: 1 };
  worker.on('message', (event: StarterEvent) => created.engines.get(event.id)?.heard(event));
  worker.once('exit', () => {
    if (starter === created) starter = undefined;
    for (const engine of created.engines.values()) engine.heard({ type: 'exit', id: 0, code: 1 });
  });
  // It keeps the process alive only while an engine thread it started has not exited. After the
  // listeners: adding a 'message' listener takes the reference back.
  worker.unref();
  starter = created;
  lowerHostThreadPriority();
  return created;
}

/**
 * An engine thread as the host sees it: the subset of a Worker the host uses ('message',
 * 'error' and 'exit' events, postMessage, terminate), over a channel of its own. The thread was
 * started by the starter thread, so it runs at the normal priority; its module finds its end of
 * the channel in `workerData.hostPort`.
 */
export class EngineWorker extends EventEmitter {
  private exited = false;
  private readonly exit: Promise<void>;
  private resolveExit: () => void = () => undefined;

  constructor(
    private readonly starter: Starter,
    private readonly id: number,
    private readonly port: MessagePort,
  ) {
    super();
    this.exit = new Promise<void>((resolve) => (this.resolveExit = resolve));
    port.on('message', (message: unknown) => this.emit('message', message));
  }

  postMessage(message: unknown, transfer?: readonly TransferListItem[]): void {
    if (!this.exited) this.port.postMessage(message, transfer);
  }

  /** Ends the thread; resolves once it has exited. */
  async terminate(): Promise<void> {
    if (!this.exited) this.starter.worker.postMessage({ type: 'terminate', id: this.id } satisfies StarterCommand);
    await this.exit;
  }

  /** What the starter said about this thread. */
  heard(event: StarterEvent): void {
    if (event.type === 'error') return void this.emit('error', new Error(event.message));
    if (this.exited) return;
    this.exited = true;
    this.starter.engines.delete(this.id);
    if (this.starter.engines.size === 0) this.starter.worker.unref();
    this.port.close();
    this.resolveExit();
    this.emit('exit', event.code);
  }
}

/** Starts an engine thread from the starter thread (see EngineWorker). */
export function startEngineWorker(entry: string | URL, options: { eval: boolean; workerData: object; name: string }): EngineWorker {
  const spawner = engineStarter();
  const id = spawner.nextId++;
  const channel = new MessageChannel();
  const engine = new EngineWorker(spawner, id, channel.port1);
  spawner.engines.set(id, engine);
  // Until its exit is reported, this engine thread's starter keeps the process alive.
  spawner.worker.ref();
  const command: StarterCommand = {
    type: 'start',
    id,
    entry: typeof entry === 'string' ? entry : fileURLToPath(entry),
    eval: options.eval,
    name: options.name,
    workerData: { ...options.workerData, hostPort: channel.port2 },
  };
  spawner.worker.postMessage(command, [channel.port2]);
  return engine;
}

// The measured engine's thread: builds the engine from workerData, runs it, and talks to the
// host only through interval snapshots and a few lifecycle events. Nothing else runs here.
// The host is reached over the channel in workerData (this thread is started by a starter
// thread, not by the host's: see run/engine-thread.ts).
import { isMainThread, threadId, workerData, type TransferListItem } from 'node:worker_threads';
import type { EngineEvent, EngineThreadData, HostCommand } from '../common/engine-protocol';
import { MeasuredEngine } from './measured-engine';

if (isMainThread) throw new Error('engine-worker runs as a worker thread only');
const { request, port } = workerData as EngineThreadData;

const post = (event: EngineEvent, transfer: TransferListItem[]): void => port.postMessage(event, transfer);

try {
  const engine = await MeasuredEngine.prepare(request, post);
  port.on('message', (command: HostCommand) => {
    if (command.type === 'stop') void engine.stop().then(() => port.close());
  });
  engine.start(threadId);
} catch (error) {
  post({ type: 'failed', error: error instanceof Error ? error.message : String(error) }, []);
  port.close();
}

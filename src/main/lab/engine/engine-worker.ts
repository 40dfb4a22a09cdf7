// The measured engine's thread: builds the engine from workerData, runs it, and talks to the
// host only through interval snapshots and a few lifecycle events. Nothing else runs here
// (`cvlab send`'s one message runs here too, the same pipeline on the same code path).
import { parentPort, threadId, workerData, type MessagePort, type TransferListItem } from 'node:worker_threads';
import type { EngineEvent, EngineSendRequest, EngineSendResult, EngineStartRequest, HostCommand } from '../common/engine-protocol';
import { MeasuredEngine } from './measured-engine';
import { sendOnce } from './send-once';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';
import { exitCodeOfError } from '../../../shared/exit-codes';

// The host is at the other end of the channel in workerData.hostPort: this thread is started by
// a starter thread, not by the host's (run/engine-starter.ts).
const hostPort = (workerData as { hostPort?: MessagePort }).hostPort ?? parentPort;
if (!hostPort) throw new Error('engine-worker runs as a worker thread only');
const port: MessagePort = hostPort;

const post = (event: EngineEvent, transfer: TransferListItem[]): void => port.postMessage(event, transfer);

if ((workerData as { type?: string }).type === 'send-once') {
  try {
    port.postMessage((await sendOnce(workerData as EngineSendRequest)) satisfies EngineSendResult);
  } catch (error) {
    post({ type: 'failed', error: error instanceof Error ? error.message : String(error), exitCode: exitCodeOfError(error) }, []);
  }
  port.close();
} else await runMeasured();

async function runMeasured(): Promise<void> {
  // Commands may come while the engine prepares: `start-at` (an instance's common start) or `stop`.
  let engine: MeasuredEngine | undefined;
  const waiting: HostCommand[] = [];
  let answerStart: { resolve: (atNs: number) => void; reject: (error: Error) => void } | undefined;
  const startAt = new Promise<number>((resolve, reject) => (answerStart = { resolve, reject }));
  startAt.catch(() => undefined);
  // A stop before the start ends whatever the engine waits for (a bot's JOIN, subscribers, the other instances).
  const stopper = new AbortController();
  const obey = (command: HostCommand): void => {
    if (command.type === 'start-at') answerStart?.resolve(command.atNs);
    else if (!engine) {
      if (command.type === 'stop') {
        stopper.abort();
        answerStart?.reject(new StoppedWhileWaitingError('stopped while waiting for the other instances to be ready'));
      }
      waiting.push(command);
    } else if (command.type === 'stop') void engine.stop().then(() => port.close());
    else engine.command(command);
  };
  port.on('message', obey);

  try {
    engine = await MeasuredEngine.prepare(workerData as EngineStartRequest, post, undefined, startAt, stopper.signal);
    engine.start(threadId);
    for (const command of waiting.splice(0)) obey(command);
  } catch (error) {
    const stoppedWhileWaiting = error instanceof StoppedWhileWaitingError;
    post({ type: 'failed', error: error instanceof Error ? error.message : String(error), exitCode: exitCodeOfError(error), ...(stoppedWhileWaiting ? { stoppedWhileWaiting } : {}) }, []);
    port.close();
  }
}

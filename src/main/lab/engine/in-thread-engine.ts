import { threadId as hostThreadId } from 'node:worker_threads';
import { EventQueue, isEarlyEvent, type EarlyListener, type EngineLink } from '../common/engine-link';
import type { BotProcessRef, EngineStartRequest, HostCommand } from '../common/engine-protocol';
import { MeasuredEngine, type EnginePipelineFactory } from './measured-engine';
import { createPipeline, type PipelineOptions } from './pipeline/chat-pipeline';
import { StoppedWhileWaitingError } from '../common/stopped-while-waiting';

/**
 * Runs the engine on the host's own thread. Only for a run whose pipeline factory or stage hook
 * is a function (tests, benchmarks, agents that build the pipeline themselves): functions cannot
 * be handed to another thread. Everything else starts the engine thread.
 */
export async function startInThreadEngine(
  request: EngineStartRequest,
  createSystemUnderTest?: EnginePipelineFactory,
  stageHook?: PipelineOptions['stageHook'],
  early?: EarlyListener,
  stopped?: AbortSignal,
): Promise<EngineLink> {
  // No factory and no hook: the request's own pipeline (cvlab's, a module's or a bot).
  const factory: EnginePipelineFactory | undefined =
    createSystemUnderTest === undefined && stageHook === undefined
      ? undefined
      : (rig, options) => (createSystemUnderTest ?? createPipeline)(rig, { ...options, ...(stageHook ? { stageHook } : {}) });
  const queue = new EventQueue();
  let startNs = 0;
  let started = false;
  let bot: BotProcessRef | undefined;
  let answerStart: { resolve: (atNs: number) => void; reject: (error: Error) => void } | undefined;
  const startAt = new Promise<number>((resolve, reject) => (answerStart = { resolve, reject }));
  startAt.catch(() => undefined);
  // A stop before the start ends whatever the engine waits for.
  const stopper = new AbortController();
  const stop = (): void => {
    stopper.abort();
    answerStart?.reject(new StoppedWhileWaitingError('stopped while waiting for the other instances to be ready'));
  };
  if (stopped?.aborted) stop();
  else stopped?.addEventListener('abort', stop, { once: true });
  const beforeStart = (command: HostCommand): void => {
    if (command.type === 'start-at') answerStart?.resolve(command.atNs);
    else if (command.type === 'stop') stop();
  };
  const engine = await MeasuredEngine.prepare(
    request,
    (event) => {
      if (event.type === 'started') {
        startNs = event.startNs;
        started = true;
        bot = event.bot;
      } else if (!started && early && isEarlyEvent(event)) early(event, beforeStart);
      else queue.push(event);
    },
    factory,
    startAt,
    stopper.signal,
  ).finally(() => stopped?.removeEventListener('abort', stop));
  engine.start(hostThreadId);
  return {
    threadId: hostThreadId,
    startNs,
    ...(bot ? { bot } : {}),
    listen: (listener) => queue.listen(listener),
    stop: () => void engine.stop(),
    command: (command) => engine.command(command),
    terminate: () => Promise.resolve(),
  };
}

import { threadId as hostThreadId } from 'node:worker_threads';
import { EventQueue, isEarlyEvent, type EarlyListener, type EngineLink } from '../common/engine-link';
import type { BotProcessRef, EngineStartRequest, HostCommand } from '../common/engine-protocol';
import { MeasuredEngine, type EnginePipelineFactory } from './measured-engine';
import { createPipeline, type PipelineOptions } from './pipeline/chat-pipeline';

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
  const beforeStart = (command: HostCommand): void => {
    if (command.type === 'start-at') answerStart?.resolve(command.atNs);
    else if (command.type === 'stop') answerStart?.reject(new Error('the run was stopped before it started'));
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
  );
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

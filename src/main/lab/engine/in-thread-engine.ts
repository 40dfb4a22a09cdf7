import { threadId as hostThreadId } from 'node:worker_threads';
import { EventQueue, type EngineLink } from '../common/engine-link';
import type { BotProcessRef, EngineStartRequest } from '../common/engine-protocol';
import { MeasuredEngine, type EnginePipelineFactory } from './measured-engine';
import { createPipeline, type PipelineOptions } from './pipeline/chat-pipeline';

/**
 * Runs the engine on the host's own thread. Only for a run whose pipeline factory or stage hook
 * is a function (tests, benchmarks, agents that build the pipeline themselves): functions cannot
 * be handed to another thread. Everything else starts the engine thread.
 */
export async function startInThreadEngine(
  request: EngineStartRequest,
  createSystemUnderTest: EnginePipelineFactory = createPipeline,
  stageHook?: PipelineOptions['stageHook'],
): Promise<EngineLink> {
  const factory: EnginePipelineFactory = (rig, options) => createSystemUnderTest(rig, { ...options, ...(stageHook ? { stageHook } : {}) });
  const queue = new EventQueue();
  let startNs = 0;
  let bot: BotProcessRef | undefined;
  const engine = await MeasuredEngine.prepare(
    request,
    (event) => {
      if (event.type === 'started') {
        startNs = event.startNs;
        bot = event.bot;
      }
      else queue.push(event);
    },
    factory,
  );
  engine.start(hostThreadId);
  return {
    threadId: hostThreadId,
    startNs,
    ...(bot ? { bot } : {}),
    listen: (listener) => queue.listen(listener),
    stop: () => void engine.stop(),
    terminate: () => Promise.resolve(),
  };
}

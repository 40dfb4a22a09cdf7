// A pipeline that answers at once, for the generator's own ceiling in bench/load: what is left is
// the generator, the scheduler and the engine's recording. A module (not a function) so that the
// engine builds it inside its own thread.
import type { Outcome } from '../src/shared/message';
import type { ChatPipeline } from '../src/main/lab/engine/pipeline/pipeline-types';

const outcome: Outcome = { status: 'rejected', rejection: { code: 'empty', detail: 'no-op' }, timings: { validate: 0 } };

/** The no-op system under test (RunControllerOptions.pipelineModule). */
export async function createPipeline(): Promise<ChatPipeline> {
  return {
    process: () => Promise.resolve(outcome),
    onDidTap: () => ({ dispose: () => undefined }),
    onDidChangeState: () => ({ dispose: () => undefined }),
    counters: () => ({ limiterFallbacks: 0, redisErrors: 0, tapMatched: 0, tapUnmatched: 0, failures: 0 }),
    roundTripMs: () => Promise.resolve(undefined),
    snapshot: () => Promise.resolve({}),
    close: () => Promise.resolve(),
  };
}

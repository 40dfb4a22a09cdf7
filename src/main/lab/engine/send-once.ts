import { threadId } from 'node:worker_threads';
import type { Outcome } from '../../../shared/message';
import type { EngineSendRequest, EngineSendResult } from '../common/engine-protocol';
import { createPipeline } from './pipeline/chat-pipeline';

/**
 * `cvlab send`: one message through cvlab's pipeline, on the engine's thread as every run's. The
 * console's namespace keeps its state between commands, as the bot's would.
 */
export async function sendOnce(request: EngineSendRequest): Promise<EngineSendResult> {
  const { rig } = request;
  const pipeline = await createPipeline(rig, {
    namespace: request.namespace,
    keepState: true,
    ...(request.redisUrl !== undefined ? { redisUrl: request.redisUrl } : {}),
  });
  let degraded: string | undefined;
  pipeline.onDidChangeDegraded((state) => {
    if (state.degraded) degraded = state.reason;
  });
  let tapNs: number | undefined;
  const tapped = new Promise<void>((resolve) => {
    pipeline.onDidTap((ns) => {
      tapNs = ns;
      resolve();
    });
    setTimeout(resolve, request.tapWaitMs).unref();
  });
  const outcome = await pipeline.process({ user: request.user, text: request.text });
  if (outcome.status === 'accepted' && rig.osc.tapPort !== undefined) await tapped;
  // Read after the send: a target on another machine is known absent only from its ICMP answer.
  const warnings = pipeline.warnings().map((warning) => warning.detail);
  await pipeline.close();
  // As plain data (its printable packet included): it crosses to the host's thread.
  const plain = JSON.parse(JSON.stringify(outcome)) as Outcome;
  return { type: 'sent', threadId, outcome: plain, ...(tapNs !== undefined ? { tapNs } : {}), warnings, ...(degraded !== undefined ? { degraded } : {}) };
}

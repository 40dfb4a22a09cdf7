import type { RigConfig } from '../../../shared/rig';
import type { EngineSendResult } from '../common/engine-protocol';
import { sendOnEngineThread } from '../run/engine-thread';
import { checkRedisAnswers } from './redis-preflight';

/** How long `send` waits for its datagram to show up on the tap. */
const TAP_WAIT_MS = 200;

/**
 * One chat message through cvlab's pipeline, on the engine's thread as every run's, in the
 * console's namespace (its state kept between commands). A Redis the user named must answer:
 * the message is then decided as the bot decides it, not by a stand-in; nothing is sent when it
 * does not (exit 3).
 */
export async function sendMessage(options: { readonly rig: RigConfig; readonly text: string; readonly user: string; readonly redisUrl?: string }): Promise<EngineSendResult> {
  const redisUrl = options.redisUrl ?? options.rig.redisUrl;
  if (redisUrl) await checkRedisAnswers(redisUrl);
  return sendOnEngineThread({
    rig: options.rig,
    user: options.user,
    text: options.text,
    namespace: `console:${options.rig.name}`,
    ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
    tapWaitMs: TAP_WAIT_MS,
  });
}

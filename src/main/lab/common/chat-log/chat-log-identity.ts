import type { ChatLogIdentity } from '../../../../shared/chat-log';
import type { ChatLogReading } from './read-chat-log';

/** How a run and a report name the log they replayed: enough to tell two logs apart. */
export function chatLogIdentity(reading: ChatLogReading): ChatLogIdentity {
  return {
    fileName: reading.fileName,
    format: reading.format,
    messages: reading.messages,
    spanMs: reading.lastMs - reading.firstMs,
    sha256: reading.sha256,
    ...(reading.wallClock && Number.isFinite(reading.firstMs) ? { firstAt: new Date(reading.firstMs).toISOString() } : {}),
    damaged: reading.damaged,
  };
}

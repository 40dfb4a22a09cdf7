import type { ChatLogFormat } from '../../../../shared/chat-log';
import { readChatLog, type ChatLogReading } from './read-chat-log';

/** A log's message times in file order, and what reading it found. */
export interface ChatLogTimes {
  /** ms, the log's own origin; at least `count` long. */
  readonly times: Float64Array;
  readonly count: number;
  readonly reading: ChatLogReading;
}

/** Room for more values: the array doubled (at least `needed` long), values kept. */
export function grownFloat64(array: Float64Array<ArrayBuffer>, needed: number): Float64Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Float64Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

/**
 * Reads only the times of a log's messages (8 bytes each, no texts): what the host needs to
 * build a replay's plan and know its count and duration before the run.
 */
export async function readChatLogTimes(path: string, format: ChatLogFormat | 'auto' | undefined): Promise<ChatLogTimes> {
  let times = new Float64Array(4096);
  let count = 0;
  const reading = await readChatLog(path, { format }, (timeMs) => {
    if (count === times.length) times = grownFloat64(times, count + 1);
    times[count++] = timeMs;
  });
  return { times, count, reading };
}

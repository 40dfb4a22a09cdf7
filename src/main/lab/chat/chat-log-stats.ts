import type { ChatLogFormat, ChatLogStats } from '../../../shared/chat-log';
import type { RigConfig } from '../../../shared/rig';
import { chatLogIdentity } from '../common/chat-log/chat-log-identity';
import { detachedCopy } from '../common/chat-log/chat-log-sink';
import { readChatLog } from '../common/chat-log/read-chat-log';
import { MessageValidator, ParsedAssignments } from '../common/message-validator';
import { TimeBuckets } from './time-buckets';

/** Points of the rate timeline the console draws. */
const TIMELINE_POINTS = 240;
/** Variables listed, most set first. */
const TOP_VARIABLES = 8;

/** Most messages inside any window of `width` buckets (sliding one bucket at a time). */
function peakOver(counts: Uint32Array, width: number): number {
  let sum = 0;
  let peak = 0;
  for (let index = 0; index < counts.length; index++) {
    sum += counts[index] as number;
    if (index >= width) sum -= counts[index - width] as number;
    if (sum > peak) peak = sum;
  }
  return peak;
}

/** Counts of `counts` summed `factor` at a time. */
function summed(counts: Uint32Array, factor: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < counts.length; start += factor) {
    let sum = 0;
    for (let index = start; index < Math.min(counts.length, start + factor); index++) sum += counts[index] as number;
    out.push(sum);
  }
  return out;
}

/** The longest run of whole seconds at `threshold` messages or more. */
function longestBurst(seconds: readonly number[], threshold: number, secondMs: number): ChatLogStats['longestBurst'] {
  let best: { start: number; length: number; messages: number; peak: number } | undefined;
  let start = -1;
  let messages = 0;
  let peak = 0;
  for (let index = 0; index <= seconds.length; index++) {
    const count = seconds[index] ?? 0;
    if (index < seconds.length && count >= threshold) {
      if (start < 0) {
        start = index;
        messages = 0;
        peak = 0;
      }
      messages += count;
      peak = Math.max(peak, count);
      continue;
    }
    if (start >= 0 && (!best || index - start > best.length)) best = { start, length: index - start, messages, peak };
    start = -1;
  }
  if (!best) return undefined;
  return { startMs: best.start * secondMs, durationMs: best.length * secondMs, messages: best.messages, peakPerSecond: best.peak / (secondMs / 1000) };
}

/**
 * What is in a chat log before it is replayed: its span, messages and viewers, the peaks in
 * 1 s and 10 s, the share of lines the rig's grammar accepts (and the rejections by code), the
 * variables it sets most, its longest burst and a small rate timeline. Read as a stream: memory
 * follows the log's span and its viewers, not its size.
 */
export async function chatLogStats(path: string, rig: RigConfig, format: ChatLogFormat | 'auto' = 'auto'): Promise<ChatLogStats> {
  const validator = new MessageValidator(rig);
  const parsed = new ParsedAssignments();
  const viewers = new Set<string>();
  const buckets = new TimeBuckets();
  const rejectedByCode: Record<string, number> = {};
  const variables = new Map<string, number>();
  let accepted = 0;
  const reading = await readChatLog(path, { format }, (timeMs, user, text) => {
    if (!viewers.has(user)) viewers.add(detachedCopy(user));
    buckets.add(timeMs);
    const rejection = validator.validateInto(text, parsed);
    if (rejection) {
      rejectedByCode[rejection.code] = (rejectedByCode[rejection.code] ?? 0) + 1;
      return;
    }
    accepted++;
    for (let index = 0; index < parsed.count; index++) {
      const name = parsed.variables[index] as string;
      variables.set(name, (variables.get(name) ?? 0) + 1);
    }
  });
  const counts = buckets.view();
  const bucketMs = buckets.bucketMs;
  const perSecond = Math.max(1, Math.round(1000 / bucketMs));
  const spanMs = reading.lastMs - reading.firstMs;
  const meanPerSecond = spanMs > 0 ? reading.messages / (spanMs / 1000) : reading.messages;
  const secondMs = perSecond * bucketMs;
  const seconds = summed(counts, perSecond);
  const burst = longestBurst(seconds, Math.max(2, 2 * meanPerSecond * (secondMs / 1000)), secondMs);
  const timelineFactor = Math.max(1, Math.ceil(counts.length / TIMELINE_POINTS));
  return {
    ...chatLogIdentity(reading),
    path,
    bytes: reading.bytes,
    lines: reading.lines,
    otherLines: reading.otherLines,
    damagedLines: reading.damagedLines,
    viewers: viewers.size,
    meanPerSecond,
    peak1s: peakOver(counts, perSecond),
    peak10s: peakOver(counts, Math.max(1, Math.round(10_000 / bucketMs))),
    rig: rig.name,
    accepted,
    acceptedShare: reading.messages > 0 ? accepted / reading.messages : 0,
    rejectedByCode,
    topVariables: [...variables]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, TOP_VARIABLES)
      .map(([name, count]) => ({ name, count })),
    ...(burst ? { longestBurst: burst } : {}),
    timeline: { bucketMs: bucketMs * timelineFactor, counts: summed(counts, timelineFactor) },
  };
}

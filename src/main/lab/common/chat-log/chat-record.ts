import { parseLogTime } from './log-time';

/** One object of a JSON or CSV log read as a message, or why it is not one. */
export type RecordReading =
  | { readonly kind: 'message'; readonly timeMs: number; readonly user: string; readonly text: string; readonly wallClock: boolean }
  | { readonly kind: 'other' }
  | { readonly kind: 'damaged'; readonly reason: string };

const OTHER: RecordReading = { kind: 'other' };
const damaged = (reason: string): RecordReading => ({ kind: 'damaged', reason });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{t, user, text}` (JSON Lines, CSV): t in seconds or an ISO 8601 time. */
export function readTimeUserText(record: Record<string, unknown>): RecordReading {
  const time = parseLogTime(record['t']);
  if (!time) return damaged(record['t'] === undefined ? 'no t (expected seconds or an ISO 8601 time)' : 't is not a time: expected seconds (like 12.5) or an ISO 8601 time');
  const user = record['user'];
  if (typeof user !== 'string' || user.trim() === '') return damaged('no user (expected the viewer\'s name)');
  const text = record['text'];
  if (typeof text !== 'string') return damaged('no text (expected the message as written)');
  return { kind: 'message', timeMs: time.ms, user, text, wallClock: time.wallClock };
}

/**
 * One chat item of chat-downloader: `timestamp` (µs since the epoch), `author.name`, `message`;
 * items that are not text messages (`message_type` other than `text_message`) are skipped.
 */
export function readChatDownloaderItem(item: Record<string, unknown>): RecordReading {
  const type = item['message_type'];
  if (type !== undefined && type !== 'text_message') return OTHER;
  const author = item['author'];
  const name = isRecord(author) ? (typeof author['name'] === 'string' && author['name'] !== '' ? author['name'] : author['display_name']) : undefined;
  if (typeof name !== 'string' || name === '') return damaged('no author.name');
  const text = item['message'];
  if (typeof text !== 'string') return damaged('no message (the text)');
  const timestamp = item['timestamp'];
  if (typeof timestamp === 'number' && Number.isFinite(timestamp)) return { kind: 'message', timeMs: timestamp / 1000, user: name, text, wallClock: true };
  const offset = item['time_in_seconds'];
  if (typeof offset === 'number' && Number.isFinite(offset)) return { kind: 'message', timeMs: offset * 1000, user: name, text, wallClock: false };
  return damaged('no timestamp (µs since the epoch) or time_in_seconds');
}

/** One of TwitchDownloader's `comments`: `content_offset_seconds`, `commenter.name`, `message.body`. */
export function readTwitchDownloaderComment(comment: Record<string, unknown>): RecordReading {
  const offset = comment['content_offset_seconds'];
  if (typeof offset !== 'number' || !Number.isFinite(offset)) return damaged('no content_offset_seconds (a number of seconds)');
  const commenter = comment['commenter'];
  const name = isRecord(commenter) ? (typeof commenter['name'] === 'string' && commenter['name'] !== '' ? commenter['name'] : commenter['display_name']) : undefined;
  if (typeof name !== 'string' || name === '') return damaged('no commenter.name');
  const message = comment['message'];
  const body = isRecord(message) ? message['body'] : undefined;
  if (typeof body !== 'string') return damaged('no message.body (the text)');
  return { kind: 'message', timeMs: offset * 1000, user: name, text: body, wallClock: false };
}

/** A JSON Lines object: `{t, user, text}`, or a chat-downloader item written one per line. */
export function readJsonLineObject(value: unknown): RecordReading {
  if (!isRecord(value)) return damaged('not a JSON object: expected {"t": …, "user": …, "text": …}');
  if ('t' in value || 'user' in value || 'text' in value) return readTimeUserText(value);
  if ('author' in value || 'message' in value || 'timestamp' in value) return readChatDownloaderItem(value);
  return damaged('expected an object with t, user and text');
}

export { isRecord };

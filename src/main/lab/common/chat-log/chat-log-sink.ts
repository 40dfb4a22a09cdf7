/** Where a decoder hands what it read, in file order. */
export interface ChatLogSink {
  /** A chat message: when (ms, any origin), who (the login as recorded) and the text as written. */
  message(timeMs: number, user: string, text: string): void;
  /** A line that is not a chat message (a join, a ping, a system line): skipped, not damaged. */
  other(): void;
  /** A line that could not be read: skipped and counted, with its line number. */
  damaged(line: number, reason: string): void;
}

interface DecoderState {
  /** The file ended: whatever is left is read (or counted damaged). */
  end(): void;
  /** The messages' times are wall-clock (ms since the epoch), not offsets into a video. */
  readonly wallClock: boolean;
  /** Why the whole file cannot be read in this format (no header, no array), once known. */
  readonly refusal?: string | undefined;
}

/** A format of one message per line: handed each line, decoded, with its number. */
export interface LineDecoder extends DecoderState {
  readonly input: 'lines';
  line(text: string, number: number): void;
}

/** A format whose records may span lines (CSV, JSON documents): handed the text chunk by chunk. */
export interface TextChunkDecoder extends DecoderState {
  readonly input: 'text';
  push(text: string): void;
  /** Lines read so far. */
  readonly lines: number;
}

/** Turns a format's lines or text into messages for a sink. */
export type ChatLogDecoder = LineDecoder | TextChunkDecoder;

/**
 * A copy of a string that shares no memory with the chunk it was cut from: V8 keeps a whole
 * chunk alive behind a slice of it, so names kept across chunks (viewer sets, name tables) are
 * copied once.
 */
export function detachedCopy(text: string): string {
  return (' ' + text).slice(1);
}

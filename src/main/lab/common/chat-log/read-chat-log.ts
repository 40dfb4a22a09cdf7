import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, Transform, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { CHAT_LOG_FORMAT_NAMES, CHAT_LOG_FORMATS, type ChatLogFormat, type DamagedLine } from '../../../../shared/chat-log';
import { ValidationError } from '../../../../shared/format-issues';
import { ByteLineSplitter } from './byte-line-splitter';
import { detectChatLogFormat } from './chat-log-format';
import type { ChatLogDecoder, ChatLogSink } from './chat-log-sink';
import { ChatterinoLogDecoder } from './chatterino-log-decoder';
import { CsvDecoder } from './csv-decoder';
import { IrcLogDecoder } from './irc-log-decoder';
import { JsonDocumentDecoder } from './json-document-decoder';
import { JsonLinesDecoder } from './json-lines-decoder';

/** Bytes read at a time: large enough that per-chunk work vanishes, small enough to stay flat. */
const CHUNK_BYTES = 1024 * 1024;
/** Bytes looked at to tell the format. */
const HEAD_BYTES = 64 * 1024;
/** Damaged lines kept by line number (all are counted). */
export const DAMAGED_LINES_KEPT = 20;

/** What reading a log found, besides its messages. */
export interface ChatLogReading {
  readonly path: string;
  readonly fileName: string;
  readonly format: ChatLogFormat;
  /** Bytes of the file (compressed, for a .gz). */
  readonly bytes: number;
  readonly lines: number;
  readonly messages: number;
  readonly otherLines: number;
  readonly damaged: number;
  readonly damagedLines: readonly DamagedLine[];
  /** SHA-256 of the file's bytes, hex. */
  readonly sha256: string;
  /** Message times are ms since the epoch (IRC, chat-downloader, ISO times), not offsets. */
  readonly wallClock: boolean;
  /** Earliest and latest message time (ms, the log's own origin). */
  readonly firstMs: number;
  readonly lastMs: number;
}

export interface ChatLogReadOptions {
  /** The format; `auto` or absent: told from the content. */
  readonly format?: ChatLogFormat | 'auto' | undefined;
}

/** Called for each message in file order; the strings may share memory with the chunk read (copy what you keep). */
export type ChatMessageVisitor = (timeMs: number, user: string, text: string) => void;

function createDecoder(format: ChatLogFormat, sink: ChatLogSink): ChatLogDecoder {
  switch (format) {
    case 'irc':
      return new IrcLogDecoder(sink);
    case 'chatterino':
      return new ChatterinoLogDecoder(sink);
    case 'json-lines':
      return new JsonLinesDecoder(sink);
    case 'csv':
      return new CsvDecoder(sink);
    case 'twitch-downloader':
    case 'chat-downloader':
      return new JsonDocumentDecoder(format, sink);
  }
}

const expectedFormats = (): string =>
  `expected one of: ${CHAT_LOG_FORMATS.map((format) => `${format} — ${CHAT_LOG_FORMAT_NAMES[format]}`).join('; ')}`;

/**
 * Reads a chat log as a stream — one chunk in memory at a time, whatever the file's size —
 * telling its format from the content unless named, hashing its bytes, and handing every
 * message to `visit` in file order. A damaged line is skipped and counted with its line number;
 * a file that cannot be read, is empty, or holds no message at all is refused (ValidationError:
 * bad input) with the reason.
 */
export async function readChatLog(path: string, options: ChatLogReadOptions, visit: ChatMessageVisitor): Promise<ChatLogReading> {
  const what = `chat log ${path}`;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : String(error);
    throw new ValidationError(what, [`cannot read it: ${reason}`]);
  }
  let counts: { messages: number; other: number; damaged: number; first: number; last: number };
  let damagedLines: DamagedLine[];
  let decoder: ChatLogDecoder | undefined;
  let format: ChatLogFormat | undefined = options.format === 'auto' ? undefined : options.format;
  let lineCount: number;
  let bytes = 0;
  const hash = createHash('sha256');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new ValidationError(what, ['cannot read it: it is a folder']);
    if (info.size === 0) throw new ValidationError(what, ['the file is empty']);
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
    const raw = handle.createReadStream({ highWaterMark: CHUNK_BYTES, start: 0, autoClose: false });
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const source: Readable = gzip ? pipeline(raw, hashing, createGunzip(), () => undefined) : pipeline(raw, hashing, () => undefined);

    counts = { messages: 0, other: 0, damaged: 0, first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY };
    damagedLines = [];
    const tally = counts;
    const kept = damagedLines;
    const sink: ChatLogSink = {
      message(timeMs, user, text) {
        tally.messages++;
        if (timeMs < tally.first) tally.first = timeMs;
        if (timeMs > tally.last) tally.last = timeMs;
        visit(timeMs, user, text);
      },
      other() {
        tally.other++;
      },
      damaged(line, reason) {
        tally.damaged++;
        if (kept.length < DAMAGED_LINES_KEPT) kept.push({ line, reason });
      },
    };
    // Line formats are split into lines as bytes and each line decoded alone; formats whose
    // records span lines (CSV, JSON documents) are decoded chunk by chunk.
    let lines: ByteLineSplitter | undefined;
    let text: StringDecoder | undefined;
    const head: Buffer[] = [];
    let headBytes = 0;
    const feed = (chunk: Buffer): void => {
      if (lines) lines.push(chunk);
      else if (decoder?.input === 'text') decoder.push((text as StringDecoder).write(chunk));
    };
    const start = (): void => {
      const whole = Buffer.concat(head);
      let headText = whole.toString('utf8');
      if (headText.charCodeAt(0) === 0xfeff) headText = headText.slice(1);
      if (headText.trim() === '') throw new ValidationError(what, ['the file holds only white space']);
      format ??= detectChatLogFormat(headText);
      if (!format) {
        const firstLine = headText.trimStart().split('\n', 1)[0]?.slice(0, 80) ?? '';
        throw new ValidationError(what, [`cannot tell its format from its first line (${JSON.stringify(firstLine)}): ${expectedFormats()}; or name it with "format"`]);
      }
      const chosen = createDecoder(format, sink);
      decoder = chosen;
      if (chosen.input === 'lines') lines = new ByteLineSplitter((line, number) => chosen.line(line, number), (number) => sink.damaged(number, 'a line longer than 1 MiB: skipped'));
      else text = new StringDecoder('utf8');
      head.length = 0;
      feed(whole);
    };
    for await (const chunk of source) {
      if (decoder) feed(chunk as Buffer);
      else {
        head.push(chunk as Buffer);
        headBytes += (chunk as Buffer).length;
        if (headBytes >= HEAD_BYTES) start();
      }
    }
    if (!decoder) start();
    lines?.end();
    if (decoder?.input === 'text' && text) {
      const rest = text.end();
      if (rest) decoder.push(rest);
    }
    decoder?.end();
    lineCount = lines ? lines.lines : decoder?.input === 'text' ? decoder.lines : 0;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ValidationError(what, [code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'it starts like a gzip file but does not decompress (cut off or damaged)' : `cannot read it: ${(error as Error).message}`]);
  } finally {
    await handle.close().catch(() => undefined);
  }
  const readAs = decoder as ChatLogDecoder;
  const chosen = format as ChatLogFormat;
  if (readAs.refusal) throw new ValidationError(what, [`read as ${chosen}: ${readAs.refusal}`]);
  if (counts.messages === 0) {
    const examples = damagedLines.slice(0, 3).map((damaged) => `line ${damaged.line}: ${damaged.reason}`);
    throw new ValidationError(what, [
      `no chat message in it, read as ${chosen} (${CHAT_LOG_FORMAT_NAMES[chosen]}): ${lineCount} lines, ${counts.other} not messages, ${counts.damaged} damaged${examples.length > 0 ? ` (${examples.join('; ')})` : ''}`,
    ]);
  }
  return {
    path,
    fileName: basename(path),
    format: chosen,
    bytes,
    lines: lineCount,
    messages: counts.messages,
    otherLines: counts.other,
    damaged: counts.damaged,
    damagedLines,
    sha256: hash.digest('hex'),
    wallClock: readAs.wallClock,
    firstMs: counts.first,
    lastMs: counts.last,
  };
}

import type { ChatLogSink, TextChunkDecoder } from './chat-log-sink';
import { isRecord, readChatDownloaderItem, readTwitchDownloaderComment, type RecordReading } from './chat-record';
import { JsonArrayItems } from './json-array-items';
import { WholeSecondSpreader } from './whole-second-spreader';

/**
 * A JSON document holding an array of messages, read item by item as it streams:
 * TwitchDownloader's chat (`{"streamer": …, "video": …, "comments": [ … ], "embeddedData": …}`)
 * or chat-downloader's (`[ {…}, {…} ]`). TwitchDownloader's offsets are whole seconds since
 * Twitch's API gives no more: the messages of one second are spread over it.
 */
export class JsonDocumentDecoder implements TextChunkDecoder {
  readonly input = 'text';
  wallClock = false;
  private readonly items: JsonArrayItems;
  private readonly spreader: WholeSecondSpreader;
  private ended = false;

  constructor(
    private readonly format: 'twitch-downloader' | 'chat-downloader',
    private readonly sink: ChatLogSink,
  ) {
    this.spreader = new WholeSecondSpreader(sink);
    const read = format === 'twitch-downloader' ? readTwitchDownloaderComment : readChatDownloaderItem;
    this.items = new JsonArrayItems(
      format === 'twitch-downloader' ? 'comments' : undefined,
      (text, line) => this.item(text, line, read),
      (line, reason) => sink.damaged(line, reason),
    );
  }

  get lines(): number {
    return this.items.line;
  }

  get refusal(): string | undefined {
    if (!this.ended || this.items.foundArray) return undefined;
    return this.format === 'twitch-downloader'
      ? 'no "comments" array: expected TwitchDownloader\'s chat JSON ({"comments": [{"content_offset_seconds": …, "commenter": {"name": …}, "message": {"body": …}}, …]})'
      : 'not a JSON array: expected chat-downloader\'s JSON ([{"timestamp": …, "author": {"name": …}, "message": …}, …])';
  }

  push(text: string): void {
    this.items.push(text);
  }

  end(): void {
    this.items.end();
    this.spreader.flush();
    this.ended = true;
  }

  private item(text: string, line: number, read: (item: Record<string, unknown>) => RecordReading): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return this.sink.damaged(line, `not valid JSON (${(error as Error).message})`);
    }
    if (!isRecord(value)) return this.sink.damaged(line, 'not a JSON object');
    const reading = read(value);
    if (reading.kind === 'message') {
      if (reading.wallClock) this.wallClock = true;
      if (this.format === 'twitch-downloader' && reading.timeMs % 1000 === 0) this.spreader.add(reading.timeMs, reading.user, reading.text);
      else {
        this.spreader.flush();
        this.sink.message(reading.timeMs, reading.user, reading.text);
      }
    } else if (reading.kind === 'other') this.sink.other();
    else this.sink.damaged(line, reading.reason);
  }
}

import type { ChatLogDecoder, ChatLogSink } from './chat-log-sink';
import { readJsonLineObject } from './chat-record';
import { LineSplitter } from './line-splitter';

/** JSON Lines: one object per line, `{"t": 12.5, "user": "…", "text": "…"}` (or chat-downloader's items). */
export class JsonLinesDecoder implements ChatLogDecoder {
  wallClock = false;
  private readonly splitter: LineSplitter;

  constructor(private readonly sink: ChatLogSink) {
    this.splitter = new LineSplitter(
      (line, number) => this.line(line, number),
      (number) => sink.damaged(number, 'a line longer than 1 MiB: not a chat message'),
    );
  }

  get lines(): number {
    return this.splitter.lines;
  }

  push(text: string): void {
    this.splitter.push(text);
  }

  end(): void {
    this.splitter.end();
  }

  private line(line: string, number: number): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      return this.sink.damaged(number, `not valid JSON (${(error as Error).message})`);
    }
    const reading = readJsonLineObject(value);
    if (reading.kind === 'message') {
      if (reading.wallClock) this.wallClock = true;
      this.sink.message(reading.timeMs, reading.user, reading.text);
    } else if (reading.kind === 'other') this.sink.other();
    else this.sink.damaged(number, reading.reason);
  }
}

import type { ChatLogSink, LineDecoder } from './chat-log-sink';
import { readJsonLineObject } from './chat-record';

/** JSON Lines: one object per line, `{"t": 12.5, "user": "…", "text": "…"}` (or chat-downloader's items). */
export class JsonLinesDecoder implements LineDecoder {
  readonly input = 'lines';
  wallClock = false;

  constructor(private readonly sink: ChatLogSink) {}

  end(): void {
    // Every line was read as it came.
  }

  line(line: string, number: number): void {
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

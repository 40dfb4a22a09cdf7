import { parse, type Parser } from 'csv-parse';
import type { ChatLogSink, TextChunkDecoder } from './chat-log-sink';
import { readTimeUserText } from './chat-record';

const REQUIRED = ['t', 'user', 'text'] as const;

/**
 * CSV with a header naming `t`, `user` and `text` (in any order, other columns ignored), quoted
 * as RFC 4180 says (a text with a comma or a line break is in double quotes). csv-parse does the
 * quoting; a record it cannot read is skipped and counted with its line.
 */
export class CsvDecoder implements TextChunkDecoder {
  readonly input = 'text';
  wallClock = false;
  refusal: string | undefined;
  private readonly parser: Parser;
  private lastLine = 1;

  constructor(private readonly sink: ChatLogSink) {
    this.parser = parse({
      bom: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      columns: (header: string[]) => {
        const names = header.map((name) => name.trim().toLowerCase());
        const missing = REQUIRED.filter((name) => !names.includes(name));
        if (missing.length > 0) this.refusal = `its header (${header.join(',').slice(0, 200)}) has no ${missing.join(', ')} column: expected a first line naming t,user,text`;
        return names;
      },
      on_record: (record: Record<string, unknown>, context) => {
        const line = this.lastLine + 1;
        this.lastLine = context.lines;
        if (this.refusal) return null;
        const reading = readTimeUserText(record);
        if (reading.kind === 'message') {
          if (reading.wallClock) this.wallClock = true;
          sink.message(reading.timeMs, reading.user, reading.text);
        } else if (reading.kind === 'damaged') sink.damaged(line, reading.reason);
        return null;
      },
      on_skip: (error) => {
        const line = (error as { lines?: number } | undefined)?.lines ?? this.lastLine + 1;
        this.lastLine = line;
        sink.damaged(line, error ? error.message.replace(/ on line \d+$/, '') : 'not a CSV record');
        return undefined;
      },
    });
    this.parser.on('error', (error: Error) => {
      this.refusal ??= `not readable as CSV: ${error.message}`;
    });
  }

  get lines(): number {
    return this.lastLine;
  }

  push(text: string): void {
    this.parser.write(text);
  }

  end(): void {
    this.parser.end();
  }
}

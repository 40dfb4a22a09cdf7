/** Longest line kept; a longer one is counted damaged rather than held in memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * Splits a file's bytes into numbered lines (LF or CR LF) and decodes each line on its own.
 * Decoding line by line (V8's fast path for short strings) instead of whole chunks into one
 * large string is many times faster, and each line is a small string of its own, so nothing
 * kept from it holds a chunk alive. Only the unfinished last line waits between chunks.
 */
export class ByteLineSplitter {
  lines = 0;
  private tail: Buffer | undefined;
  /** Inside a line longer than MAX_LINE_BYTES: dropped up to its end. */
  private skipping = false;
  private first = true;

  constructor(
    private readonly onLine: (line: string, number: number) => void,
    private readonly onTooLong: (number: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.first) {
      this.first = false;
      // A UTF-8 byte order mark is not part of the first line.
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) start = 3;
    }
    if (this.tail || this.skipping) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) return this.keep(chunk.subarray(start));
      if (this.skipping) {
        this.skipping = false;
        this.lines++;
      } else {
        const line = Buffer.concat([this.tail as Buffer, chunk.subarray(start, end)]);
        this.tail = undefined;
        this.emit(line, 0, line.length);
      }
      start = end + 1;
    }
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      this.emit(chunk, start, end);
      start = end + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  end(): void {
    if (this.skipping) {
      this.skipping = false;
      this.lines++;
    } else if (this.tail) {
      const line = this.tail;
      this.tail = undefined;
      this.emit(line, 0, line.length);
    }
  }

  /** The start of a line whose end is in a later chunk (copied: the chunk is not kept). */
  private keep(part: Buffer): void {
    if (this.skipping || part.length === 0) return;
    const length = (this.tail?.length ?? 0) + part.length;
    if (length > MAX_LINE_BYTES) {
      this.tail = undefined;
      this.skipping = true;
      this.onTooLong(this.lines + 1);
      return;
    }
    this.tail = this.tail ? Buffer.concat([this.tail, part]) : Buffer.from(part);
  }

  private emit(buffer: Buffer, start: number, end: number): void {
    this.lines++;
    const stop = end > start && buffer[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
    this.onLine(buffer.toString('utf8', start, stop), this.lines);
  }
}

/** Longest line kept; a longer one is counted damaged rather than held in memory. */
export const MAX_LINE_LENGTH = 1024 * 1024;

/**
 * Splits streamed text into numbered lines (LF or CR LF), holding only the unfinished tail
 * between chunks, so memory stays flat whatever the file's size.
 */
export class LineSplitter {
  lines = 0;
  private tail = '';
  /** Inside a line longer than MAX_LINE_LENGTH: dropped up to its end. */
  private skipping = false;

  constructor(
    private readonly onLine: (line: string, number: number) => void,
    private readonly onTooLong: (number: number) => void,
  ) {}

  push(text: string): void {
    const data = this.tail === '' ? text : this.tail + text;
    this.tail = '';
    let start = 0;
    for (;;) {
      const end = data.indexOf('\n', start);
      if (end < 0) break;
      this.lines++;
      if (this.skipping) this.skipping = false;
      else {
        const stop = end > start && data.charCodeAt(end - 1) === 13 ? end - 1 : end;
        this.onLine(data.slice(start, stop), this.lines);
      }
      start = end + 1;
    }
    if (this.skipping) return;
    if (data.length - start > MAX_LINE_LENGTH) {
      this.skipping = true;
      this.onTooLong(this.lines + 1);
      return;
    }
    this.tail = data.slice(start);
  }

  end(): void {
    if (this.skipping) {
      this.lines++;
      this.skipping = false;
      return;
    }
    if (this.tail === '') return;
    this.lines++;
    const line = this.tail.endsWith('\r') ? this.tail.slice(0, -1) : this.tail;
    this.tail = '';
    this.onLine(line, this.lines);
  }
}

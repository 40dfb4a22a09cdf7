/** Largest item kept; a longer one is counted damaged (a brace out of place swallows what follows). */
const MAX_ITEM_LENGTH = 1024 * 1024;

const QUOTE = 34;
const BACKSLASH = 92;
const NEWLINE = 10;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;
const STRING_END = /["\\\n]/g;

/**
 * Finds the items of one array in a JSON document streamed in chunks — the document itself
 * (`[{…}, {…}]`) or the array under one top-level key (`{"comments": [{…}, …], …}`) — and
 * hands each item's text, with the line it starts on, to be parsed on its own. Only the item
 * being read is held, so memory stays flat whatever the document's size, and a damaged item
 * costs that item only: the next one is read as usual. (A streaming JSON parser stops at the
 * first syntax error and keeps no line numbers; here a bad item is skipped and named by line.)
 */
export class JsonArrayItems {
  /** Lines read so far (the current line). */
  line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Depth inside the target array (its items start here); -1 outside it. */
  private arrayDepth = -1;
  private found = false;
  private finished = false;
  /** Last string read at depth 1 (a key of the top-level object), while short. */
  private key = '';
  private keyOpen = false;
  private afterColon = false;
  private item: string[] | undefined;
  private itemLength = 0;
  private itemLine = 0;
  private itemSkipped = false;
  private strayLine = 0;

  constructor(
    /** The top-level key whose array holds the items; undefined: the document is the array. */
    private readonly key_: string | undefined,
    private readonly onItem: (text: string, line: number) => void,
    private readonly onDamaged: (line: number, reason: string) => void,
  ) {}

  /** The target array was found (the document is one, or has the key). */
  get foundArray(): boolean {
    return this.found;
  }

  push(chunk: string): void {
    let segmentStart = this.item ? 0 : -1;
    const length = chunk.length;
    let index = 0;
    while (index < length) {
      if (this.inString) {
        if (this.escaped) {
          // The character after a backslash ends nothing.
          this.escaped = false;
          if (chunk.charCodeAt(index) === NEWLINE) this.line++;
          if (this.keyOpen) this.captureKey(chunk, index, index + 1);
          index++;
          continue;
        }
        STRING_END.lastIndex = index;
        const match = STRING_END.exec(chunk);
        if (!match) {
          if (this.keyOpen) this.captureKey(chunk, index, length);
          break;
        }
        const at = match.index;
        if (this.keyOpen) this.captureKey(chunk, index, at);
        if (chunk.charCodeAt(at) === BACKSLASH) {
          this.escaped = true;
          index = at + 1;
          continue;
        }
        // A raw newline cannot be inside a JSON string: the string (and its item) is broken;
        // ending it here keeps the brackets that follow counted right.
        if (chunk.charCodeAt(at) === NEWLINE) this.line++;
        this.inString = false;
        this.keyOpen = false;
        index = at + 1;
        continue;
      }
      const code = chunk.charCodeAt(index);
      if (code === NEWLINE) {
        this.line++;
        index++;
        continue;
      }
      if (code === 32 || code === 9 || code === 13) {
        index++;
        continue;
      }
      const atArray = this.arrayDepth >= 0 && this.depth === this.arrayDepth && !this.item;
      if (atArray && code !== COMMA && code !== CLOSE_BRACKET) {
        if (code === OPEN_BRACE || code === OPEN_BRACKET) {
          this.item = [];
          this.itemLength = 0;
          this.itemLine = this.line;
          this.itemSkipped = false;
          segmentStart = index;
        } else if (this.strayLine !== this.line) {
          this.strayLine = this.line;
          this.onDamaged(this.line, 'not an item of the array (expected {…})');
        }
      }
      if (code === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.key_ !== undefined && this.arrayDepth < 0 && !this.afterColon) {
          this.keyOpen = true;
          this.key = '';
        }
        index++;
        continue;
      }
      if (code === COLON && this.depth === 1) this.afterColon = true;
      else if (code === COMMA && this.depth === 1) this.afterColon = false;
      if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        this.depth++;
        if (code === OPEN_BRACKET && this.arrayDepth < 0 && !this.finished) {
          if ((this.key_ === undefined && this.depth === 1) || (this.key_ !== undefined && this.depth === 2 && this.afterColon && this.key === this.key_)) {
            this.arrayDepth = this.depth;
            this.found = true;
          }
        }
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        if (this.depth === this.arrayDepth && code === CLOSE_BRACKET && !this.item) {
          this.arrayDepth = -1;
          this.finished = true;
        }
        this.depth = Math.max(0, this.depth - 1);
        if (this.item && this.depth === this.arrayDepth) {
          this.finishItem(chunk, segmentStart, index + 1);
          segmentStart = -1;
        }
      }
      index++;
    }
    if (this.item && segmentStart >= 0) this.keep(chunk.slice(segmentStart));
  }

  /** The document ended: an item still open is cut off. */
  end(): void {
    if (this.item) {
      this.item = undefined;
      if (!this.itemSkipped) this.onDamaged(this.itemLine, 'the file ends inside this item (cut off?)');
    }
  }

  private captureKey(chunk: string, from: number, to: number): void {
    if (this.key.length < 64) this.key += chunk.slice(from, Math.min(to, from + 64));
  }

  private keep(part: string): void {
    if (this.itemSkipped) return;
    this.itemLength += part.length;
    if (this.itemLength > MAX_ITEM_LENGTH) {
      this.itemSkipped = true;
      this.item = [];
      this.onDamaged(this.itemLine, 'an item longer than 1 MiB (a bracket out of place?): skipped');
      return;
    }
    this.item?.push(part);
  }

  private finishItem(chunk: string, from: number, to: number): void {
    const parts = this.item ?? [];
    this.item = undefined;
    if (this.itemSkipped) return;
    const last = chunk.slice(Math.max(0, from), to);
    if (this.itemLength + last.length > MAX_ITEM_LENGTH) {
      this.onDamaged(this.itemLine, 'an item longer than 1 MiB (a bracket out of place?): skipped');
      return;
    }
    this.onItem(parts.length === 0 ? last : parts.join('') + last, this.itemLine);
  }
}

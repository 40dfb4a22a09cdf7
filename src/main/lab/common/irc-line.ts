/**
 * IRC lines as Twitch chat writes and reads them: an optional IRCv3 tag section, an optional
 * prefix, a command and its parameters (RFC 1459 framing, IRCv3 message-tags escaping).
 * Hand-written because it is a few lines and sits on the hot path of every viewer message. Common:
 * the chat endpoint (engine thread) and the chat recorder (host) both speak it.
 */

/** One parsed IRC line. */
export interface IrcMessage {
  readonly tags: ReadonlyMap<string, string>;
  readonly prefix: string | undefined;
  /** Upper-cased: `PRIVMSG`, `JOIN`, `001`. */
  readonly command: string;
  /** Middle parameters, then the trailing one (after ` :`) as the last element. */
  readonly params: readonly string[];
}

const NO_TAGS: ReadonlyMap<string, string> = new Map();

/** Escapes a tag value per IRCv3 (`;` `\s` `\\` `\r` `\n`). */
export function escapeTagValue(value: string): string {
  // The common case (names, numbers, uuids) has nothing to escape: no new string.
  if (!/[;\s\\]/.test(value)) return value;
  let out = '';
  for (const character of value) {
    switch (character) {
      case ';':
        out += '\\:';
        break;
      case ' ':
        out += '\\s';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\n':
        out += '\\n';
        break;
      default:
        out += character;
    }
  }
  return out;
}

/** Reverses escapeTagValue; a lone trailing backslash is dropped, as the spec says. */
export function unescapeTagValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let index = 0; index < value.length; index++) {
    const character = value[index];
    if (character !== '\\') {
      out += character;
      continue;
    }
    const next = value[++index];
    if (next === undefined) break;
    out += next === ':' ? ';' : next === 's' ? ' ' : next === 'r' ? '\r' : next === 'n' ? '\n' : next;
  }
  return out;
}

/** Parses one line (without its CR LF); undefined for an empty line. */
export function parseIrcLine(line: string): IrcMessage | undefined {
  let rest = line;
  let tags = NO_TAGS;
  if (rest.startsWith('@')) {
    const space = rest.indexOf(' ');
    if (space < 0) return undefined;
    const parsed = new Map<string, string>();
    for (const pair of rest.slice(1, space).split(';')) {
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      if (equals < 0) parsed.set(pair, '');
      else parsed.set(pair.slice(0, equals), unescapeTagValue(pair.slice(equals + 1)));
    }
    tags = parsed;
    rest = rest.slice(space + 1).trimStart();
  }
  let prefix: string | undefined;
  if (rest.startsWith(':')) {
    const space = rest.indexOf(' ');
    if (space < 0) return undefined;
    prefix = rest.slice(1, space);
    rest = rest.slice(space + 1).trimStart();
  }
  const params: string[] = [];
  let command = '';
  while (rest.length > 0) {
    if (command !== '' && rest.startsWith(':')) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(' ');
    const word = space < 0 ? rest : rest.slice(0, space);
    if (command === '') command = word.toUpperCase();
    else params.push(word);
    rest = space < 0 ? '' : rest.slice(space + 1).trimStart();
  }
  if (command === '') return undefined;
  return { tags, prefix, command, params };
}

/** Formats the tag section (`@a=1;b=2 `) from pairs in the order given; empty for no pairs. */
export function formatTags(tags: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [key, value] of tags) out += `${out === '' ? '@' : ';'}${key}=${escapeTagValue(value)}`;
  return out === '' ? '' : `${out} `;
}

/**
 * Splits a byte stream into lines: CR LF as IRC says, a bare LF as lenient servers (and Twitch)
 * accept. Keeps the unfinished tail for the next chunk.
 */
export class IrcLineSplitter {
  private tail = '';

  /** Adds a chunk; returns the complete lines it finished, without their line ends. */
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    const out: string[] = [];
    for (const line of lines) {
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (trimmed !== '') out.push(trimmed);
    }
    return out;
  }

  /** Characters waiting for their line end. */
  get pending(): number {
    return this.tail.length;
  }
}

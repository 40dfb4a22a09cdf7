import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ChatLogFormat } from '../../src/shared/chat-log';
import { ValidationError } from '../../src/shared/format-issues';
import { detectChatLogFormat } from '../../src/main/lab/common/chat-log/chat-log-format';
import { JsonArrayItems } from '../../src/main/lab/common/chat-log/json-array-items';
import { readChatLog, type ChatLogReading } from '../../src/main/lab/common/chat-log/read-chat-log';

interface Message {
  timeMs: number;
  user: string;
  text: string;
}

async function read(path: string, format?: ChatLogFormat): Promise<{ reading: ChatLogReading; messages: Message[] }> {
  const messages: Message[] = [];
  const reading = await readChatLog(path, { format }, (timeMs, user, text) => messages.push({ timeMs, user, text }));
  return { reading, messages };
}

const samples: [string, ChatLogFormat][] = [
  ['sample-irc.log', 'irc'],
  ['sample-twitch-downloader.json', 'twitch-downloader'],
  ['sample-chat-downloader.json', 'chat-downloader'],
  ['sample-chatterino.log', 'chatterino'],
  ['sample.jsonl', 'json-lines'],
  ['sample.csv', 'csv'],
];

const temporary = mkdtempSync(join(tmpdir(), 'cvlab-chat-log-'));

describe('the shipped chat logs', () => {
  it.each(samples)('%s is told from its content as %s and holds the same 578 messages as the others', async (file, format) => {
    const { reading, messages } = await read(`resources/chat-logs/${file}`);
    expect(reading.format).toBe(format);
    expect(reading.messages).toBe(578);
    expect(reading.damaged).toBe(0);
    expect(messages[0]).toMatchObject({ user: 'sync_pulse_sam', text: 'hype' });
    expect(messages.find((message) => message.user === 'yume_signal')).toBeDefined();
    // Emoji, other scripts, a long message and a command all arrive as written.
    expect(messages.some((message) => message.text === '😀 so pretty')).toBe(true);
    expect(messages.some((message) => message.text === 'これはすごい')).toBe(true);
    expect(messages.some((message) => message.text.length > 256)).toBe(true);
    expect(messages.some((message) => message.text === '!set hue 0.15')).toBe(true);
    // Whole-second formats spread a second's messages over it; the others keep milliseconds.
    const spanMs = reading.lastMs - reading.firstMs;
    expect(spanMs).toBeGreaterThan(290_000);
    expect(spanMs).toBeLessThan(300_000);
    expect(reading.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('skips what is not a chat message without calling it damaged (joins, pings, a resub, a timeout, system lines)', async () => {
    expect((await read('resources/chat-logs/sample-irc.log')).reading.otherLines).toBe(15);
    expect((await read('resources/chat-logs/sample-chat-downloader.json')).reading.otherLines).toBe(1);
    expect((await read('resources/chat-logs/sample-chatterino.log')).reading.otherLines).toBe(3);
  });

  it('reads a gzip-compressed log (TwitchDownloader compresses on request) and hashes the file as stored', async () => {
    const path = join(temporary, 'sample.json.gz');
    writeFileSync(path, gzipSync(readFileSync('resources/chat-logs/sample-twitch-downloader.json')));
    const { reading } = await read(path);
    expect(reading.format).toBe('twitch-downloader');
    expect(reading.messages).toBe(578);
  });
});

describe('damaged lines: skipped, counted with their line numbers, never a crash', () => {
  const damaged = (reading: ChatLogReading): number[] => reading.damagedLines.map((line) => line.line);

  it('raw IRC: a bad tmi-sent-ts, no time, garbage, no text, no sender, a broken receive time, a cut last line', async () => {
    const { reading, messages } = await read('test/fixtures/chat-logs/damaged-irc.log');
    expect(reading.format).toBe('irc');
    expect(messages.map((message) => message.user)).toEqual(['pixel_moth', 'moire_mira', 'sync_pulse_sam', 'ramp_runner']);
    // Time from tmi-sent-ts, else the receive time before the line, else the IRCv3 time tag.
    expect(messages.map((message) => message.timeMs)).toEqual([1741377600100, Date.parse('2025-03-07T20:00:02.000Z'), 1741377603000, Date.parse('2025-03-07T20:00:04.000Z')]);
    expect(damaged(reading)).toEqual([3, 4, 5, 6, 7, 10, 14]);
    expect(reading.damagedLines[1]?.reason).toMatch(/no time: expected a tmi-sent-ts tag or a receive time/);
    expect(reading.otherLines).toBe(2);
  });

  it('Chatterino: an impossible time, no brackets, a cut time; a system line is not damage; midnight rolls the day', async () => {
    const { reading, messages } = await read('test/fixtures/chat-logs/damaged-chatterino.log');
    expect(reading.format).toBe('chatterino');
    expect(messages.map((message) => message.user)).toEqual(['pixel_moth', 'gridweaver', 'cathode_kay', 'yume_signal']);
    const start = messages[0]?.timeMs ?? 0;
    // Two messages in one whole second are spread over it; past midnight is two seconds later, not a day earlier.
    expect(messages.map((message) => message.timeMs - start)).toEqual([0, 500, 2000, 4000]);
    expect(damaged(reading)).toEqual([4, 5, 9]);
    expect(reading.otherLines).toBe(3);
  });

  it('JSON Lines: a bad t, no text, not JSON, an empty user, an array, a cut last line', async () => {
    const { reading, messages } = await read('test/fixtures/chat-logs/damaged.jsonl');
    expect(reading.format).toBe('json-lines');
    expect(messages.map((message) => [message.timeMs, message.user])).toEqual([
      [500, 'pixel_moth'],
      [3500, 'moire_mira'],
      [4000, 'sync_pulse_sam'],
    ]);
    expect(damaged(reading)).toEqual([2, 3, 4, 5, 8, 10]);
  });

  it('CSV: too many and too few fields, a bad t, no user; a quoted comma and a quoted line break are one text', async () => {
    const { reading, messages } = await read('test/fixtures/chat-logs/damaged.csv');
    expect(reading.format).toBe('csv');
    expect(messages.map((message) => message.text)).toEqual(['hue=0.4', 'hue=0.2, sat=50%', 'a text\nover two lines', '!set sat 80%']);
    expect(damaged(reading)).toEqual([4, 5, 6, 9]);
    expect(reading.damagedLines[0]?.reason).toMatch(/columns length is 3, got 4/);
  });

  it("TwitchDownloader: a bad offset, no body, a stray line, a broken string, a cut file; the display name stands in for a missing login", async () => {
    const { reading, messages } = await read('test/fixtures/chat-logs/damaged-twitch-downloader.json');
    expect(reading.format).toBe('twitch-downloader');
    expect(messages.map((message) => [message.timeMs, message.user, message.text])).toEqual([
      [1000, 'pixel_moth', 'hue=0.4'],
      [5500, 'CathodeKay', 'a display name only'],
      [6000, 'moire_mira', 'an item over two lines'],
    ]);
    expect(damaged(reading)).toEqual([6, 7, 8, 9, 14]);
    expect(reading.damagedLines.at(-1)?.reason).toMatch(/ends inside this item/);
  });

  it('chat-downloader: no time, no author, a trailing comma, a bare string, a cut file; a resub is not a chat message', async () => {
    const { reading, messages } = await read('test/fixtures/chat-logs/damaged-chat-downloader.json');
    expect(reading.format).toBe('chat-downloader');
    expect(messages.map((message) => [message.timeMs, message.user])).toEqual([
      [1741377600100, 'pixel_moth'],
      [1741377604000, 'SyncPulseSam'],
    ]);
    expect(damaged(reading)).toEqual([3, 4, 6, 7, 9]);
    expect(reading.otherLines).toBe(1);
  });
});

describe('files that cannot be read are refused with the reason (bad input)', () => {
  const refusal = async (path: string, format?: ChatLogFormat): Promise<string> => {
    const error = await read(path, format).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  };

  it('a missing file, an empty one, a folder, one of no known format, one with no message at all', async () => {
    expect(await refusal(join(temporary, 'missing.log'))).toMatch(/cannot read it: no such file/);
    const empty = join(temporary, 'empty.log');
    writeFileSync(empty, '');
    expect(await refusal(empty)).toMatch(/the file is empty/);
    expect(await refusal(temporary)).toMatch(/it is a folder/);
    const prose = join(temporary, 'prose.txt');
    writeFileSync(prose, 'Dear diary,\ntoday the synth was purple.\n');
    expect(await refusal(prose)).toMatch(/cannot tell its format from its first line \("Dear diary,"\).*name it with "format"/);
    const noMessages = join(temporary, 'no-messages.log');
    writeFileSync(noMessages, ':tmi.twitch.tv 001 justinfan1 :Welcome\nPING :tmi.twitch.tv\n%%% junk\n');
    expect(await refusal(noMessages)).toMatch(/no chat message in it, read as irc .*3 lines, 2 not messages, 1 damaged \(line 3: not an IRC line/);
  });

  it('a named format wins over the content, and says what it expected when the content is not that', async () => {
    expect(await refusal('resources/chat-logs/sample.jsonl', 'twitch-downloader')).toMatch(/read as twitch-downloader: no "comments" array/);
    expect(await refusal('resources/chat-logs/sample.jsonl', 'csv')).toMatch(/read as csv: its header .* has no t, user, text column/);
  });
});

describe('format detection and the JSON item splitter', () => {
  it('tells each format from its first bytes', () => {
    expect(detectChatLogFormat('2025-03-07T20:00:00.000Z @badge-info=;tmi-sent-ts=1 :a!a@a PRIVMSG #c :x')).toBe('irc');
    expect(detectChatLogFormat(':tmi.twitch.tv 001 justinfan1 :Welcome')).toBe('irc');
    expect(detectChatLogFormat('PING :tmi.twitch.tv')).toBe('irc');
    expect(detectChatLogFormat('# Start logging at 2025-03-07 20:00:00 CET\n')).toBe('chatterino');
    expect(detectChatLogFormat('[20:00:01] pixel_moth: hi')).toBe('chatterino');
    expect(detectChatLogFormat('[\n    {"author": {}}')).toBe('chat-downloader');
    expect(detectChatLogFormat('{"comments": [], "video": {}}')).toBe('twitch-downloader');
    expect(detectChatLogFormat('{\n  "streamer": {"name": "x"},\n  "comments": [')).toBe('twitch-downloader');
    expect(detectChatLogFormat('{"t": 1, "user": "a", "text": "b"}\n{"t": 2')).toBe('json-lines');
    expect(detectChatLogFormat('user,t,text\n1,2,3')).toBe('csv');
    expect(detectChatLogFormat('"t","user","text"\n')).toBe('csv');
    expect(detectChatLogFormat('hello')).toBeUndefined();
  });

  it('finds the same items whatever the chunks the document arrives in', () => {
    const damagedDocument = readFileSync('test/fixtures/chat-logs/damaged-twitch-downloader.json', 'utf8');
    const whole = readFileSync('resources/chat-logs/sample-twitch-downloader.json', 'utf8');
    const split = (text: string, sizes: () => number): { items: string[]; damaged: number[] } => {
      const items: string[] = [];
      const damaged: number[] = [];
      const splitter = new JsonArrayItems('comments', (item, line) => items.push(`${line}:${item}`), (line) => damaged.push(line));
      for (let at = 0; at < text.length; ) {
        const size = sizes();
        splitter.push(text.slice(at, at + size));
        at += size;
      }
      splitter.end();
      return { items, damaged };
    };
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return 1 + (seed % 97);
    };
    for (const text of [damagedDocument, whole]) {
      const once = split(text, () => text.length);
      expect(once.items.length).toBeGreaterThan(0);
      expect(split(text, () => 1)).toEqual(once);
      expect(split(text, random)).toEqual(once);
    }
  });
});

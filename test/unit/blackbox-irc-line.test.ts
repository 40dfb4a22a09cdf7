import { describe, expect, it } from 'vitest';
import { escapeTagValue, formatTags, IrcLineSplitter, parseIrcLine, unescapeTagValue } from '../../src/main/lab/common/irc-line';

describe('IRC lines', () => {
  it('escapes tag values per IRCv3 and reads them back', () => {
    const value = 'a;b c\\d\r\ne';
    expect(escapeTagValue(value)).toBe('a\\:b\\sc\\\\d\\r\\ne');
    expect(unescapeTagValue(escapeTagValue(value))).toBe(value);
    expect(unescapeTagValue('trailing\\')).toBe('trailing');
  });

  it('parses tags, prefix, middle and trailing parameters of a Twitch PRIVMSG', () => {
    const line = `${formatTags([['display-name', 'Some One'], ['emotes', ''], ['mod', '0']])}:someone!someone@someone.tmi.twitch.tv PRIVMSG #cvlab :hue=0.4 :) ok`;
    const message = parseIrcLine(line);
    expect(message?.command).toBe('PRIVMSG');
    expect(message?.prefix).toBe('someone!someone@someone.tmi.twitch.tv');
    expect(message?.params).toEqual(['#cvlab', 'hue=0.4 :) ok']);
    expect(Object.fromEntries(message?.tags ?? [])).toEqual({ 'display-name': 'Some One', emotes: '', mod: '0' });
  });

  it('reads commands without prefix or trailing, and ignores empty lines', () => {
    expect(parseIrcLine('ping')).toMatchObject({ command: 'PING', params: [] });
    expect(parseIrcLine('JOIN #a,#b')).toMatchObject({ command: 'JOIN', params: ['#a,#b'] });
    expect(parseIrcLine('')).toBeUndefined();
  });

  it('splits a stream on CR LF or LF, keeping a partial line for the next chunk', () => {
    const splitter = new IrcLineSplitter();
    expect(splitter.push('NICK a\r\nJOIN #c')).toEqual(['NICK a']);
    expect(splitter.pending).toBe(7);
    expect(splitter.push('vlab\nPING\r\n\r\n')).toEqual(['JOIN #cvlab', 'PING']);
  });
});

import type { ChatLogFormat } from '../../../../shared/chat-log';

const CHATTERINO = /^(?:# (?:Start|Stop) logging at |\[\d{1,2}:\d{2}:\d{2}\] )/;
const IRC = /^(?:\d\S*\s+)?(?:[@:]|(?:PING|PONG|CAP|NOTICE|PRIVMSG|JOIN|PART|\d{3})(?:\s|$))/;
const TWITCH_DOWNLOADER_KEY = /"(?:comments|content_offset_seconds|streamer|FileInfo)"\s*:/;

/**
 * Tells a log's format from its first bytes (the text of up to 64 KiB, without a BOM);
 * undefined when it looks like none of them.
 */
export function detectChatLogFormat(head: string): ChatLogFormat | undefined {
  const text = head.trimStart();
  if (text === '') return undefined;
  const newline = text.indexOf('\n');
  const firstLine = (newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (CHATTERINO.test(firstLine)) return 'chatterino';
  if (firstLine.startsWith('[')) return 'chat-downloader';
  if (firstLine.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(firstLine);
      if (typeof value === 'object' && value !== null) {
        return 'comments' in value || 'streamer' in value || 'video' in value ? 'twitch-downloader' : 'json-lines';
      }
    } catch {
      // A document over several lines (or one longer than the head), or a damaged first line.
    }
    return TWITCH_DOWNLOADER_KEY.test(text) ? 'twitch-downloader' : 'json-lines';
  }
  if (IRC.test(firstLine)) return 'irc';
  const header = firstLine.split(',').map((name) => name.trim().replace(/^"|"$/g, '').toLowerCase());
  if (header.includes('t') && header.includes('user') && header.includes('text')) return 'csv';
  return undefined;
}

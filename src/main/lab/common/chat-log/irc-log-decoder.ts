import type { ChatLogSink, LineDecoder } from './chat-log-sink';
import { isoTime } from './log-time';

const AT = 64;
const COLON = 58;
const SPACE = 32;
const COMMAND = /^(?:[A-Za-z]+|\d{3})$/;
const WHOLE_NUMBER = /^\d+$/;
const BAD_RECEIVE_TIME = 'starts with a digit but not with a receive time (an ISO 8601 time or ms since the epoch) and a space';

/**
 * Raw IRC as Twitch sends it, one line each, optionally after the time it was received (an ISO
 * 8601 time or ms since the epoch, as `cvlab chat record` writes it):
 * `2025-03-07T20:15:00.120Z @badge-info=;…;tmi-sent-ts=1741378500118;… :login!login@login.tmi.twitch.tv PRIVMSG #channel :text`.
 * A PRIVMSG is a message, its time from `tmi-sent-ts` (Twitch's own clock), else the IRCv3 `time`
 * tag, else the receive time; every other command is skipped. Fields are found with indexOf
 * rather than a full parse into a tag map: this runs for every line of logs of millions of lines.
 */
export class IrcLogDecoder implements LineDecoder {
  readonly input = 'lines';
  readonly wallClock = true;

  constructor(private readonly sink: ChatLogSink) {}

  end(): void {
    // Every line was read as it came.
  }

  line(line: string, number: number): void {
    if (line.length === 0) return;
    const sink = this.sink;
    let position = 0;
    // The receive time before the line is read only when no tag gives the time (most lines have tmi-sent-ts).
    let stampEnd = -1;
    const first = line.charCodeAt(0);
    if (first >= 48 && first <= 57) {
      stampEnd = line.indexOf(' ');
      if (stampEnd < 0) return sink.damaged(number, BAD_RECEIVE_TIME);
      position = stampEnd + 1;
    }
    let tagsStart = -1;
    let tagsEnd = -1;
    if (line.charCodeAt(position) === AT) {
      tagsEnd = line.indexOf(' ', position);
      if (tagsEnd < 0) return sink.damaged(number, 'tags (@…) with nothing after them');
      tagsStart = position + 1;
      position = skipSpaces(line, tagsEnd);
    }
    let nickStart = -1;
    let nickEnd = -1;
    if (line.charCodeAt(position) === COLON) {
      const end = line.indexOf(' ', position);
      if (end < 0) return sink.damaged(number, 'a prefix (:…) with no command after it');
      const bang = line.indexOf('!', position);
      nickStart = position + 1;
      nickEnd = bang > 0 && bang < end ? bang : end;
      position = skipSpaces(line, end);
    }
    const commandEnd = line.indexOf(' ', position);
    const command = commandEnd < 0 ? line.slice(position) : line.slice(position, commandEnd);
    if (command !== 'PRIVMSG' && command.toUpperCase() !== 'PRIVMSG') {
      if (COMMAND.test(command)) return sink.other();
      return sink.damaged(number, 'not an IRC line: expected [receive time] [@tags] [:prefix] COMMAND parameters');
    }
    const textStart = commandEnd < 0 ? -1 : line.indexOf(' :', commandEnd);
    if (textStart < 0) return sink.damaged(number, 'a PRIVMSG without its text (" :text" after the channel)');
    if (nickStart < 0 || nickEnd <= nickStart) return sink.damaged(number, 'a PRIVMSG without its sender (":login!login@host" before PRIVMSG)');
    let timeMs = Number.NaN;
    if (tagsStart >= 0) {
      const sent = tagValue(line, tagsStart, tagsEnd, 'tmi-sent-ts=');
      if (sent !== undefined) {
        if (!WHOLE_NUMBER.test(sent)) return sink.damaged(number, 'its tmi-sent-ts tag is not a whole number of ms');
        timeMs = Number(sent);
      } else {
        const time = tagValue(line, tagsStart, tagsEnd, 'time=');
        if (time !== undefined) timeMs = isoTime(time)?.ms ?? Number.NaN;
      }
    }
    if (Number.isNaN(timeMs) && stampEnd > 0) {
      timeMs = receiveTime(line.slice(0, stampEnd));
      if (Number.isNaN(timeMs)) return sink.damaged(number, BAD_RECEIVE_TIME);
    }
    if (Number.isNaN(timeMs)) return sink.damaged(number, 'a PRIVMSG with no time: expected a tmi-sent-ts tag or a receive time before the line');
    sink.message(timeMs, line.slice(nickStart, nickEnd), line.slice(textStart + 2));
  }
}

function skipSpaces(line: string, from: number): number {
  let position = from;
  while (line.charCodeAt(position) === SPACE) position++;
  return position;
}

/** A receive time: ms since the epoch, or an ISO 8601 time. */
function receiveTime(stamp: string): number {
  if (WHOLE_NUMBER.test(stamp)) return Number(stamp);
  return isoTime(stamp)?.ms ?? Number.NaN;
}

/** The raw value of tag `key=` inside line[start, end), or undefined when the tag is absent. */
function tagValue(line: string, start: number, end: number, key: string): string | undefined {
  let at = line.indexOf(key, start);
  while (at >= 0 && at < end) {
    if (at === start || line.charCodeAt(at - 1) === 59) {
      const valueStart = at + key.length;
      const semicolon = line.indexOf(';', valueStart);
      return line.slice(valueStart, semicolon < 0 || semicolon > end ? end : semicolon);
    }
    at = line.indexOf(key, at + 1);
  }
  return undefined;
}

import type { ChatLogSink, LineDecoder } from './chat-log-sink';
import { WholeSecondSpreader } from './whole-second-spreader';

const HEADER = /^# (Start|Stop) logging at (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/;
const STAMP = /^\[(\d{1,2}):(\d{2}):(\d{2})\] /;
const LOGIN = /^[A-Za-z0-9_]{1,25}$/;
/** Anything but printable ASCII: a display name in other letters than the login's. */
const OTHER_LETTERS = /[^ -~]/;
const DAY_SECONDS = 86_400;

/**
 * Chatterino's log files: `# Start logging at 2025-03-07 20:00:00 CET`, then one line per
 * message, `[20:00:01] login: text` (or `[20:00:01] 表示名 login: text` when the display name is
 * not the login in other letters); lines with no `login: ` are system lines (subs, timeouts).
 * The log keeps whole seconds only (the messages of one second are spread over it). A time that
 * jumps back hours without a new header is past midnight.
 */
export class ChatterinoLogDecoder implements LineDecoder {
  readonly input = 'lines';
  readonly wallClock = false;
  private dayStartMs = 0;
  private dayOffset = 0;
  private previousSecond = -1;
  private readonly spreader: WholeSecondSpreader;

  constructor(private readonly sink: ChatLogSink) {
    this.spreader = new WholeSecondSpreader(sink);
  }

  end(): void {
    this.spreader.flush();
  }

  line(line: string, number: number): void {
    if (line.length === 0) return;
    const sink = this.sink;
    if (line.charCodeAt(0) === 35) {
      const header = HEADER.exec(line);
      if (header?.[1] === 'Start') {
        this.spreader.flush();
        this.dayStartMs = Date.UTC(Number(header[2]), Number(header[3]) - 1, Number(header[4]));
        this.dayOffset = 0;
        this.previousSecond = -1;
      }
      return sink.other();
    }
    const stamp = STAMP.exec(line);
    if (!stamp) return sink.damaged(number, 'expected "[hh:mm:ss] login: text" or a "# Start logging at" line');
    const hours = Number(stamp[1]);
    const minutes = Number(stamp[2]);
    const seconds = Number(stamp[3]);
    if (hours > 23 || minutes > 59 || seconds > 59) return sink.damaged(number, `[${stamp[1]}:${stamp[2]}:${stamp[3]}] is not a time of day`);
    const rest = line.slice(stamp[0].length);
    const colon = rest.indexOf(': ');
    if (colon < 0) return sink.other();
    const names = rest.slice(0, colon);
    const space = names.lastIndexOf(' ');
    const login = space < 0 ? names : names.slice(space + 1);
    // A name with a space is "display name, login" only when the display name is in other letters.
    if (!LOGIN.test(login) || (space >= 0 && !OTHER_LETTERS.test(names.slice(0, space)))) return sink.other();
    const second = hours * 3600 + minutes * 60 + seconds;
    if (this.previousSecond >= 0 && second < this.previousSecond - 3600) this.dayOffset += DAY_SECONDS;
    this.previousSecond = second;
    this.spreader.add(this.dayStartMs + (this.dayOffset + second) * 1000, login, rest.slice(colon + 2));
  }
}

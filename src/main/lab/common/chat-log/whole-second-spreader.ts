import type { ChatLogSink } from './chat-log-sink';

/**
 * Logs that keep whole seconds only (Chatterino's, TwitchDownloader's since Twitch's API gives
 * whole seconds) would play every message of a second at the same instant. Held until the
 * second changes, the messages of one second are spread evenly over it: per-second counts stay
 * as recorded, and a burst stays a burst rather than a spike.
 */
export class WholeSecondSpreader {
  private secondMs = Number.NaN;
  private readonly users: string[] = [];
  private readonly texts: string[] = [];

  constructor(private readonly sink: ChatLogSink) {}

  /** A message stamped with the whole second starting at `secondMs`. */
  add(secondMs: number, user: string, text: string): void {
    if (secondMs !== this.secondMs) this.flush();
    this.secondMs = secondMs;
    this.users.push(user);
    this.texts.push(text);
  }

  /** Hands on the second held, spread over it. */
  flush(): void {
    const count = this.users.length;
    for (let index = 0; index < count; index++) {
      this.sink.message(this.secondMs + (index * 1000) / count, this.users[index] as string, this.texts[index] as string);
    }
    this.users.length = 0;
    this.texts.length = 0;
    this.secondMs = Number.NaN;
  }
}

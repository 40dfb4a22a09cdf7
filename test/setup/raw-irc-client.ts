// A plain IRC client for tests: a bot, a viewer or a feeder, with nothing of a library between
// the test and the lines on the wire.
import { connect, type Socket } from 'node:net';
import { parseIrcLine, type IrcMessage } from '../../src/main/lab/common/irc-line';

/** A plain IRC client over TCP, as a bot written against irc.chat.twitch.tv:6667 would be. */
export class RawIrcClient {
  readonly lines: IrcMessage[] = [];
  private buffer = '';
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      const parts = this.buffer.split('\r\n');
      this.buffer = parts.pop() ?? '';
      for (const part of parts) {
        const message = parseIrcLine(part);
        if (message) this.lines.push(message);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static open(port: number): Promise<RawIrcClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawIrcClient(socket)));
      socket.once('error', reject);
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Waits until a line matching `predicate` has arrived (no fixed sleeps). */
  async waitFor(predicate: (message: IrcMessage) => boolean, what: string, timeoutMs = 10_000): Promise<IrcMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} arrived; got: ${this.lines.map((line) => line.command).join(' ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A bot for a black-box run that tests read: on the chat endpoint's `onListening` it connects
 * as `nick`, asks for Twitch's tags and joins the channel; `client()` then holds what it heard.
 */
export function rawIrcBot(nick: string): { onListening(environment: Readonly<Record<string, string>>): void; client(): RawIrcClient | undefined } {
  let bot: RawIrcClient | undefined;
  return {
    onListening: (environment) => {
      void RawIrcClient.open(Number(environment['CVLAB_CHAT_PORT'])).then((client) => {
        bot = client;
        client.send('CAP REQ :twitch.tv/tags twitch.tv/commands');
        client.send(`NICK ${nick}`);
        client.send(`JOIN #${environment['CVLAB_CHANNEL']}`);
      });
    },
    client: () => bot,
  };
}

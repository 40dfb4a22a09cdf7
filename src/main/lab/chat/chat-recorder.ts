import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { ServiceUnreachableError } from '../../../shared/exit-codes';
import { ValidationError } from '../../../shared/format-issues';
import { IrcLineSplitter, parseIrcLine } from '../common/irc-line';

/** What `cvlab chat record` is asked to do. */
export interface ChatRecordOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** With or without its `#`. */
  readonly channel: string;
  /** The file written; never one that exists already. */
  readonly out: string;
  /** Stop after this long (ms); absent: until stopped. */
  readonly durationMs?: number | undefined;
  /** Stops the recording (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
  /** How long connecting and joining may take before the server counts as unreachable (default 15 s). */
  readonly joinTimeoutMs?: number | undefined;
  /** What is worth saying while it records (connected, joined, how many lines). */
  readonly onStatus?: ((line: string) => void) | undefined;
}

/** A recording as it ended. */
export interface ChatRecording {
  readonly path: string;
  readonly nick: string;
  readonly channel: string;
  /** Lines received and written (every command, not only chat). */
  readonly lines: number;
  /** Of those, chat messages (PRIVMSG to the channel). */
  readonly messages: number;
  readonly bytes: number;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly endedBy: 'duration' | 'stopped' | 'server-closed';
}

const CHANNEL = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$/;

/** An anonymous, read-only nick Twitch accepts without a password (justinfan and digits). */
const anonymousNick = (): string => `justinfan${10_000 + Math.floor(Math.random() * 89_999)}`;

/**
 * Records a channel's chat as raw IRC lines, each after the time it was received
 * (`2025-03-07T20:15:00.120Z @badge-info=;… PRIVMSG #channel :text`): joined anonymously, as
 * Twitch allows with a justinfan nick, asking for Twitch's tags, answering PINGs. Each line is
 * written with its own write as it comes (no buffer in this process), so a recorder that is
 * killed loses at most the line being written. Plain IRC without tags records too (the receive
 * time is the message's time then).
 */
export async function recordChat(options: ChatRecordOptions): Promise<ChatRecording> {
  const channel = options.channel.replace(/^#/, '').toLowerCase();
  if (!CHANNEL.test(channel)) throw new ValidationError('--channel', [`expected a channel name like "lzx_lab" (letters, digits, _ . -), got "${options.channel}"`]);
  let descriptor: number;
  try {
    descriptor = openSync(options.out, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EEXIST' ? 'it exists already: name a new file (a recording is never overwritten)' : code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new ValidationError(`--out ${options.out}`, [reason]);
  }
  const where = `the IRC server at ${options.host}:${options.port}${options.tls ? ' (TLS)' : ''}`;
  let nick = anonymousNick();
  const startedAt = new Date().toISOString();
  let lines = 0;
  let messages = 0;
  let bytes = 0;
  let joined = false;
  let stopping = false;
  let endedBy: ChatRecording['endedBy'] = 'server-closed';
  const say = options.onStatus ?? (() => undefined);

  const socket: Socket = options.tls ? connectTls({ host: options.host, port: options.port, servername: options.host }) : connectTcp({ host: options.host, port: options.port });
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  const send = (line: string): void => {
    if (!socket.destroyed) socket.write(`${line}\r\n`);
  };
  const splitter = new IrcLineSplitter();

  try {
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let stopTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(stopTimer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (error) reject(error);
        else resolve();
      };
      const stop = (reason: ChatRecording['endedBy']): void => {
        if (stopping) return;
        stopping = true;
        endedBy = reason;
        send('QUIT :recording ended');
        socket.end();
        // A server that does not close after QUIT is left.
        stopTimer = setTimeout(() => finish(), 2000);
      };
      const onAbort = (): void => stop('stopped');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        if (!joined) finish(new ServiceUnreachableError(where, `did not let ${nick} join #${channel} within ${(options.joinTimeoutMs ?? 15_000) / 1000} s`));
      }, options.joinTimeoutMs ?? 15_000);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        say(`connected to ${options.host}:${options.port}${options.tls ? ' over TLS' : ''}; joining #${channel} as ${nick} (anonymous, read-only)`);
        send('CAP REQ :twitch.tv/tags twitch.tv/commands');
        send(`NICK ${nick}`);
        send(`USER ${nick} 0 * :${nick}`);
        // Ends capability negotiation on servers that wait for it (Twitch does not need it).
        send('CAP END');
      });
      socket.on('data', (chunk: string) => {
        const receivedAt = new Date().toISOString();
        for (const line of splitter.push(chunk)) {
          const record = `${receivedAt} ${line}\n`;
          bytes += writeSync(descriptor, record);
          lines++;
          const message = parseIrcLine(line);
          if (!message) continue;
          switch (message.command) {
            case 'PING':
              send(`PONG :${message.params.at(-1) ?? ''}`);
              break;
            case '001':
              send(`JOIN #${channel}`);
              break;
            case '433':
              // The nick is taken: another justinfan.
              nick = anonymousNick();
              send(`NICK ${nick}`);
              break;
            case 'JOIN':
              if (!joined && message.prefix?.split('!')[0]?.toLowerCase() === nick) {
                joined = true;
                clearTimeout(timer);
                say(`joined #${channel}: recording into ${options.out}${options.durationMs !== undefined ? ` for ${Math.round(options.durationMs / 1000)} s` : ' until stopped (Ctrl-C)'}`);
                if (options.durationMs !== undefined) timer = setTimeout(() => stop('duration'), options.durationMs);
              }
              break;
            case 'PRIVMSG':
              if (message.params[0]?.toLowerCase() === `#${channel}`) messages++;
              break;
          }
        }
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        if (joined || stopping) return finish();
        const reason = error.code === 'ECONNREFUSED' ? 'nothing listens there (connection refused)' : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' ? 'the host name does not resolve' : error.message;
        finish(new ServiceUnreachableError(where, reason));
      });
      socket.once('close', () => {
        if (!joined && !stopping) return finish(new ServiceUnreachableError(where, `closed the connection before ${nick} joined #${channel}`));
        finish();
      });
    });
  } catch (error) {
    closeSync(descriptor);
    // Nothing was heard: no empty recording is left behind.
    if (lines === 0) unlinkSync(options.out);
    throw error;
  }
  closeSync(descriptor);
  return { path: options.out, nick, channel, lines, messages, bytes, startedAt, endedAt: new Date().toISOString(), endedBy };
}

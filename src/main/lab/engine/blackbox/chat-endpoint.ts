import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { Emitter, type Event } from '../../../../shared/emitter';
import { ServiceUnreachableError } from '../../../../shared/exit-codes';
import { monotonicNs } from '../../common/monotonic-clock';
import { StoppedWhileWaitingError } from '../../common/stopped-while-waiting';
import { formatTags, IrcLineSplitter, parseIrcLine, type IrcMessage } from '../../common/irc-line';

/** The capabilities Twitch acknowledges. */
const TWITCH_CAPABILITIES = ['twitch.tv/tags', 'twitch.tv/commands', 'twitch.tv/membership'] as const;
const SERVER = 'tmi.twitch.tv';

export interface ChatEndpointOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 6667; 0 picks a free port. */
  readonly port?: number;
  /** The channel viewers speak in, without `#`. */
  readonly channel: string;
  /** How often the endpoint PINGs each client, as Twitch does (default 60 s; 0: never). */
  readonly pingIntervalMs?: number;
}

/** What one chat client (normally the bot) has done so far. */
export interface ChatClientStatus {
  readonly id: number;
  readonly transport: 'tcp' | 'websocket';
  readonly remote: string;
  /** The client's end of the connection (where its process is found: /proc/net/tcp). */
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly connectedAtMs: number;
  nick: string | undefined;
  passSeen: boolean;
  capabilities: string[];
  registered: boolean;
  joined: string[];
  /** Lines the client wrote to us. */
  linesRead: number;
  /** PRIVMSGs the client wrote (the bot's replies). */
  replies: number;
  pongs: number;
  closed: boolean;
  /** Slow-reader figures: the most bytes ever waiting in our send buffer for it, and lines written while some were. */
  maxBufferedBytes: number;
  linesQueued: number;
  linesWritten: number;
}

/** A PRIVMSG the bot wrote, stamped when its bytes were read. */
export interface BotReply {
  readonly clientId: number;
  readonly nick: string;
  readonly channel: string;
  readonly text: string;
  readonly tags: ReadonlyMap<string, string>;
  readonly arrivedNs: number;
}

/** Slow readers over every client: measured, never hidden. */
export interface SlowReaderFigures {
  readonly clients: number;
  /** Highest bytes queued in user space for one client (socket writableLength / ws bufferedAmount). */
  readonly maxBufferedBytes: number;
  /** Viewer lines written while earlier bytes still waited (the kernel buffer was full). */
  readonly linesQueued: number;
  readonly linesWritten: number;
}

interface Connection {
  readonly status: ChatClientStatus;
  readonly awaitingCapEnd: { value: boolean };
  write(line: string): void;
  buffered(): number;
  close(): void;
}

/**
 * Stands in for Twitch chat: IRC over TCP and IRC over WebSocket on one port (the first bytes
 * tell which: an HTTP GET goes to the WebSocket server, anything else is raw IRC), the
 * registration, CAP, JOIN and PING exchanges bots rely on, viewers' PRIVMSGs with Twitch's tags,
 * and the bot's own PRIVMSG replies kept and stamped. Writes go out at once (TCP_NODELAY).
 */
export class ChatEndpoint {
  private readonly connections = new Set<Connection>();
  private readonly joinEmitter = new Emitter<{ status: ChatClientStatus; channel: string }>();
  private readonly replyEmitter = new Emitter<BotReply>();
  private readonly disconnectEmitter = new Emitter<ChatClientStatus>();
  private readonly statusEmitter = new Emitter<ChatClientStatus>();
  private readonly everSeen: ChatClientStatus[] = [];
  private readonly pingTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  /** Joined to the viewers' channel, in join order: the targets of every viewer line. */
  private audience: Connection[] = [];

  /** A client joined a channel. */
  readonly onDidJoin: Event<{ status: ChatClientStatus; channel: string }> = this.joinEmitter.event;
  /** A client sent a PRIVMSG. */
  readonly onDidReply: Event<BotReply> = this.replyEmitter.event;
  /** A client's connection closed. */
  readonly onDidDisconnect: Event<ChatClientStatus> = this.disconnectEmitter.event;
  /** Something about a client changed (connected, nick, caps, join, closed); not per line. */
  readonly onDidChangeStatus: Event<ChatClientStatus> = this.statusEmitter.event;

  private constructor(
    private readonly server: Server,
    private readonly webSockets: WebSocketServer,
    readonly channel: string,
    pingIntervalMs: number,
  ) {
    const address = server.address() as AddressInfo;
    this.address = { host: address.address, port: address.port };
    if (pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => {
        for (const connection of this.connections) if (connection.status.registered) connection.write(`PING :${SERVER}`);
      }, pingIntervalMs);
      this.pingTimer.unref();
    }
  }

  /** Listens on host:port (TCP and WebSocket); a port in use is a ServiceUnreachableError naming it. */
  static async listen(options: ChatEndpointOptions): Promise<ChatEndpoint> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 6667;
    const channel = options.channel.replace(/^#/, '').toLowerCase();
    const webSockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    // Only used to parse the upgrade request of sockets the sniffer hands over.
    const http = createHttpServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('this is a Twitch-compatible chat endpoint: connect with IRC over TCP or a WebSocket\n');
    });
    // The endpoint exists once the port is bound; sockets that arrive before it are turned away.
    const accept: { endpoint?: ChatEndpoint } = {};
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      webSockets.handleUpgrade(request, socket, head, (ws) => accept.endpoint ? accept.endpoint.acceptWebSocket(ws, request) : ws.terminate());
    });
    const server = createServer({ noDelay: true }, (socket) => {
      socket.setNoDelay(true);
      socket.once('data', (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        if (first.subarray(0, 4).toString('latin1') === 'GET ') http.emit('connection', socket);
        else if (accept.endpoint) accept.endpoint.acceptTcp(socket);
        else socket.destroy();
        socket.resume();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new ServiceUnreachableError(`the chat endpoint on ${host}:${port}`, `the port is in use (choose another with --chat-port, or 0 for a free one)`)
            : error,
        ),
      );
      server.listen(port, host, () => resolve());
    });
    accept.endpoint = new ChatEndpoint(server, webSockets, channel, options.pingIntervalMs ?? 60_000);
    return accept.endpoint;
  }

  /** Where bots connect (kept after close, for the summary). */
  readonly address: { readonly host: string; readonly port: number };

  /** Every client seen since the endpoint opened (closed ones too), oldest first. */
  clients(): readonly ChatClientStatus[] {
    return this.everSeen;
  }

  /** Clients joined to the viewers' channel now. */
  get joinedCount(): number {
    return this.audience.length;
  }

  /**
   * Writes one viewer line to every client joined to the channel; returns how many it reached.
   * Slow readers are noted: a line written while bytes still wait counts as queued.
   */
  sendToChannel(line: string): number {
    const audience = this.audience;
    for (let index = 0; index < audience.length; index++) {
      const connection = audience[index] as Connection;
      const status = connection.status;
      const before = connection.buffered();
      if (before > 0) status.linesQueued++;
      connection.write(line);
      status.linesWritten++;
      const after = connection.buffered();
      if (after > status.maxBufferedBytes) status.maxBufferedBytes = after;
    }
    return audience.length;
  }

  /** The slow-reader figures over every client seen. */
  slowReaders(): SlowReaderFigures {
    let maxBufferedBytes = 0;
    let linesQueued = 0;
    let linesWritten = 0;
    for (const status of this.everSeen) {
      maxBufferedBytes = Math.max(maxBufferedBytes, status.maxBufferedBytes);
      linesQueued += status.linesQueued;
      linesWritten += status.linesWritten;
    }
    return { clients: this.everSeen.length, maxBufferedBytes, linesQueued, linesWritten };
  }

  /**
   * Plain words for how far clients got toward joining the channel, for a timeout:
   * "the bot connected and sent NICK but did not JOIN #cvlab".
   */
  describeProgress(who = 'the bot'): string {
    const target = `#${this.channel}`;
    const best = [...this.everSeen].sort((a, b) => progressRank(b) - progressRank(a))[0];
    if (!best) return `${who} never connected to the chat endpoint`;
    const seen = [`connected over ${best.transport === 'tcp' ? 'TCP' : 'WebSocket'}`];
    if (best.capabilities.length > 0) seen.push(`requested ${best.capabilities.join(', ')}`);
    if (best.passSeen) seen.push('sent PASS');
    if (best.nick !== undefined) seen.push(`sent NICK ${best.nick}`);
    const others = best.joined.filter((channel) => channel !== target);
    if (others.length > 0) seen.push(`joined ${others.join(', ')}`);
    const missing = best.nick === undefined ? `did not send NICK (so was never registered) nor JOIN ${target}` : `did not JOIN ${target}`;
    return `${who} ${seen.join(', ')} but ${missing}${best.closed ? ', then disconnected' : ''}`;
  }

  /**
   * Resolves at the first JOIN of the viewers' channel; rejects after timeoutMs naming what was
   * seen, when `abort` says why the bot cannot join any more, or at once when the run is stopped.
   */
  waitForJoin(timeoutMs: number, who = 'the bot', abort?: Promise<string>, stopped?: AbortSignal): Promise<ChatClientStatus> {
    const joined = this.audience[0];
    if (joined) return Promise.resolve(joined.status);
    return new Promise((resolve, reject) => {
      const onStop = (): void => {
        finish();
        reject(new StoppedWhileWaitingError(`stopped while waiting for ${who} to join #${this.channel} (0 of 1 joined; ${this.describeProgress(who)})`));
      };
      const subscription = this.onDidJoin(({ status, channel }) => {
        if (channel !== `#${this.channel}`) return;
        finish();
        resolve(status);
      });
      const timer = setTimeout(() => {
        finish();
        reject(new ServiceUnreachableError(`the chat bot`, `${this.describeProgress(who)} within ${formatSeconds(timeoutMs)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        subscription.dispose();
        stopped?.removeEventListener('abort', onStop);
      };
      if (stopped?.aborted) return onStop();
      stopped?.addEventListener('abort', onStop, { once: true });
      abort?.then((reason) => {
        finish();
        reject(new ServiceUnreachableError('the chat bot', `${reason}; ${this.describeProgress(who)}`));
      });
    });
  }

  /** Closes every client and the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const connection of this.connections) connection.close();
    this.webSockets.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.joinEmitter.dispose();
    this.replyEmitter.dispose();
    this.disconnectEmitter.dispose();
    this.statusEmitter.dispose();
  }

  private newStatus(transport: ChatClientStatus['transport'], socket: Socket): ChatClientStatus {
    const remoteHost = socket.remoteAddress ?? '';
    const remotePort = socket.remotePort ?? 0;
    const status: ChatClientStatus = {
      id: this.nextId++,
      transport,
      remote: `${remoteHost}:${remotePort}`,
      remoteHost,
      remotePort,
      connectedAtMs: Date.now(),
      nick: undefined,
      passSeen: false,
      capabilities: [],
      registered: false,
      joined: [],
      linesRead: 0,
      replies: 0,
      pongs: 0,
      closed: false,
      maxBufferedBytes: 0,
      linesQueued: 0,
      linesWritten: 0,
    };
    this.everSeen.push(status);
    return status;
  }

  private acceptTcp(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    const status = this.newStatus('tcp', socket);
    const connection: Connection = {
      status,
      awaitingCapEnd: { value: false },
      write: (line) => void socket.write(`${line}\r\n`),
      buffered: () => socket.writableLength,
      close: () => socket.destroy(),
    };
    const splitter = new IrcLineSplitter();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const arrivedNs = monotonicNs();
      for (const line of splitter.push(chunk)) this.handleLine(connection, line, arrivedNs);
    });
    socket.on('close', () => this.dropped(connection));
    this.opened(connection);
  }

  private acceptWebSocket(ws: WebSocket, request: IncomingMessage): void {
    if (this.closed) return void ws.terminate();
    const status = this.newStatus('websocket', request.socket);
    const connection: Connection = {
      status,
      awaitingCapEnd: { value: false },
      // Twitch sends each line as its own text frame, CR LF included.
      write: (line) => ws.send(`${line}\r\n`),
      buffered: () => ws.bufferedAmount,
      close: () => ws.terminate(),
    };
    ws.on('message', (data, isBinary) => {
      const arrivedNs = monotonicNs();
      if (isBinary) return;
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      // A frame may hold several lines (tmi.js sends one per frame, others batch them).
      for (const line of text.split(/\r?\n/)) if (line !== '') this.handleLine(connection, line, arrivedNs);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => this.dropped(connection));
    this.opened(connection);
  }

  private opened(connection: Connection): void {
    this.connections.add(connection);
    this.statusEmitter.fire(connection.status);
  }

  private dropped(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    connection.status.closed = true;
    this.audience = this.audience.filter((member) => member !== connection);
    this.disconnectEmitter.fire(connection.status);
    this.statusEmitter.fire(connection.status);
  }

  private handleLine(connection: Connection, line: string, arrivedNs: number): void {
    const status = connection.status;
    status.linesRead++;
    const message = parseIrcLine(line);
    if (!message) return;
    const nick = status.nick ?? '*';
    switch (message.command) {
      case 'PRIVMSG':
        return this.handlePrivmsg(connection, message, arrivedNs);
      case 'PING': {
        const token = message.params[message.params.length - 1];
        // tmi.js sends a bare PING and reads only an unprefixed PONG; others get the usual form.
        connection.write(token === undefined ? `PONG :${SERVER}` : `:${SERVER} PONG ${SERVER} :${token}`);
        return;
      }
      case 'PONG':
        status.pongs++;
        return;
      case 'PASS':
        status.passSeen = true;
        this.statusEmitter.fire(status);
        return;
      case 'CAP':
        return this.handleCap(connection, message);
      case 'NICK': {
        const wanted = (message.params[0] ?? '').toLowerCase();
        if (wanted === '') return connection.write(`:${SERVER} 431 ${nick} :No nickname given`);
        status.nick = wanted;
        this.statusEmitter.fire(status);
        if (!connection.awaitingCapEnd.value) this.register(connection);
        return;
      }
      case 'USER':
        return;
      case 'JOIN':
        for (const channel of (message.params[0] ?? '').split(',')) if (channel !== '') this.join(connection, channel.toLowerCase());
        return;
      case 'PART':
        for (const channel of (message.params[0] ?? '').split(',')) this.part(connection, channel.toLowerCase());
        return;
      case 'QUIT':
        connection.close();
        return;
      default:
        connection.write(`:${SERVER} 421 ${nick} ${message.command} :Unknown command`);
    }
  }

  private handleCap(connection: Connection, message: IrcMessage): void {
    const status = connection.status;
    const nick = status.nick ?? '*';
    const sub = (message.params[0] === '*' ? message.params[1] : message.params[0])?.toUpperCase();
    const rest = message.params.slice(message.params[0] === '*' ? 2 : 1);
    switch (sub) {
      case 'LS':
        // A client that asks first negotiates before registering (IRCv3 capability negotiation).
        if (!status.registered) connection.awaitingCapEnd.value = true;
        connection.write(`:${SERVER} CAP ${nick} LS :${TWITCH_CAPABILITIES.join(' ')}`);
        return;
      case 'REQ': {
        const requested = (rest[rest.length - 1] ?? '').split(' ').filter(Boolean);
        const unknown = requested.filter((capability) => !(TWITCH_CAPABILITIES as readonly string[]).includes(capability.replace(/^-/, '')));
        if (unknown.length > 0) return connection.write(`:${SERVER} CAP ${nick} NAK :${requested.join(' ')}`);
        for (const capability of requested) {
          if (capability.startsWith('-')) status.capabilities = status.capabilities.filter((held) => held !== capability.slice(1));
          else if (!status.capabilities.includes(capability)) status.capabilities.push(capability);
        }
        connection.write(`:${SERVER} CAP ${nick} ACK :${requested.join(' ')}`);
        this.statusEmitter.fire(status);
        return;
      }
      case 'END':
        connection.awaitingCapEnd.value = false;
        if (status.nick !== undefined) this.register(connection);
        return;
      default:
        connection.write(`:${SERVER} 410 ${nick} ${sub ?? ''} :Invalid CAP command`);
    }
  }

  private register(connection: Connection): void {
    const status = connection.status;
    if (status.registered || status.nick === undefined) return;
    status.registered = true;
    const nick = status.nick;
    connection.write(`:${SERVER} 001 ${nick} :Welcome, GLHF!`);
    connection.write(`:${SERVER} 002 ${nick} :Your host is ${SERVER}`);
    connection.write(`:${SERVER} 003 ${nick} :This server is rather new`);
    connection.write(`:${SERVER} 004 ${nick} :-`);
    connection.write(`:${SERVER} 375 ${nick} :-`);
    connection.write(`:${SERVER} 372 ${nick} :You are in a maze of twisty passages, all alike.`);
    connection.write(`:${SERVER} 376 ${nick} :>`);
    if (this.has(status, 'twitch.tv/commands') && this.has(status, 'twitch.tv/tags')) {
      connection.write(
        `${formatTags([
          ['badge-info', ''],
          ['badges', ''],
          ['color', ''],
          ['display-name', nick],
          ['emote-sets', '0'],
          ['user-id', '1'],
          ['user-type', ''],
        ])}:${SERVER} GLOBALUSERSTATE`,
      );
    }
    this.statusEmitter.fire(status);
  }

  private join(connection: Connection, channel: string): void {
    const status = connection.status;
    const nick = status.nick;
    if (!status.registered || nick === undefined) return connection.write(`:${SERVER} 451 * :You have not registered`);
    if (!channel.startsWith('#')) return connection.write(`:${SERVER} 403 ${nick} ${channel} :No such channel`);
    if (!status.joined.includes(channel)) status.joined.push(channel);
    const user = `${nick}!${nick}@${nick}.${SERVER}`;
    connection.write(`:${user} JOIN ${channel}`);
    connection.write(`:${nick}.${SERVER} 353 ${nick} = ${channel} :${nick}`);
    connection.write(`:${nick}.${SERVER} 366 ${nick} ${channel} :End of /NAMES list`);
    if (this.has(status, 'twitch.tv/commands')) {
      connection.write(`${formatTags([['badge-info', ''], ['badges', ''], ['color', ''], ['display-name', nick], ['emote-sets', '0'], ['mod', '0'], ['subscriber', '0'], ['user-type', '']])}:${SERVER} USERSTATE ${channel}`);
      connection.write(`${formatTags([['emote-only', '0'], ['followers-only', '-1'], ['r9k', '0'], ['room-id', '1'], ['slow', '0'], ['subs-only', '0']])}:${SERVER} ROOMSTATE ${channel}`);
    }
    if (channel === `#${this.channel}` && !this.audience.includes(connection)) this.audience = [...this.audience, connection];
    this.joinEmitter.fire({ status, channel });
    this.statusEmitter.fire(status);
  }

  private part(connection: Connection, channel: string): void {
    const status = connection.status;
    const nick = status.nick ?? '*';
    status.joined = status.joined.filter((held) => held !== channel);
    if (channel === `#${this.channel}`) this.audience = this.audience.filter((member) => member !== connection);
    connection.write(`:${nick}!${nick}@${nick}.${SERVER} PART ${channel}`);
    this.statusEmitter.fire(status);
  }

  private handlePrivmsg(connection: Connection, message: IrcMessage, arrivedNs: number): void {
    const status = connection.status;
    const channel = (message.params[0] ?? '').toLowerCase();
    const text = message.params[1] ?? '';
    status.replies++;
    this.replyEmitter.fire({ clientId: status.id, nick: status.nick ?? '', channel, text, tags: message.tags, arrivedNs });
    // Twitch confirms each PRIVMSG with the sender's USERSTATE.
    if (this.has(status, 'twitch.tv/commands') && status.nick !== undefined) {
      connection.write(`${formatTags([['badge-info', ''], ['badges', ''], ['color', ''], ['display-name', status.nick], ['emote-sets', '0'], ['mod', '0'], ['subscriber', '0'], ['user-type', '']])}:${SERVER} USERSTATE ${channel}`);
    }
  }

  private has(status: ChatClientStatus, capability: string): boolean {
    return status.capabilities.includes(capability);
  }
}

function progressRank(status: ChatClientStatus): number {
  return (status.joined.length > 0 ? 8 : 0) + (status.registered ? 4 : 0) + (status.nick !== undefined ? 2 : 0) + (status.passSeen || status.capabilities.length > 0 ? 1 : 0);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

import type { FanoutCounters } from '../../../../shared/run';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppliedChange } from '../../../../shared/message';
import { ServiceUnreachableError } from '../../../../shared/exit-codes';
import { StoppedWhileWaitingError } from '../../common/stopped-while-waiting';
import { fanoutClock, type FanoutMessage } from '../../common/fanout-message';

/** What a subscriber receives for each accepted change (one JSON text frame). */

export interface FanoutServerOptions {
  readonly host?: string;
  /** 0: any free port. */
  readonly port?: number;
  /** Connections past this are refused with HTTP 503 and a plain reason. Default 5,000. */
  readonly maxClients?: number;
  /** Bytes a client may have waiting in user space before it counts as slow. Default 64 KiB. */
  readonly maxBufferedBytes?: number;
  /**
   * What happens to a slow client's changes: `coalesce` keeps the latest value per variable
   * and sends it when the client catches up; `drop` discards them. Both are counted.
   */
  readonly slowPolicy?: 'coalesce' | 'drop';
  /** A client slow for longer than this is disconnected (counted). Default 10 s; 0 never. */
  readonly disconnectSlowAfterMs?: number;
}

export type { FanoutCounters } from '../../../../shared/run';

/** How often a slow client is checked for having caught up. */
const DRAIN_CHECK_MS = 5;


class Subscriber {
  /** Latest unsent change per variable while the client is slow (coalesce policy). */
  readonly pending = new Map<string, Buffer>();
  slowSinceMs: number | undefined;
  /** While the client is slow: checks whether it has caught up. */
  drainTimer: NodeJS.Timeout | undefined;
  constructor(
    readonly socket: WebSocket,
    /** Variables this client asked for (`?variables=hue,sat`); undefined: all of them. */
    readonly variables: ReadonlySet<string> | undefined,
  ) {}
}

/**
 * The optional fan-out stage: pushes every accepted change to WebSocket subscribers (stream
 * overlays, dashboards). `publish` never waits on a client: each one has a bounded buffer, and
 * a slow one is coalesced to the latest value per variable (or dropped) and counted, so a
 * stalled subscriber can never hold up the pipeline or the other subscribers.
 */
export class FanoutServer {
  private readonly subscribers = new Set<Subscriber>();
  private readonly maxClients: number;
  private readonly maxBufferedBytes: number;
  private readonly slowPolicy: 'coalesce' | 'drop';
  private readonly disconnectSlowAfterMs: number;
  private counts = { published: 0, sent: 0, coalesced: 0, dropped: 0, refused: 0, disconnected: 0 };

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    options: FanoutServerOptions,
  ) {
    this.maxClients = options.maxClients ?? 5_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024;
    this.slowPolicy = options.slowPolicy ?? 'coalesce';
    this.disconnectSlowAfterMs = options.disconnectSlowAfterMs ?? 10_000;
    http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(request, socket, head));
    http.on('request', (_request, response) => {
      response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('This is the cvlab fan-out: connect with a WebSocket to receive accepted changes.\n');
    });
  }

  /** Starts listening (loopback by default). */
  static async listen(options: FanoutServerOptions = {}): Promise<FanoutServer> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
    const server = new FanoutServer(http, wss, options);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** ws://host:port/ of this server. */
  get url(): string {
    const address = this.http.address() as AddressInfo;
    return `ws://${address.address}:${address.port}/`;
  }

  /** Pushes one accepted change to every subscriber; returns at once. */
  publish(change: AppliedChange, acceptedAtMs: number = fanoutClock()): void {
    this.counts.published++;
    const message: FanoutMessage = { variable: change.variable, value: change.value, version: change.version, writer: change.writer, acceptedAtMs };
    // Serialized once for every subscriber.
    const frame = Buffer.from(JSON.stringify(message));
    for (const subscriber of this.subscribers) {
      if (subscriber.variables && !subscriber.variables.has(change.variable)) continue;
      this.deliver(subscriber, change.variable, frame);
    }
  }

  /** Resolves once `count` clients are connected; fails in words after `timeoutMs`, or at once when `stopped` is aborted. */
  async waitForClients(count: number, timeoutMs: number, stopped?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.subscribers.size < count) {
      if (stopped?.aborted) throw new StoppedWhileWaitingError(`stopped while waiting for the fan-out's subscribers to connect (${this.subscribers.size} of ${count} connected)`);
      if (Date.now() > deadline) {
        throw new ServiceUnreachableError("the fan-out's subscribers", `only ${this.subscribers.size} of ${count} connected within the ${formatSeconds(timeoutMs)} s limit`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Waits (bounded) until every client that is not slow has had all it was sent handed to the
   * kernel, so closing cuts no change off a subscriber that reads.
   */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const waiting = (): boolean =>
      [...this.subscribers].some((subscriber) => subscriber.slowSinceMs === undefined && (subscriber.pending.size > 0 || subscriber.socket.bufferedAmount > 0));
    while (waiting() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, DRAIN_CHECK_MS));
  }

  counters(): FanoutCounters {
    return { clients: this.subscribers.size, ...this.counts };
  }

  /** Closes every connection and the listening socket. */
  async close(): Promise<void> {
    for (const subscriber of this.subscribers) {
      this.stopWatching(subscriber);
      subscriber.socket.terminate();
    }
    this.subscribers.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.subscribers.size >= this.maxClients) {
      this.counts.refused++;
      const reason = `cvlab fan-out is full: ${this.subscribers.size} of ${this.maxClients} subscribers are connected; try again later or raise maxClients.\n`;
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(reason)}\r\nConnection: close\r\n\r\n${reason}`);
      return;
    }
    // An overlay that shows a few variables can ask for just those: ws://host:port/?variables=hue,sat
    const query = new URL(request.url ?? '/', 'ws://fanout').searchParams.get('variables');
    const variables = query ? new Set(query.split(',').filter((name) => name.length > 0)) : undefined;
    this.wss.handleUpgrade(request, socket, head, (webSocket) => {
      const subscriber = new Subscriber(webSocket, variables);
      this.subscribers.add(subscriber);
      webSocket.on('close', () => {
        this.subscribers.delete(subscriber);
        this.stopWatching(subscriber);
      });
      webSocket.on('error', () => webSocket.terminate());
    });
  }

  private deliver(subscriber: Subscriber, variable: string, frame: Buffer): void {
    const socket = subscriber.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (subscriber.pending.size === 0 && socket.bufferedAmount <= this.maxBufferedBytes) {
      subscriber.slowSinceMs = undefined;
      this.send(subscriber, frame);
      return;
    }
    // Slow: the client has not taken what it was sent yet.
    const now = Date.now();
    subscriber.slowSinceMs ??= now;
    if (this.disconnectSlowAfterMs > 0 && now - subscriber.slowSinceMs > this.disconnectSlowAfterMs) {
      this.counts.disconnected++;
      this.counts.dropped += subscriber.pending.size + 1;
      subscriber.pending.clear();
      this.subscribers.delete(subscriber);
      this.stopWatching(subscriber);
      socket.terminate();
      return;
    }
    if (this.slowPolicy === 'drop') {
      this.counts.dropped++;
      return;
    }
    if (subscriber.pending.has(variable)) this.counts.coalesced++;
    // Only slow clients are watched; the common path sends without a completion callback.
    subscriber.drainTimer ??= setInterval(() => this.drain(subscriber), DRAIN_CHECK_MS);
    // Re-inserting moves the variable to the end, so pending changes go out in the order of their latest update.
    subscriber.pending.delete(variable);
    subscriber.pending.set(variable, frame);
  }

  private send(subscriber: Subscriber, frame: Buffer): void {
    this.counts.sent++;
    subscriber.socket.send(frame, { binary: false });
  }

  /** Sends what was held back for a slow client once its buffer is under the bound again. */
  private drain(subscriber: Subscriber): void {
    const socket = subscriber.socket;
    if (socket.readyState !== socket.OPEN || subscriber.pending.size === 0) return this.stopWatching(subscriber);
    if (socket.bufferedAmount > this.maxBufferedBytes) {
      if (this.disconnectSlowAfterMs > 0 && subscriber.slowSinceMs !== undefined && Date.now() - subscriber.slowSinceMs > this.disconnectSlowAfterMs) {
        this.counts.disconnected++;
        this.counts.dropped += subscriber.pending.size;
        subscriber.pending.clear();
        this.subscribers.delete(subscriber);
        this.stopWatching(subscriber);
        socket.terminate();
      }
      return;
    }
    const frames = [...subscriber.pending.values()];
    subscriber.pending.clear();
    subscriber.slowSinceMs = undefined;
    this.stopWatching(subscriber);
    for (const frame of frames) this.send(subscriber, frame);
  }

  private stopWatching(subscriber: Subscriber): void {
    if (subscriber.drainTimer) clearInterval(subscriber.drainTimer);
    subscriber.drainTimer = undefined;
  }
}

/** 60000 → "60", 1500 → "1.5". */
function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

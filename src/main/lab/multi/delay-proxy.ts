import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface NetworkConditions {
  /** Added one-way delay, ms (each direction). */
  readonly delayMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs] per chunk, ms; order is kept. */
  readonly jitterMs: number;
}

export interface DelayProxyOptions extends NetworkConditions {
  readonly targetHost: string;
  readonly targetPort: number;
  /** Where the proxy listens (loopback by default). */
  readonly host?: string;
  readonly port?: number;
}

/**
 * A TCP proxy on loopback that holds every chunk for delay + jitter before passing it on, in
 * both directions, so a multi-instance run can rehearse the coordination cost of a real
 * network to Redis on one bench. Jitter never reorders bytes: a chunk waits at least until the
 * one before it has gone.
 */
export class DelayProxy {
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly conditions: NetworkConditions,
  ) {}

  /** Starts the proxy; connections are forwarded to targetHost:targetPort. */
  static async listen(options: DelayProxyOptions): Promise<DelayProxy> {
    if (!(options.delayMs >= 0) || !(options.jitterMs >= 0)) {
      throw new Error(`network conditions are not valid: expected delayMs and jitterMs of 0 or more, got ${options.delayMs} and ${options.jitterMs}`);
    }
    const server = createServer();
    const proxy = new DelayProxy(server, { delayMs: options.delayMs, jitterMs: options.jitterMs });
    server.on('connection', (client) => proxy.forward(client, options.targetHost, options.targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The same Redis URL, pointed through the proxy. */
  proxiedUrl(redisUrl: string): string {
    const url = new URL(redisUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, host: string, port: number): void {
    const upstream = new Socket();
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.connect(port, host);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
  }

  private pipe(from: Socket, to: Socket): void {
    // One FIFO per direction with one timer for its head: chunks leave strictly in arrival order.
    const queue: { dueMs: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let lastDueMs = 0;
    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && (queue[0]?.dueMs ?? Infinity) <= now + 0.5) {
        const next = queue.shift();
        if (next && !to.destroyed) to.write(next.chunk);
      }
      const head = queue[0];
      if (head) timer = setTimeout(flush, Math.max(0, head.dueMs - now));
    };
    from.on('data', (chunk: Buffer) => {
      const { delayMs, jitterMs } = this.conditions;
      const dueMs = Math.max(performance.now() + delayMs + Math.random() * jitterMs, lastDueMs);
      lastDueMs = dueMs;
      queue.push({ dueMs, chunk });
      if (queue.length === 1 && timer === undefined) {
        if (delayMs === 0 && jitterMs === 0) flush();
        else timer = setTimeout(flush, dueMs - performance.now());
      }
    });
    from.on('close', () => {
      if (timer) clearTimeout(timer);
    });
  }
}

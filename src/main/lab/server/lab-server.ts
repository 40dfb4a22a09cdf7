import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import { LAB_SOCKET_PATH, TOKEN_REFUSED_CLOSE_CODE, type LabApi } from '../../../shared/api';
import { contentSecurityPolicy } from './content-security-policy';
import { serveMetrics, type MetricsProvider } from './metrics-route';
import { attachSocketBridge, type BridgeCounters } from './socket-bridge';
import { botCommandPolicy, guardBotCommands } from './bot-command-guard';

export interface LabServerOptions {
  lab: LabApi;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); otherwise a fresh random one. */
  token?: string;
  metrics?: MetricsProvider;
  /** Serve /metrics without the token (a Prometheus scraper on a trusted network). Default: the token is required. */
  metricsPublic?: boolean;
  /** Let consoles start a bot's shell command although `host` is beyond loopback (loopback always may). */
  allowBotCommands?: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"\s+content="[^"]*"\s*\/?>/i;

/**
 * `cvlab serve`: the built console over HTTP and the LabApi over one WebSocket path.
 * The socket needs the token from the printed URL and the server's own Origin; requests
 * naming a foreign Host are refused (DNS rebinding).
 */
export class LabServer {
  readonly counters: BridgeCounters = { messages: 0, bytes: 0, events: {}, droppedEvents: 0 };
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  private readonly tokenBytes: Buffer;
  private allowedHosts = new Set<string>();
  private csp = contentSecurityPolicy();
  private port = 0;
  /** The LabApi every console of this server gets: bot commands refused beyond loopback unless allowed. */
  private readonly lab: LabApi;

  private constructor(
    private readonly options: LabServerOptions,
    private readonly server: Server,
    readonly token: string,
  ) {
    this.tokenBytes = Buffer.from(token);
    this.lab = guardBotCommands(options.lab, botCommandPolicy(options.host ?? '127.0.0.1', Boolean(options.allowBotCommands)));
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: LabServerOptions): Promise<LabServer> {
    const token = options.token ?? randomBytes(24).toString('base64url');
    const server = createServer();
    const labServer = new LabServer(options, server, token);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 5170, host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
    labServer.port = (server.address() as AddressInfo).port;
    labServer.allowedHosts = new Set(hostNames(host).map((name) => `${name}:${labServer.port}`));
    // CSP host-sources cannot name an IPv6 literal: those pages reach the socket through 'self'.
    labServer.csp = contentSecurityPolicy([
      ...(host === '::' ? ["'self'"] : []),
      ...[...labServer.allowedHosts].filter((authority) => !authority.startsWith('[')).map((authority) => `ws://${authority}`),
    ]);
    // One hostile request must never take the server down: whatever escapes a handler is answered 500.
    server.on('request', (request, response) => {
      labServer.onRequest(request, response).catch((error: unknown) => answerInternalError(response, error));
    });
    server.on('upgrade', (request, socket, head) => {
      try {
        labServer.onUpgrade(request, socket, head);
      } catch {
        socket.destroy();
      }
    });
    // A client that sends garbage or resets mid-request is answered 400 (or dropped), never fatal.
    server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    return labServer;
  }

  /** The address to open in a browser, with the token after '#' so it never reaches a log or Referer. */
  get url(): string {
    const [authority] = this.allowedHosts;
    return `http://${authority}/#token=${this.token}`;
  }

  get address(): { host: string; port: number } {
    return { host: this.options.host ?? '127.0.0.1', port: this.port };
  }

  /** Connected browser consoles. */
  get clientCount(): number {
    return this.sockets.clients.size;
  }

  async close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolvePromise) => this.server.close(() => resolvePromise()));
  }

  private hostAllowed(request: IncomingMessage): boolean {
    return this.allowedHosts.has((request.headers.host ?? '').toLowerCase());
  }

  private tokenMatches(candidate: string | null): boolean {
    if (!candidate) return false;
    const bytes = Buffer.from(candidate);
    return bytes.length === this.tokenBytes.length && timingSafeEqual(bytes, this.tokenBytes);
  }

  private onUpgrade(request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const refuse = (status: number, reason: string): void => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
    };
    const url = requestUrl(request);
    if (!url || url.pathname !== LAB_SOCKET_PATH) return refuse(404, 'Not Found');
    if (!this.hostAllowed(request)) return refuse(403, 'Forbidden: unknown Host');
    // Browsers always send Origin; it must be this server's own page. Tools without one need the token all the same.
    const origin = request.headers.origin;
    if (origin !== undefined && !this.allowedHosts.has(originAuthority(origin)))
      return refuse(403, 'Forbidden: foreign Origin');
    if (!this.tokenMatches(url.searchParams.get('token'))) {
      // A browser cannot read an HTTP status from a refused upgrade: our own page gets the socket
      // only to be told, by a close code, that the token was refused. Tools get the plain 401.
      if (origin === undefined) return refuse(401, 'Unauthorized: the token from the printed URL is required');
      this.sockets.handleUpgrade(request, socket, head, (webSocket) =>
        webSocket.close(TOKEN_REFUSED_CLOSE_CODE, 'token refused'),
      );
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (webSocket) => {
      attachSocketBridge(webSocket, this.lab, this.counters);
    });
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const headers = {
      'Content-Security-Policy': this.csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
    };
    const fail = (status: number, text: string): void => {
      response.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`${text}\n`);
    };
    if (!this.hostAllowed(request)) return fail(403, 'Forbidden: unknown Host');
    if (request.method !== 'GET' && request.method !== 'HEAD') return fail(405, 'Only GET and HEAD are served');
    const url = requestUrl(request);
    if (!url) return fail(400, 'Bad Request: the path is not a valid URL');
    if (url.pathname === '/metrics') {
      // Metrics tell who runs what at the bench: the console's token unless served publicly on purpose.
      if (!this.options.metricsPublic && !this.tokenMatches(bearerToken(request) ?? url.searchParams.get('token'))) {
        response.writeHead(401, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer realm="cvlab"' });
        response.end('Unauthorized: /metrics needs the token from the printed URL (Authorization: Bearer <token>), or start cvlab serve with --metrics-public\n');
        return;
      }
      return serveMetrics(request, response, this.options.metrics);
    }

    const root = resolve(this.options.rendererDir);
    const decoded = decodedPath(url.pathname);
    if (decoded === undefined) return fail(400, 'Bad Request: the path has a malformed %-escape');
    if (decoded.includes('\0')) return fail(400, 'Bad Request: the path holds a NUL byte');
    const relative = url.pathname === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
    const file = resolve(join(root, relative));
    if (!file.startsWith(root + sep)) return fail(404, 'Not found');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return fail(404, `Not found: ${url.pathname}`);
    }
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    if (extname(file) === '.html') {
      // The page's own CSP meta must allow this server's socket: write the exact policy into it.
      // frame-ancestors is ignored in a <meta> (the header carries it).
      const metaPolicy = this.csp.replace(/;\s*frame-ancestors [^;]*/, '');
      body = Buffer.from(
        body
          .toString('utf8')
          .replace(CSP_META, `<meta http-equiv="Content-Security-Policy" content="${metaPolicy}" />`),
      );
    }
    response.writeHead(200, {
      ...headers,
      'Content-Type': type,
      'Content-Length': body.length,
      'Cache-Control': extname(file) === '.html' ? 'no-store' : 'max-age=3600',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}

/** The request's URL, or undefined when it does not parse (a hostile or broken client). */
function requestUrl(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://cvlab.invalid');
  } catch {
    return undefined;
  }
}

/** The path with its %-escapes decoded, or undefined when one is malformed (`/%`, `/%ZZ`, a cut UTF-8 sequence). */
function decodedPath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

function answerInternalError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`Internal error: ${error instanceof Error ? error.message : String(error)}\n`);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
function bearerToken(request: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

/**
 * The names a browser may use for `host` in its Host header: loopback has two; an any-address
 * bind (0.0.0.0, ::) is reached by every address of this machine's interfaces (IPv4 ones for
 * 0.0.0.0, all for ::). Host names (DNS) of the machine are not guessed: bind that name instead.
 */
export function hostNames(host: string, interfaces = networkInterfaces()): string[] {
  const loopback = ['127.0.0.1', 'localhost'];
  if (host === '127.0.0.1' || host === 'localhost') return loopback;
  if (host === '::1') return [...loopback, '[::1]'];
  if (host === '0.0.0.0' || host === '::') {
    const addresses = Object.values(interfaces)
      .flatMap((entries) => entries ?? [])
      .filter((entry) => host === '::' || entry.family === 'IPv4')
      .map((entry) => (entry.family === 'IPv6' ? `[${entry.address.replace(/%.*$/, '')}]` : entry.address));
    return [...new Set([...loopback, ...addresses])];
  }
  return [host.includes(':') ? `[${host}]` : host];
}

function originAuthority(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' ? url.host.toLowerCase() : '';
  } catch {
    return '';
  }
}

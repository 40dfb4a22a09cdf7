// A real LabServer on a free port, fed hostile HTTP requests and WebSocket frames: every one is
// answered (4xx or an error reply), and the server keeps serving the console afterwards.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Lab } from '../../src/main/lab/lab';
import { LabServer } from '../../src/main/lab/server/lab-server';
import { LAB_SOCKET_PATH } from '../../src/shared/api';

const TOKEN = 'hostile-test-token';
let server: LabServer;
let lab: Lab;
let rendererDir: string;
let dataDir: string;

/** One raw HTTP/1.1 request over TCP (fetch refuses to send most malformed paths); resolves with the status. */
function rawRequest(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: { host: `127.0.0.1:${port}`, ...headers }, insecureHTTPParser: true }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Bytes straight onto the socket: what no HTTP client library would send. Resolves with the status line. */
function rawBytes(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.write(bytes, 'latin1');
    socket.setTimeout(5000, () => socket.destroy());
  });
}

async function consoleStillServed(): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${server.address.port}/`);
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('<title>cvlab</title>');
}

function openSocket(): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.address.port}${LAB_SOCKET_PATH}?token=${TOKEN}`, {
    headers: { origin: `http://127.0.0.1:${server.address.port}` },
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

interface Reply {
  type: string;
  id?: number | null;
  message?: string;
  value?: unknown;
}

/** Sends one frame and resolves with the next reply (or rejects when the socket closes first). */
function exchange(socket: WebSocket, frame: string | Buffer, binary = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      cleanup();
      resolve(JSON.parse(data.toString()) as Reply);
    };
    const onClose = (code: number): void => {
      cleanup();
      reject(new Error(`socket closed with ${code}`));
    };
    const cleanup = (): void => {
      socket.off('message', onMessage);
      socket.off('close', onClose);
    };
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.send(frame, { binary });
  });
}

beforeAll(async () => {
  rendererDir = mkdtempSync(join(tmpdir(), 'cvlab-renderer-'));
  dataDir = mkdtempSync(join(tmpdir(), 'cvlab-hostile-data-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><html><head><title>cvlab</title></head><body></body></html>');
  lab = new Lab({ host: 'serve', dataDir, stores: null });
  server = await LabServer.start({ lab, rendererDir, port: 0, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  await lab?.dispose();
  rmSync(rendererDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('cvlab serve against hostile HTTP', () => {
  it.each(['/%', '/%ZZ', '/%E0%A4%A', '/assets/%C0', '/%00', '/%2e%2e/%2e%2e/etc/passwd'])(
    'answers %s with a 4xx and keeps serving',
    async (path) => {
      const status = await rawRequest(server.address.port, path);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      await consoleStillServed();
    },
  );

  it('answers malformed request lines and headers with 400 and keeps serving', async () => {
    for (const bytes of ['GET /%\r\n\r\n', 'GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', '\x00\x01\x02\r\n\r\n']) {
      expect(await rawBytes(server.address.port, bytes)).toMatch(/^(HTTP\/1\.1 400|)/);
    }
    await consoleStillServed();
  });

  it('answers a few thousand random paths and Host headers with a status, never a crash', async () => {
    const port = server.address.port;
    const pathCharacters = fc.constantFrom(...'abc/%.-_~!$&\'()*+,;=:@09AFZaz\\ '.split(''), '%', '%E0', '%A4', '%ZZ', '%00', '%2F', '..');
    await fc.assert(
      fc.asyncProperty(
        fc.array(pathCharacters, { maxLength: 40 }).map((parts) => '/' + parts.join('').replaceAll(' ', '%20')),
        fc.option(fc.string({ maxLength: 40 }).filter((host) => /^[\x21-\x7e]*$/.test(host)), { nil: undefined }),
        async (path, host) => {
          const status = await rawRequest(port, path, host === undefined ? {} : { host });
          return status >= 200 && status < 500;
        },
      ),
      { numRuns: 1500 },
    );
    await consoleStillServed();
  });
});

describe('the console socket against hostile frames', () => {
  it('answers malformed JSON, binary, unknown commands and bad shapes with an error reply and keeps the connection', async () => {
    const socket = await openSocket();
    try {
      const notJson = await exchange(socket, '{"type":"call",');
      expect(notJson).toMatchObject({ type: 'error', id: null });
      expect(notJson.message).toMatch(/JSON/);
      expect(await exchange(socket, Buffer.from([1, 2, 3]), true)).toMatchObject({ type: 'error', id: null });
      const unknown = await exchange(socket, JSON.stringify({ type: 'call', id: 7, command: 'formatDisk', args: [] }));
      expect(unknown).toMatchObject({ type: 'error', id: 7 });
      expect(unknown.message).toMatch(/Unknown command "formatDisk"/);
      const badShape = await exchange(socket, JSON.stringify({ type: 'call', id: 8, command: 'about' }));
      expect(badShape).toMatchObject({ type: 'error', id: 8 });
      expect(badShape.message).toMatch(/args/);
      expect(await exchange(socket, JSON.stringify({ type: 'subscribe', event: 'onDidNothing' }))).toMatchObject({ type: 'error' });
      // A large (3 MB, under the 4 MB frame limit) junk frame is refused in words too.
      expect(await exchange(socket, 'x'.repeat(3 * 1024 * 1024))).toMatchObject({ type: 'error', id: null });
      // And the same connection still serves a real call.
      const about = await exchange(socket, JSON.stringify({ type: 'call', id: 9, command: 'about', args: [] }));
      expect(about).toMatchObject({ type: 'result', id: 9 });
    } finally {
      socket.close();
    }
  });

  it('closes only a frame beyond the 4 MB limit (1009), and the server keeps serving', async () => {
    const socket = await openSocket();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('error', () => undefined);
    socket.send('x'.repeat(5 * 1024 * 1024));
    expect(await closed).toBe(1009);
    await consoleStillServed();
    const again = await openSocket();
    expect(await exchange(again, JSON.stringify({ type: 'call', id: 1, command: 'about', args: [] }))).toMatchObject({ type: 'result' });
    again.close();
  });

  it('answers a few thousand random frames, each with one reply, on one connection', async () => {
    const socket = await openSocket();
    try {
      const frames = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.json({ maxDepth: 3 }),
        fc.record({ type: fc.constantFrom('call', 'subscribe', 'unsubscribe', 'other'), id: fc.oneof(fc.integer(), fc.string()), command: fc.string({ maxLength: 20 }), event: fc.string({ maxLength: 20 }), args: fc.anything({ maxDepth: 2 }) }).map((value) => JSON.stringify(value)),
      );
      await fc.assert(
        fc.asyncProperty(frames, async (frame) => {
          // Calls that name a real command could start work: only frames that cannot are sent.
          const reply = await exchange(socket, frame);
          return reply.type === 'error';
        }),
        {
          numRuns: 2000,
        },
      );
      expect(socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      socket.close();
    }
  });
});

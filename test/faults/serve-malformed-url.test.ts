// A real `cvlab serve` process fed the requests that killed it (a malformed %-escape, an
// oversized WebSocket frame): each gets its answer, and the same process goes on serving.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '../setup/private-services';

const ROOT = resolve(__dirname, '../..');
let child: ChildProcess;
let url: URL;
let token = '';
let exited = false;

/** One request with the path exactly as given (no client-side normalising); resolves with the status line. */
function rawGet(path: string): Promise<string> {
  return new Promise((done) => {
    const socket = connect(Number(url.port), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => done(text.split('\r\n')[0] ?? ''));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
  });
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'out/renderer/index.html'))) throw new Error('The console is not built: run `npx electron-vite build` before the fault tests.');
  child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main/cli.ts'), 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('exit', () => (exited = true));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => /cvlab console: (\S+)/.test(output) || exited, 'cvlab serve to print its URL', 60_000);
  const printed = /cvlab console: (\S+)/.exec(output)?.[1];
  if (!printed) throw new Error(`cvlab serve did not start:\n${output}`);
  url = new URL(printed);
  token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
}, 90_000);

afterAll(() => {
  child?.kill('SIGTERM');
});

describe('cvlab serve under hostile requests', () => {
  it.each(['/%', '/%ZZ', '/%E0%A4%A'])('answers %s with 400 and stays up', async (path) => {
    expect(await rawGet(path)).toBe('HTTP/1.1 400 Bad Request');
    expect(exited).toBe(false);
    expect(await rawGet('/')).toBe('HTTP/1.1 200 OK');
  });

  it('a WebSocket frame over the limit closes that socket only; the process stays up', async () => {
    const socket = new WebSocket(`ws://${url.host}/lab?token=${token}`, { headers: { origin: `http://${url.host}` } });
    socket.on('error', () => undefined);
    await new Promise((done) => socket.once('open', done));
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    socket.send('x'.repeat(5 * 1024 * 1024));
    expect(await closed).toBe(1009);
    expect(exited).toBe(false);
    expect(await rawGet('/')).toBe('HTTP/1.1 200 OK');
  });
});

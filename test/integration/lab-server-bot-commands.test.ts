// Who may make `cvlab serve` start a bot's shell command: a console on loopback may; one reached
// beyond loopback may only when serve was started with --allow-bot-commands. Checked on the
// server over its real WebSocket, as a console that skipped its own UI would call it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LAB_SOCKET_PATH } from '../../src/shared/api';
import { Lab } from '../../src/main/lab/lab';
import { isLoopbackHost } from '../../src/main/lab/server/bot-command-guard';
import { LabServer } from '../../src/main/lab/server/lab-server';

const TOKEN = 'bot-command-test-token';
let folder: string;
let lab: Lab;

/** One call over the console's WebSocket, as `host` would make it; resolves with the result or the error's words. */
async function call(server: LabServer, host: string, command: string, args: unknown[]): Promise<{ value?: unknown; error?: string }> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.address.port}${LAB_SOCKET_PATH}?token=${TOKEN}`, { headers: { host: `${host}:${server.address.port}` } });
  try {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const reply = new Promise<{ type: string; value?: unknown; message?: string }>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()) as never)));
    socket.send(JSON.stringify({ type: 'call', id: 1, command, args }));
    const answer = await reply;
    return answer.type === 'result' ? { value: answer.value } : { error: answer.message ?? '' };
  } finally {
    socket.close();
  }
}

const botScenario = {
  name: 'bot-guard',
  executor: { type: 'constant-arrival-rate', rate: 10, duration: '1s' },
  target: { kind: 'bot', command: 'touch should-never-exist', chatPort: 1 },
};

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'cvlab-bot-guard-'));
  writeFileSync(join(folder, 'index.html'), '<!doctype html><title>cvlab</title>');
  lab = new Lab({ host: 'serve', dataDir: folder, stores: null });
});

afterAll(async () => {
  await lab.dispose();
  rmSync(folder, { recursive: true, force: true });
});

describe('loopback addresses', () => {
  it('tells this machine from the network', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.40', 'bench.local']) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('bot commands through cvlab serve', () => {
  const address = Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .find((entry) => entry.family === 'IPv4' && !entry.internal)?.address ?? '127.0.0.1';

  it('are refused, with the reason, to consoles of a server beyond loopback started without --allow-bot-commands', async () => {
    const server = await LabServer.start({ lab, rendererDir: folder, host: '0.0.0.0', port: 0, token: TOKEN });
    try {
      const about = (await call(server, address, 'about', [])).value as { botCommands?: { allowed: boolean; reason?: string } };
      expect(about.botCommands?.allowed).toBe(false);
      expect(about.botCommands?.reason).toMatch(/--allow-bot-commands/);
      expect(about.botCommands?.reason).toMatch(/wait for my bot/);
      const rig = (await call(server, address, 'activeRig', [])).value as { rig: unknown };
      const refused = await call(server, address, 'startRun', [{ scenario: botScenario, rig: rig.rig }]);
      expect(refused.error).toMatch(/^Refused to start the bot's command: .*--allow-bot-commands/);
      expect((await call(server, address, 'currentRun', [])).value).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('are allowed on loopback, and beyond it with --allow-bot-commands', async () => {
    for (const options of [{ host: '127.0.0.1' }, { host: '0.0.0.0', allowBotCommands: true }]) {
      const server = await LabServer.start({ lab, rendererDir: folder, port: 0, token: TOKEN, ...options });
      try {
        const about = (await call(server, options.host === '127.0.0.1' ? '127.0.0.1' : address, 'about', [])).value as { botCommands?: unknown };
        expect(about.botCommands).toBeUndefined();
      } finally {
        await server.close();
      }
    }
  });
});

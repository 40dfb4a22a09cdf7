import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatLogStats } from '../../src/shared/chat-log';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { RunService } from '../../src/main/lab/session/run-service';
import { spawnCvlab, type CvlabProcess } from '../setup/cvlab-run';
import { startNgircd, type PrivateIrcServer } from '../setup/ngircd';
import { RawIrcClient, rawIrcBot } from '../setup/raw-irc-client';
import { freePort } from '../setup/services';
import { waitFor } from '../setup/wait-for';

let folder: string;
let server: PrivateIrcServer;
const running: CvlabProcess[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-chat-record-'));
  server = await startNgircd();
});
afterAll(async () => {
  for (const process of running) process.child.kill('SIGKILL');
  await server?.stop();
  await rm(folder, { recursive: true, force: true });
});

/** A viewer of the private server: registers under `nick` and joins the channel. */
async function viewer(nick: string): Promise<RawIrcClient> {
  const client = await RawIrcClient.open(server.port);
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick}`);
  await client.waitFor((message) => message.command === '001', `${nick}'s welcome`);
  client.send('JOIN #lzx_lab');
  await client.waitFor((message) => message.command === 'JOIN', `${nick}'s JOIN`);
  return client;
}

const privmsgLines = (text: string): number => text.split('\n').filter((line) => / PRIVMSG #lzx_lab :/.test(line)).length;

describe('cvlab chat record against a real IRC server (ngircd), then stats, then a replay', () => {
  it('records what viewers post, flushed line by line; stats read it; a replay plays it line for line to a bot', async () => {
    // The lines: the shipped sample's first ones (commands, chatter, emoji, other scripts), by three viewers.
    const sample = (await readFile('resources/chat-logs/sample.jsonl', 'utf8')).split('\n').filter(Boolean).slice(0, 45);
    const nicks = ['pixel_moth', 'gridweaver', 'yume_signal'];
    const fed = sample.map((line, index) => ({ nick: nicks[index % nicks.length] as string, text: (JSON.parse(line) as { text: string }).text }));

    const out = join(folder, 'friday.log');
    const killedOut = join(folder, 'killed.log');
    const recorder = spawnCvlab(['chat', 'record', '--server', `127.0.0.1:${server.port}`, '--channel', '#lzx_lab', '--out', out]);
    const killed = spawnCvlab(['chat', 'record', '--server', `127.0.0.1:${server.port}`, '--channel', 'lzx_lab', '--out', killedOut]);
    running.push(recorder, killed);
    await waitFor(() => recorder.stderr().includes('joined #lzx_lab') && killed.stderr().includes('joined #lzx_lab'), 'both recorders to join #lzx_lab', 30_000);
    expect(recorder.stderr()).toMatch(/joining #lzx_lab as justinfan\d+ \(anonymous, read-only\)/);

    const clients = await Promise.all(nicks.map((nick) => viewer(nick)));
    try {
      for (const [index, line] of fed.entries()) {
        clients[index % clients.length]?.send(`PRIVMSG #lzx_lab :${line.text}`);
        // A gap between lines, so they reach the server (and the log) in the order posted.
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await waitFor(async () => privmsgLines(await readFile(out, 'utf8')) === fed.length && privmsgLines(await readFile(killedOut, 'utf8')) === fed.length, 'every posted line in both logs', 30_000);
    } finally {
      for (const client of clients) client.close();
    }

    // Killed without warning, the recorder has lost nothing: each line was written as it came.
    killed.child.kill('SIGKILL');
    await killed.exited;
    const kept = await readFile(killedOut, 'utf8');
    expect(privmsgLines(kept)).toBe(fed.length);
    expect(kept.endsWith('\n')).toBe(true);

    recorder.child.kill('SIGINT');
    const stopped = await recorder.exited;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`recorded #lzx_lab as justinfan\\d+: \\d+ lines \\(${fed.length} chat messages, [\\d,]+ bytes\\) into ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} .*\\(stopped\\)`));
    // Raw lines after their receive time (no tmi-sent-ts from a plain IRC server: the receive time is the time).
    expect((await readFile(out, 'utf8')).split('\n')[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z :irc\.cvlab\.test /);

    const statsRun = spawnCvlab(['chat', 'stats', out, '--json']);
    const statsResult = await statsRun.exited;
    expect(statsResult.code).toBe(0);
    const stats = JSON.parse(statsResult.stdout) as ChatLogStats;
    expect(stats).toMatchObject({ format: 'irc', messages: fed.length, viewers: nicks.length, damaged: 0, fileName: 'friday.log' });
    expect(stats.otherLines).toBeGreaterThan(5);

    // The replay, to a bot through the chat endpoint: every recorded line, in order, under its viewer's name.
    // The demo rig on ports of its own: other test files run beside this one.
    const demo = await loadRig();
    const rig = { ...demo, osc: { ...demo.osc, port: await freePort(), tapPort: await freePort() } };
    const bot = rawIrcBot('replaybot');
    // A bot target as any host hands it to the session: cvlab waits for the bot, which joins once told where.
    const target = { kind: 'bot', chatPort: 0, joinTimeout: '30s' } as const;
    const service = new RunService({ stores: null, warmUpMessages: 0, log: () => undefined });
    service.onDidAwaitBot((awaited) => bot.onListening(awaited.environment));
    try {
      await service.start({ scenario: { name: 'friday-replay', executor: { type: 'replay', file: out, speed: 2 }, target }, rig });
      const outcome = await service.finished();
      expect(outcome?.summary.sent).toBe(fed.length);
      expect(outcome?.summary.run.replay?.log.sha256).toBe(stats.sha256);
      expect(outcome?.summary.blackBox?.chatSent).toBe(fed.length);
      const received = (bot.client()?.lines ?? []).filter((message) => message.command === 'PRIVMSG');
      expect(received.map((message) => ({ nick: message.prefix?.split('!')[0], text: message.params[1] }))).toEqual(fed);
      // As Twitch would send them: tags first, the login as nick, user and host.
      expect(received[0]?.prefix).toBe('pixel_moth!pixel_moth@pixel_moth.tmi.twitch.tv');
      expect(received[0]?.tags.get('display-name')).toBe('Pixel_moth');
      expect(Number(received[0]?.tags.get('tmi-sent-ts'))).toBeGreaterThan(1_600_000_000_000);
    } finally {
      bot.client()?.close();
      await service.dispose();
    }
  }, 120_000);
});

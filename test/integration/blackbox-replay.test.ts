import { describe, expect, it } from 'vitest';
import { readChatLog } from '../../src/main/lab/common/chat-log/read-chat-log';
import { hashedViewerName } from '../../src/main/lab/engine/load/recorded-chat';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { RunService } from '../../src/main/lab/session/run-service';
import { rawIrcBot } from '../setup/raw-irc-client';

describe('a replay against a bot (black box)', () => {
  it('hands the bot the recorded texts under hashed names when asked: the same viewer, the same stand-in name', async () => {
    const recorded: { timeMs: number; user: string; text: string }[] = [];
    await readChatLog('resources/chat-logs/sample-chatterino.log', {}, (timeMs, user, text) => recorded.push({ timeMs, user, text }));
    const first = recorded[0]?.timeMs ?? 0;
    const window = recorded.filter((message) => message.timeMs - first >= 60_000 && message.timeMs - first < 76_000);
    expect(window.length).toBeGreaterThan(50);

    const bot = rawIrcBot('hashbot');
    // A bot target as any host hands it to the session: cvlab waits for the bot, which joins once told where.
    const target = { kind: 'bot', chatPort: 0, joinTimeout: '30s' } as const;
    const service = new RunService({ stores: null, warmUpMessages: 0, log: () => undefined });
    service.onDidAwaitBot((awaited) => bot.onListening(awaited.environment));
    try {
      const info = await service.start({
        scenario: { name: 'hashed-replay', executor: { type: 'replay', file: 'sample-chatterino.log', from: '60s', to: '76s', speed: 8, users: 'hashed' }, target },
        rig: await loadRig(),
      });
      expect(info.plannedMessages).toBe(window.length);
      const outcome = await service.finished();
      expect(outcome?.summary.sent).toBe(window.length);
      const received = (bot.client()?.lines ?? []).filter((message) => message.command === 'PRIVMSG');
      expect(received.map((message) => message.params[1])).toEqual(window.map((message) => message.text));
      expect(received.map((message) => message.prefix?.split('!')[0])).toEqual(window.map((message) => hashedViewerName(message.user)));
      expect(received.every((message) => /^v_[0-9a-f]{12}$/.test(message.prefix?.split('!')[0] ?? ''))).toBe(true);
      expect(new Set(received.map((message) => message.prefix)).size).toBe(new Set(window.map((message) => message.user)).size);
    } finally {
      bot.client()?.close();
      await service.dispose();
    }
  }, 90_000);
});

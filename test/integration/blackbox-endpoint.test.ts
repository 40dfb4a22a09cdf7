import { ChatClient } from '@twurple/chat';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatEndpoint } from '../../src/main/lab/engine/blackbox/chat-endpoint';
import { TwitchViewerLines } from '../../src/main/lab/engine/blackbox/twitch-viewer-line';
import { RawIrcClient } from '../setup/raw-irc-client';

let endpoint: ChatEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('the chat endpoint over raw TCP', () => {
  it('registers, acknowledges Twitch capabilities, joins with 353/366 and ROOMSTATE, answers PING and keeps replies', async () => {
    endpoint = await ChatEndpoint.listen({ port: 0, channel: 'cvlab' });
    const client = await RawIrcClient.open(endpoint.address.port);
    try {
      client.send('CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership');
      client.send('PASS oauth:not-checked');
      client.send('NICK RawBot');
      const ack = await client.waitFor((message) => message.command === 'CAP', 'CAP ACK');
      expect(ack.params).toEqual(['*', 'ACK', 'twitch.tv/tags twitch.tv/commands twitch.tv/membership']);
      await client.waitFor((message) => message.command === '376', 'end of MOTD');
      expect(client.lines.find((message) => message.command === '001')?.params[0]).toBe('rawbot');

      const joined = endpoint.waitForJoin(10_000);
      client.send('JOIN #cvlab');
      const status = await joined;
      expect(status).toMatchObject({ nick: 'rawbot', transport: 'tcp', passSeen: true });
      const join = await client.waitFor((message) => message.command === 'JOIN', 'JOIN echo');
      expect(join.prefix).toBe('rawbot!rawbot@rawbot.tmi.twitch.tv');
      expect((await client.waitFor((message) => message.command === '353', 'NAMES')).params).toEqual(['rawbot', '=', '#cvlab', 'rawbot']);
      await client.waitFor((message) => message.command === '366', 'end of NAMES');
      const roomState = await client.waitFor((message) => message.command === 'ROOMSTATE', 'ROOMSTATE');
      expect(roomState.tags.get('slow')).toBe('0');

      client.send('PING :are-you-there');
      const pong = await client.waitFor((message) => message.command === 'PONG', 'PONG');
      expect(pong.params).toEqual(['tmi.twitch.tv', 'are-you-there']);

      // A viewer line, as Twitch writes it, with a tag value that needs escaping.
      const lines = new TwitchViewerLines('cvlab');
      const viewer = lines.line('viewer-00042', 'hue=0.4 sat=80%');
      expect(endpoint.sendToChannel(viewer.line)).toBe(1);
      const privmsg = await client.waitFor((message) => message.command === 'PRIVMSG', 'viewer PRIVMSG');
      expect(privmsg.prefix).toBe('viewer_00042!viewer_00042@viewer_00042.tmi.twitch.tv');
      expect(privmsg.params).toEqual(['#cvlab', 'hue=0.4 sat=80%']);
      expect([...privmsg.tags.keys()]).toEqual([
        'badge-info', 'badges', 'color', 'display-name', 'emotes', 'first-msg', 'flags', 'id', 'mod',
        'returning-chatter', 'room-id', 'subscriber', 'tmi-sent-ts', 'turbo', 'user-id', 'user-type',
      ]);
      expect(privmsg.tags.get('id')).toBe(viewer.id);
      expect(privmsg.tags.get('display-name')).toBe('Viewer_00042');
      expect(privmsg.tags.get('first-msg')).toBe('1');
      expect(Number(privmsg.tags.get('tmi-sent-ts'))).toBeGreaterThan(1_600_000_000_000);

      const reply = new Promise<string>((resolve) => endpoint?.onDidReply((sent) => resolve(`${sent.nick} ${sent.channel} ${sent.text} ${sent.tags.get('reply-parent-msg-id')}`)));
      client.send(`@reply-parent-msg-id=${viewer.id} PRIVMSG #cvlab :@viewer_00042 hue set; thanks`);
      expect(await reply).toBe(`rawbot #cvlab @viewer_00042 hue set; thanks ${viewer.id}`);
      expect(endpoint.clients()[0]).toMatchObject({ replies: 1, linesWritten: 1 });
    } finally {
      client.close();
    }
  });

  it('names how far a bot got when it never joins', async () => {
    endpoint = await ChatEndpoint.listen({ port: 0, channel: 'cvlab' });
    const client = await RawIrcClient.open(endpoint.address.port);
    try {
      client.send('NICK lazybot');
      await client.waitFor((message) => message.command === '376', 'end of MOTD');
      await expect(endpoint.waitForJoin(300)).rejects.toThrow(/connected over TCP, sent NICK lazybot but did not JOIN #cvlab within 0\.3 s/);
    } finally {
      client.close();
    }
  });
});

describe('the chat endpoint over WebSocket', () => {
  it('serves @twurple/chat, which reads the viewer lines with the tags Twitch sends', async () => {
    endpoint = await ChatEndpoint.listen({ port: 0, channel: 'cvlab' });
    // ChatClient has no port option: it builds ws://<hostName>:<80|443>. A host name ending in a
    // path puts our port in the authority and leaves ":80" in the path, which the endpoint ignores.
    const chat = new ChatClient({ hostName: `127.0.0.1:${endpoint.address.port}/irc`, webSocket: true, ssl: false, channels: ['cvlab'], logger: { minLevel: 'critical' } });
    const received = new Promise<{ channel: string; user: string; text: string; userId: string; displayName: string; isMod: boolean; id: string; color: string | undefined }>((resolve) =>
      chat.onMessage((channel, user, text, message) =>
        resolve({ channel, user, text, userId: message.userInfo.userId, displayName: message.userInfo.displayName, isMod: message.userInfo.isMod, id: message.id, color: message.userInfo.color }),
      ),
    );
    try {
      const joined = endpoint.waitForJoin(20_000);
      chat.connect();
      const status = await joined;
      expect(status.transport).toBe('websocket');
      expect(status.capabilities).toEqual(expect.arrayContaining(['twitch.tv/tags', 'twitch.tv/commands']));
      const lines = new TwitchViewerLines('cvlab');
      const viewer = lines.line('Mixed Case;User', '!set zoom =-0.5');
      endpoint.sendToChannel(viewer.line);
      const message = await received;
      expect(message).toMatchObject({ channel: 'cvlab', user: 'mixed_case_user', text: '!set zoom =-0.5', userId: viewer.viewer.userId, displayName: 'Mixed_case_user', id: viewer.id, color: viewer.viewer.color });
      expect(message.isMod).toBe(viewer.viewer.moderator);
    } finally {
      chat.quit();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { startsBotCommand } from '../../shared/api';
import { botEnvironment, botState, describeExit, targetMode } from './bot-target';

describe("the console's reading of a target", () => {
  it('tells the three modes apart, an emptied command still meaning "start my bot"', () => {
    expect(targetMode({ name: 'x' })).toBe('pipeline');
    expect(targetMode({ target: { kind: 'pipeline' } })).toBe('pipeline');
    expect(targetMode({ target: { kind: 'bot', command: 'node bot.js' } })).toBe('start');
    expect(targetMode({ target: { kind: 'bot', command: '' } })).toBe('start');
    expect(targetMode({ target: { kind: 'bot', wait: true } })).toBe('wait');
  });

  it('knows which scenarios make the engine start a command', () => {
    expect(startsBotCommand({ target: { kind: 'bot', command: 'node bot.js' } })).toBe(true);
    expect(startsBotCommand({ target: { kind: 'bot', wait: true } })).toBe(false);
    expect(startsBotCommand({ target: { kind: 'pipeline' } })).toBe(false);
    expect(startsBotCommand(null)).toBe(false);
  });

  it('gives the environment a bot started by hand needs, and says where an unknown value comes from', () => {
    const known = Object.fromEntries(botEnvironment({ kind: 'bot', chatPort: 7000, oscListen: '127.0.0.1:9100', channel: 'bench' }, '/rigs/bench.json'));
    expect(known).toEqual({ CVLAB_CHAT_HOST: '127.0.0.1', CVLAB_CHAT_PORT: '7000', CVLAB_CHANNEL: 'bench', CVLAB_OSC_HOST: '127.0.0.1', CVLAB_OSC_PORT: '9100', CVLAB_RIG: '/rigs/bench.json' });
    const defaults = Object.fromEntries(botEnvironment({ kind: 'bot' }, undefined));
    expect(defaults['CVLAB_CHAT_PORT']).toBe('6667');
    expect(defaults['CVLAB_CHANNEL']).toBe('cvlab');
    expect(defaults['CVLAB_OSC_PORT']).toMatch(/OSC listen/);
    expect(defaults['CVLAB_RIG']).toMatch(/save the rig/);
    expect(Object.fromEntries(botEnvironment({ kind: 'bot', oscListen: '[::1]:9100' }, undefined))['CVLAB_OSC_HOST']).toBe('::1');
  });

  it("words a bot's state and end", () => {
    const base = { connected: true, joined: true, linesRead: 3, replies: 0 };
    expect(botState(base).word).toBe('joined');
    expect(botState({ ...base, joined: false }).word).toBe('connected, not joined');
    expect(botState({ ...base, connected: false }).word).toBe('disconnected');
    expect(botState({ ...base, exitCode: 1 }).word).toBe('exited');
    expect(describeExit(null, null, true)).toBe('running');
    expect(describeExit(0, null, true)).toBe('exit code 0');
    expect(describeExit(null, 'SIGTERM', true)).toBe('ended by SIGTERM');
    expect(describeExit(null, null, false)).toMatch(/elsewhere/);
  });
});

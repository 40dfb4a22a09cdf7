import type { BotConnectionStatus } from '../../shared/run';

// The console's reading of a scenario's target and of a bot's status: plain functions, no React.

/** What the load is sent to, as the technician chooses it. */
export type TargetMode = 'pipeline' | 'start' | 'wait';

/** Where a bot connects when the scenario does not say (the chat endpoint's default). */
export const DEFAULT_CHAT_PORT = 6667;

type TargetDraft = Record<string, unknown>;

/** The scenario draft's target (cvlab's pipeline when it names none). */
export function targetOf(draft: unknown): TargetDraft {
  const target = (draft as { target?: unknown } | null)?.target;
  return typeof target === 'object' && target !== null ? (target as TargetDraft) : { kind: 'pipeline' };
}

/** The mode a scenario's target stands for: a bot with a command is started, one without is waited for. */
export function targetMode(draft: unknown): TargetMode {
  const target = targetOf(draft);
  if (target['kind'] !== 'bot') return 'pipeline';
  return typeof target['command'] === 'string' ? 'start' : 'wait';
}

/**
 * The environment a bot started by hand needs, from the scenario's target and the rig's file
 * (what cvlab itself would set for a bot it starts). An unknown value says where it comes from.
 */
export function botEnvironment(target: TargetDraft, rigPath: string | undefined): [string, string][] {
  const [oscHost, oscPort] = typeof target['oscListen'] === 'string' ? splitHostPort(target['oscListen']) : ['127.0.0.1', '(a free port: set “OSC listen” to know it now)'];
  return [
    ['CVLAB_CHAT_HOST', '127.0.0.1'],
    ['CVLAB_CHAT_PORT', String(typeof target['chatPort'] === 'number' ? target['chatPort'] : DEFAULT_CHAT_PORT)],
    ['CVLAB_CHANNEL', typeof target['channel'] === 'string' && target['channel'] ? target['channel'] : 'cvlab'],
    ['CVLAB_OSC_HOST', oscHost],
    ['CVLAB_OSC_PORT', oscPort],
    ['CVLAB_RIG', rigPath ?? '(save the rig to a file to hand its path to the bot)'],
  ];
}

function splitHostPort(text: string): [string, string] {
  const at = text.lastIndexOf(':');
  return at < 0 ? [text, '?'] : [text.slice(0, at).replace(/^\[|\]$/g, ''), text.slice(at + 1)];
}

/** The bot's state in one word or two, from what the chat endpoint and its process say. */
export function botState(bot: BotConnectionStatus): { word: string; tone: 'ok' | 'warn' | 'bad' } {
  if (bot.signal || (bot.exitCode !== undefined && bot.exitCode !== null)) return { word: 'exited', tone: 'bad' };
  if (!bot.connected) return { word: 'disconnected', tone: 'bad' };
  if (!bot.joined) return { word: 'connected, not joined', tone: 'warn' };
  return { word: 'joined', tone: 'ok' };
}

/** How the bot ended, in words: still running, its exit code, or the signal that ended it. */
export function describeExit(exitCode: number | null | undefined, signal: string | null | undefined, started: boolean): string {
  if (!started) return 'started elsewhere (not by cvlab)';
  if (signal) return `ended by ${signal}`;
  if (exitCode === null || exitCode === undefined) return 'running';
  return `exit code ${exitCode}`;
}

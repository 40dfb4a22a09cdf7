import { isIP } from 'node:net';
import { startsBotCommand, type About, type LabApi, type LabCommandArgs } from '../../../shared/api';

/** Whether consoles of this server may make it start a bot's shell command, and why not. */
export interface BotCommandPolicy {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** True for an address only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare.startsWith('::ffff:127.');
}

/**
 * `cvlab serve` starts a bot's command for a console only on loopback, or when told to with
 * --allow-bot-commands: a console reached over the network would otherwise run any shell
 * command on the bench machine for whoever holds the token.
 */
export function botCommandPolicy(host: string, allowBotCommands: boolean): BotCommandPolicy {
  if (allowBotCommands || isLoopbackHost(host)) return { allowed: true };
  return {
    allowed: false,
    reason: `cvlab serve listens on ${host}, beyond this machine, and was not started with --allow-bot-commands: a console may not start a shell command here. Start your bot yourself and choose "wait for my bot", or restart cvlab serve with --allow-bot-commands on a network you trust.`,
  };
}

/**
 * The LabApi as a server's consoles see it under `policy`: `about` says whether bot commands
 * may run, and `startRun` refuses a scenario that would start one when they may not. The check
 * is here, on the server, so a console that skips its own UI gets the same answer.
 */
export function guardBotCommands(lab: LabApi, policy: BotCommandPolicy): LabApi {
  if (policy.allowed) return lab;
  const botCommands = { allowed: false, ...(policy.reason ? { reason: policy.reason } : {}) };
  return new Proxy(lab, {
    get(target, property, receiver) {
      if (property === 'about') return async (): Promise<About> => ({ ...(await target.about()), botCommands });
      if (property === 'startRun')
        return async (options: LabCommandArgs<'startRun'>[0]) => {
          if (startsBotCommand(options.scenario)) throw new Error(`Refused to start the bot's command: ${policy.reason ?? 'bot commands are off on this server'}`);
          return target.startRun(options);
        };
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

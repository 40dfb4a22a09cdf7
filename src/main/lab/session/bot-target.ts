import { ValidationError } from '../../../shared/format-issues';
import type { RunTarget, Scenario } from '../../../shared/scenario';
import type { BlackBoxRequest } from '../common/engine-protocol';

/** The command line's black-box flags, as typed. */
export interface BotFlags {
  readonly bot?: string;
  readonly botWait?: boolean;
  readonly chatPort?: string;
  readonly oscListen?: string;
  readonly forward?: string;
}

type BotTarget = Extract<RunTarget, { kind: 'bot' }>;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port` (IPv6 in brackets) → its parts; undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = HOST_PORT.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || !(port >= 0 && port <= 65535)) return undefined;
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/**
 * The scenario's `target` with the command line's flags over it: the one request every host
 * hands the session. Bad flags are a ValidationError naming each.
 */
export function targetWithFlags(scenario: Pick<Scenario, 'target'>, flags: BotFlags): RunTarget {
  const problems: string[] = [];
  const target = scenario.target.kind === 'bot' ? scenario.target : undefined;
  if (flags.bot !== undefined && flags.botWait) problems.push('--bot and --bot-wait: give one (a command cvlab starts, or wait for a bot started elsewhere)');
  if (flags.bot !== undefined && flags.bot.trim() === '') problems.push('--bot: expected the command that starts the bot, e.g. --bot "node bot.js"');
  const wanted = flags.bot !== undefined || flags.botWait === true || target !== undefined;
  if (!wanted) {
    for (const flag of ['chatPort', 'oscListen', 'forward'] as const) {
      if (flags[flag] !== undefined) problems.push(`--${flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}: only with --bot or --bot-wait (or a scenario whose target is a bot)`);
    }
  }
  let chatPort = target?.chatPort;
  if (flags.chatPort !== undefined) {
    const port = Number(flags.chatPort);
    if (flags.chatPort.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) problems.push(`--chat-port: expected a port 0–65535 (0: a free one), got "${flags.chatPort}"`);
    else chatPort = port;
  }
  const hostPort = (flag: string, text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    if (!parseHostPort(text)) problems.push(`--${flag}: expected host:port like 127.0.0.1:9000, got "${text}"`);
    return text.trim();
  };
  const oscListen = hostPort('osc-listen', flags.oscListen) ?? target?.oscListen;
  const forward = hostPort('forward', flags.forward) ?? target?.forward;
  if (problems.length > 0) throw new ValidationError('command line', problems);
  if (!wanted) return scenario.target;
  // A command on the command line wins; --bot-wait drops the scenario's command.
  const command = flags.botWait ? undefined : (flags.bot ?? target?.command);
  const { command: _command, cwd, ...rest } = target ?? { kind: 'bot' as const, cwd: undefined };
  // The scenario's working folder goes with the scenario's command; one typed on the command line runs here.
  const keptCwd = command !== undefined && flags.bot === undefined ? cwd : undefined;
  return {
    ...rest,
    ...(keptCwd !== undefined ? { cwd: keptCwd } : {}),
    kind: 'bot',
    ...(command !== undefined ? { command } : {}),
    ...(chatPort !== undefined ? { chatPort } : {}),
    ...(oscListen !== undefined ? { oscListen } : {}),
    ...(forward !== undefined ? { forward } : {}),
  };
}

/** A bot target as the engine's thread takes it (data only). */
export function blackBoxRequestOf(target: BotTarget, rigPath: string | undefined): BlackBoxRequest {
  const oscListen = target.oscListen !== undefined ? parseHostPort(target.oscListen) : undefined;
  const forward = target.forward !== undefined ? parseHostPort(target.forward) : undefined;
  return {
    ...(target.command !== undefined ? { command: target.command } : {}),
    ...(target.cwd !== undefined ? { cwd: target.cwd } : {}),
    ...(target.chatPort !== undefined ? { chatPort: target.chatPort } : {}),
    ...(target.channel !== undefined ? { channel: target.channel } : {}),
    ...(oscListen ? { oscListen } : {}),
    ...(forward ? { forward } : {}),
    ...(target.joinTimeout !== undefined ? { joinTimeoutMs: target.joinTimeout } : {}),
    ...(target.matchWindow !== undefined ? { windowMs: target.matchWindow } : {}),
    ...(rigPath !== undefined ? { rigPath } : {}),
  };
}

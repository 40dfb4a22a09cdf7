import { ValidationError } from '../../../shared/format-issues';
import type { RunSummary } from '../../../shared/run';
import type { Scenario } from '../../../shared/scenario';
import type { PipelineFactory } from '../run/run-controller';
import { createBlackBoxPipeline, type BlackBoxOptions, type BlackBoxPipeline } from '../engine/blackbox/black-box-pipeline';

/** The command line's black-box flags, as typed. */
export interface BlackBoxFlags {
  readonly bot?: string;
  readonly botWait?: boolean;
  readonly chatPort?: string;
  readonly oscListen?: string;
  readonly forward?: string;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port` (IPv6 in brackets) → its parts; undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = HOST_PORT.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || !(port >= 0 && port <= 65535)) return undefined;
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/**
 * What a run is pointed at: the scenario's `target` with the command line's flags over it.
 * Undefined when the run targets cvlab's own pipeline. Bad flags are a ValidationError naming each.
 */
export function resolveBlackBoxOptions(scenario: Pick<Scenario, 'target'>, flags: BlackBoxFlags, rigPath: string): BlackBoxOptions | undefined {
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
  const hostPort = (flag: string, text: string | undefined): { host: string; port: number } | undefined => {
    if (text === undefined) return undefined;
    const parsed = parseHostPort(text);
    if (!parsed) problems.push(`--${flag}: expected host:port like 127.0.0.1:9000, got "${text}"`);
    return parsed;
  };
  const oscListen = hostPort('osc-listen', flags.oscListen ?? target?.oscListen);
  const forward = hostPort('forward', flags.forward ?? target?.forward);
  if (problems.length > 0) throw new ValidationError('command line', problems);
  if (!wanted) return undefined;
  // A command on the command line wins; --bot-wait drops the scenario's command.
  const command = flags.botWait ? undefined : (flags.bot ?? target?.command);
  // The scenario's working folder goes with the scenario's command; one typed on the command line runs here.
  const cwd = command !== undefined && flags.bot === undefined ? target?.cwd : undefined;
  return {
    ...(command !== undefined ? { command } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(chatPort !== undefined ? { chatPort } : {}),
    ...(oscListen ? { oscListen } : {}),
    ...(forward ? { forward } : {}),
    ...(target?.channel ? { channel: target.channel } : {}),
    rigPath,
  };
}

/** A pipeline factory for the load engine that builds the black-box target, and keeps it for the end of the run. */
export function blackBoxFactory(options: BlackBoxOptions): { readonly createPipeline: PipelineFactory; target(): BlackBoxPipeline | undefined } {
  let target: BlackBoxPipeline | undefined;
  return {
    createPipeline: async (rig, pipelineOptions) => {
      target = await createBlackBoxPipeline(rig, { ...pipelineOptions, blackBox: options });
      return target;
    },
    target: () => target,
  };
}

/**
 * The run's summary with the black-box figures as they stand after the bot was stopped (its exit
 * and output). A bot that left during the run fails it, and the reason says so: the result is partial.
 */
export function finalBlackBoxSummary(summary: RunSummary, target: BlackBoxPipeline | undefined, lostReason: string | undefined): RunSummary {
  if (!target) return summary;
  const blackBox = target.blackBox();
  if (!blackBox.bot.exitedDuringRun) return { ...summary, blackBox };
  return {
    ...summary,
    blackBox,
    passed: false,
    reason: `partial result: ${lostReason ?? 'the bot left during the run'}${summary.reason ? `; ${summary.reason}` : ''}`,
  };
}

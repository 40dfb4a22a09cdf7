import type { Command } from 'commander';
import { EXIT_CODES } from '../../shared/exit-codes';
import type { Outcome } from '../../shared/message';
import { loadRig } from '../lab/files/rig-file';
import { sendMessage } from '../lab/session/send-message';
import { listExitCodes } from './exit-status';
import { formatNs, formatTable } from './format';

/** Prints one outcome the way a technician reads it at the bench. */
export function describeOutcome(outcome: Outcome, target: string, tapNs?: number): string {
  const lines: string[] = [];
  if (outcome.status === 'accepted') {
    const { packet } = outcome;
    lines.push(`accepted: ${outcome.changes.map((change) => `${change.variable}=${change.value} (v${change.version})`).join(', ')}`);
    lines.push(`OSC ${packet.bundle ? `bundle of ${packet.messages.length} messages` : 'message'} → ${target} (${packet.bytes} bytes)`);
    for (const message of packet.messages) {
      lines.push(`  ${message.address}  ,${message.typeTags}  ${message.values.map((value) => (typeof value === 'number' ? value.toFixed(6) : value)).join(' ')}`);
    }
  } else if (outcome.status === 'rejected') {
    lines.push(`rejected: ${outcome.rejection.code}`);
    lines.push(`  ${outcome.rejection.detail}`);
  } else {
    lines.push(`failed: ${outcome.error}`);
  }
  const { timings } = outcome;
  const rows: string[][] = [
    ['validate', formatNs(timings.validate)],
    ['limit', formatNs(timings.limit)],
    ['store', timings.store === undefined && timings.limit !== undefined && outcome.status === 'accepted' ? 'in the limit round trip' : formatNs(timings.store)],
    ['encode', formatNs(timings.encode)],
    ['send', formatNs(timings.send)],
    ['end-to-end (to kernel)', formatNs(timings.e2e)],
  ];
  if (tapNs !== undefined) rows.push(['end-to-end (on the wire, tap)', formatNs(tapNs)]);
  lines.push('', formatTable(['stage', 'time'], rows));
  lines.push('(one message in a fresh process: the times include start-up and JIT warm-up; `cvlab run` measures the steady state)');
  return lines.join('\n');
}

export function registerSendCommand(program: Command): void {
  const command = program
    .command('send')
    .description('run one chat message through the pipeline and show the outcome, the OSC sent and each stage time')
    .argument('<text>', 'the chat message, e.g. "hue=0.4 sat=80%"')
    .option('--rig <file>', 'rig file (default: the built-in demo rig)')
    .option('--user <name>', 'the viewer who sent it', 'bench')
    .option('--redis <url>', 'use this Redis instead of the rig setting')
    .action(async (text: string, options: { rig?: string; user: string; redis?: string }) => {
      const rig = await loadRig(options.rig);
      const { outcome, tapNs, warnings, degraded } = await sendMessage({ rig, text, user: options.user, ...(options.redis !== undefined ? { redisUrl: options.redis } : {}) });
      for (const warning of warnings) console.warn(`warning: ${warning}`);
      console.log(describeOutcome(outcome, `${rig.osc.host}:${rig.osc.port}`, tapNs));
      if (degraded !== undefined) {
        console.error(`cvlab send: Redis stopped answering (${degraded}): the in-process limiter decided this message and other instances did not see it`);
        process.exitCode = EXIT_CODES.serviceUnreachable;
        return;
      }
      process.exitCode =
        outcome.status === 'accepted' ? EXIT_CODES.passed : outcome.status === 'rejected' ? EXIT_CODES.badInput : EXIT_CODES.serviceUnreachable;
    });
  listExitCodes(command, {
    0: 'the message was accepted and its OSC sent',
    2: 'bad input: a flag or the rig file, or the message was rejected (its code and why are printed)',
    3: 'unavailable: the Redis named (--redis, the rig\'s redisUrl) did not answer (nothing was sent), stopped answering while deciding, or the OSC could not be sent',
  });
}

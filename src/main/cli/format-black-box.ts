import type { BlackBoxSummary } from '../../shared/run';
import { formatNs } from './format';

/** The black-box part of the end-of-run report: which bot, how it ended, how its OSC matched the chat. */
export function formatBlackBox(blackBox: BlackBoxSummary): string {
  const bot = blackBox.bot;
  const who = bot.command !== undefined ? `"${bot.command}"` : 'a bot started elsewhere';
  const version = bot.version !== undefined ? ` (${bot.version})` : ' (printed no version line)';
  const exit = bot.signal ? `killed by ${bot.signal}` : bot.exitCode === null ? 'left running' : `exit code ${bot.exitCode}`;
  const transport = bot.transport === 'tcp' ? 'IRC over TCP' : bot.transport === 'websocket' ? 'IRC over WebSocket' : 'an unknown transport';
  const percent = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(2)}%` : '–');
  const lines = [
    `black box: bot ${who}${version} as ${bot.nick ?? '?'} over ${transport}, ${exit}${bot.exitedDuringRun ? ' — it LEFT DURING THE RUN: partial result' : ''}`,
    `chat lines sent ${blackBox.chatSent} → OSC caught: ${blackBox.oscReceived} datagrams, ${blackBox.oscMessages} messages (on ${blackBox.endpoint.oscHost}:${blackBox.endpoint.oscPort}${blackBox.endpoint.forward ? `, forwarded to ${blackBox.endpoint.forward}: ${blackBox.forwarded}` : ''})`,
    `matched ${blackBox.matched} chat messages (OSC messages by value ${blackBox.matchedByValue}, by order ${blackBox.matchedByOrder}; partial ${blackBox.partial}); ` +
      `unmatched OSC ${blackBox.unmatchedOsc} (${percent(blackBox.unmatchedOsc, blackBox.oscMessages)})${blackBox.unmatchedAddresses.length > 0 ? ` e.g. ${blackBox.unmatchedAddresses.join(', ')}` : ''}; ambiguous ${blackBox.ambiguous}`,
    `no OSC within ${blackBox.endpoint.windowMs} ms: ${blackBox.missing.rejectedByModel} the rig rejects too, ${blackBox.missing.acceptedButSilent} the rig accepts but the bot sent nothing` +
      (blackBox.acceptedAgainstModel > 0 ? `; ${blackBox.acceptedAgainstModel} moved the synth although the rig's limits reject them` : ''),
    `chat → OSC p50 ${formatLatency(blackBox.latency.chatToOsc?.p50)}, p99 ${formatLatency(blackBox.latency.chatToOsc?.p99)} on ${blackBox.latency.chatToOsc?.count ?? 0} messages; ` +
      `bot replies ${blackBox.replies.received} (${blackBox.replies.matched} matched, p50 ${formatLatency(blackBox.latency.botReply?.p50)})`,
    `slow reader: at most ${blackBox.slowReader.maxBufferedBytes} bytes waited in cvlab's send buffer; ${blackBox.slowReader.linesQueued} of ${blackBox.slowReader.linesWritten} lines were written behind others`,
  ];
  if (bot.exitedDuringRun && bot.stderrTail.trim() !== '') lines.push(`bot stderr (last lines): ${bot.stderrTail.trim().split('\n').slice(-5).join(' | ')}`);
  return lines.join('\n');
}

function formatLatency(ns: number | undefined): string {
  return ns === undefined ? '–' : formatNs(ns);
}

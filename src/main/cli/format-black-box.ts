import type { BlackBoxSummary, BotResources } from '../../shared/run';
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

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const perMinute = (bytesPerHour: number): string => `${bytesPerHour >= 0 ? '+' : '−'}${(Math.abs(bytesPerHour) / 1024 / 1024 / 60).toFixed(1)} MiB/min`;

/**
 * The bot's own health, printed beside cvlab's CPU and memory: its process tree's CPU and RSS and
 * the leak verdict on its RSS ("bot memory: +9.8 MiB/min over 30 s, R² 0.99 — LEAK"); or plainly
 * why it could not be watched.
 */
export function formatBotResources(resources: BotResources): string[] {
  if (resources.unavailable !== undefined) return [`bot: CPU and memory not measured — ${resources.unavailable}`];
  const names = resources.processes.map((process) => process.name);
  const tree = resources.processes.length > 1 ? `${resources.processes.length} processes (${names.join(', ')})` : `${names[0] ?? '?'}`;
  const found = resources.foundBy === 'connection' ? ', found by its chat connection' : '';
  const lines: string[] = [];
  const cpu = resources.cpu ? `CPU mean ${resources.cpu.meanPercent.toFixed(0)}% (max ${resources.cpu.maxPercent.toFixed(0)}% over 1 s) of one core` : 'CPU not read';
  const rss = resources.rss ? `RSS ${mib(resources.rss.startBytes)} → ${mib(resources.rss.endBytes)} (max ${mib(resources.rss.maxBytes)})` : 'RSS not read';
  lines.push(`bot (pid ${resources.pid ?? '?'}: ${tree}${found}): ${cpu}; ${rss}; ${resources.samples} readings`);
  const leak = resources.leak;
  if (leak) {
    const over = leak.spanMs !== undefined ? ` over ${(leak.spanMs / 1000).toFixed(0)} s` : '';
    const verdict = leak.samples < 3 ? 'too few points for a verdict' : leak.leaking ? 'LEAK' : 'no leak';
    lines.push(
      `bot memory: ${perMinute(leak.slopeBytesPerHour)}${over}, R² ${leak.rSquared.toFixed(2)} — ${verdict} (tolerance ${perMinute(leak.toleranceBytesPerHour)}, lowest RSS of each window, ${leak.samples} points)`,
    );
  } else if (resources.rss?.slopeBytesPerHour !== undefined) {
    lines.push(`bot memory: ${perMinute(resources.rss.slopeBytesPerHour)}, R² ${(resources.rss.rSquared ?? 0).toFixed(2)} (no verdict: the scenario has no leakDetection)`);
  }
  return lines;
}

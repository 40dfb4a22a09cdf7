import { CHAT_LOG_FORMAT_NAMES, type ReplayInfo } from '../../shared/chat-log';
import type { RunSummary } from '../../shared/run';

/** `1h 02m 03.5s`, `4m 10s`, `12.3s`: a span of recorded chat for people. */
export function formatSpan(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(seconds < 10 && hours === 0 && minutes === 0 ? 2 : 1))}s`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m ${secondsText}`;
  if (minutes > 0) return `${minutes}m ${secondsText}`;
  return secondsText;
}

const percent = (part: number, whole: number): string => `${whole > 0 ? ((part / whole) * 100).toFixed(1) : '0.0'}%`;

/** Which log a replay plays, which part, how fast: said as the run starts. */
export function describeReplay(replay: ReplayInfo): string {
  const log = replay.log;
  const window = replay.fromMs > 0 || replay.toMs < log.spanMs ? `, window ${formatSpan(replay.fromMs)} to ${formatSpan(replay.toMs)} (${replay.windowMessages} messages)` : '';
  return (
    `replay of ${log.fileName}: ${log.format} (${CHAT_LOG_FORMAT_NAMES[log.format].split(' (')[0]}), ${log.messages} messages over ${formatSpan(log.spanMs)}` +
    `${log.damaged > 0 ? `, ${log.damaged} damaged lines skipped` : ''}, sha256 ${log.sha256.slice(0, 16)}…; ` +
    `at speed ${replay.speed}${window}${replay.loop ? ', looped' : ''}, viewers ${replay.users === 'hashed' ? 'hashed' : 'as recorded'}`
  );
}

/** How many recorded lines were played and what the rig (or the bot) made of them. */
export function formatReplayOutcome(summary: RunSummary, replay: ReplayInfo): string {
  const { accepted, rejected, failed } = summary.outcomes;
  const target = summary.blackBox ? 'the bot acted on' : 'the rig accepted';
  return (
    `replay of ${replay.log.fileName} (sha256 ${replay.log.sha256.slice(0, 16)}…): played ${summary.sent} of ${summary.run.plannedMessages} recorded lines planned at speed ${replay.speed}; ` +
    `${target} ${accepted} (${percent(accepted, summary.completed)}), rejected ${rejected} (${percent(rejected, summary.completed)})${failed > 0 ? `, failed ${failed}` : ''}`
  );
}

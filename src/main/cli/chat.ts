import type { Command } from 'commander';
import { CHAT_LOG_FORMAT_NAMES, CHAT_LOG_FORMATS, type ChatLogFormat, type ChatLogStats } from '../../shared/chat-log';
import { ValidationError } from '../../shared/format-issues';
import { parseDurationMs } from '../../shared/scenario';
import { Lab } from '../lab/lab';
import { loadRig } from '../lab/files/rig-file';
import { formatSpan } from './format-replay';

const SPARK = '▁▂▃▄▅▆▇█';
const SPARK_POINTS = 60;

/** The rate timeline as a line of block characters, `points` wide at most. */
export function sparkline(counts: readonly number[], points = SPARK_POINTS): { line: string; factor: number } {
  const factor = Math.max(1, Math.ceil(counts.length / points));
  const sums: number[] = [];
  for (let start = 0; start < counts.length; start += factor) sums.push(counts.slice(start, start + factor).reduce((sum, count) => sum + count, 0));
  const peak = Math.max(1, ...sums);
  return { line: sums.map((sum) => (sum === 0 ? ' ' : SPARK[Math.min(SPARK.length - 1, Math.floor((sum / peak) * SPARK.length))])).join(''), factor };
}

const count = (value: number): string => value.toLocaleString('en-US');

/** `cvlab chat stats` in plain words. */
export function formatChatLogStats(stats: ChatLogStats): string {
  const rejected = Object.entries(stats.rejectedByCode).sort((a, b) => b[1] - a[1]);
  const spark = sparkline(stats.timeline.counts);
  const rows: string[][] = [
    ['span', `${formatSpan(stats.spanMs)}${stats.firstAt ? ` (first message ${stats.firstAt})` : ''}`],
    ['lines', `${count(stats.lines)} read: ${count(stats.messages)} chat messages, ${count(stats.otherLines)} other lines, ${count(stats.damaged)} damaged`],
    ['viewers', count(stats.viewers)],
    ['rate', `mean ${stats.meanPerSecond.toFixed(2)} msg/s; peak ${count(stats.peak1s)} in 1 s, ${count(stats.peak10s)} in 10 s`],
    [
      'longest burst',
      stats.longestBurst
        ? `${formatSpan(stats.longestBurst.durationMs)} from ${formatSpan(stats.longestBurst.startMs)}: ${count(stats.longestBurst.messages)} messages, up to ${count(stats.longestBurst.peakPerSecond)} msg/s (seconds at twice the mean rate or more)`
        : 'none (no second reached twice the mean rate)',
    ],
    [`rig "${stats.rig}"`, `accepts ${count(stats.accepted)} (${(stats.acceptedShare * 100).toFixed(1)}%); rejects ${rejected.length > 0 ? rejected.map(([code, number]) => `${code} ${count(number)}`).join(', ') : 'none'}`],
    ['top variables', stats.topVariables.length > 0 ? stats.topVariables.map((variable) => `${variable.name} ${count(variable.count)}`).join(', ') : 'none'],
    ['rate timeline', `${spark.line} (each mark ${formatSpan(stats.timeline.bucketMs * spark.factor)})`],
  ];
  const width = Math.max(...rows.map(([label]) => (label as string).length));
  const out = [
    `${stats.fileName}: ${stats.format} — ${CHAT_LOG_FORMAT_NAMES[stats.format].split(' (')[0]}, ${count(stats.bytes)} bytes, sha256 ${stats.sha256}`,
    ...rows.map(([label, value]) => `  ${(label as string).padEnd(width)}  ${value}`),
  ];
  if (stats.damagedLines.length > 0) {
    out.push('', `damaged lines (skipped${stats.damaged > stats.damagedLines.length ? `; the first ${stats.damagedLines.length} of ${count(stats.damaged)}` : ''}):`);
    for (const damaged of stats.damagedLines) out.push(`  line ${damaged.line}: ${damaged.reason}`);
  }
  return out.join('\n');
}

function parseFormat(text: string | undefined): ChatLogFormat | 'auto' {
  if (text === undefined || text === 'auto') return 'auto';
  if ((CHAT_LOG_FORMATS as readonly string[]).includes(text)) return text as ChatLogFormat;
  throw new ValidationError('--format', [`expected auto or one of ${CHAT_LOG_FORMATS.join(', ')}, got "${text}"`]);
}

/** "host:port" → its parts; each bad piece named. */
function parseServer(text: string | undefined): { host: string; port: number } {
  const match = text === undefined ? null : /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || !(port >= 1 && port <= 65535)) throw new ValidationError('--server', [`expected host:port like irc.chat.twitch.tv:6697 (port 1–65535), got ${text === undefined ? 'nothing' : `"${text}"`}`]);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** `cvlab chat record` and `cvlab chat stats`: recorded chat, before it is replayed. */
export function registerChatCommands(program: Command): void {
  const chat = program.command('chat').description('recorded chat: record a channel into a log, and see what a log holds before replaying it');

  chat
    .command('record')
    .description('join a channel anonymously (read-only, a justinfan nick) over IRC with Twitch tags and write each line with its receive time, flushed as it comes')
    .option('--server <host:port>', 'the IRC server, e.g. irc.chat.twitch.tv:6697 (with --tls) or irc.chat.twitch.tv:6667')
    .option('--tls', 'connect over TLS')
    .option('--channel <name>', 'the channel to record (with or without #)')
    .option('--out <file>', 'the log to write (never an existing file)')
    .option('--duration <time>', 'stop after this long, e.g. 10m (default: until Ctrl-C)')
    .addHelpText(
      'after',
      `
Exit codes: 0 recorded; 2 a bad flag or an --out that exists; 3 the server did not answer or let the recorder join.
The log is raw IRC, one line each after its receive time; \`cvlab chat stats\` reads it and a scenario's
{"type": "replay", "file": "<log>"} plays it.`,
    )
    .action(async (options: { server?: string; tls?: boolean; channel?: string; out?: string; duration?: string }) => {
      const server = parseServer(options.server);
      const problems: string[] = [];
      if (!options.channel) problems.push('--channel: expected the channel to record, like lzx_lab');
      if (!options.out) problems.push('--out: expected the file to write the log into');
      const durationMs = options.duration === undefined ? undefined : parseDurationMs(options.duration);
      if (options.duration !== undefined && (durationMs === undefined || durationMs <= 0)) problems.push(`--duration: expected a duration like 30s or 10m, got "${options.duration}"`);
      if (problems.length > 0) throw new ValidationError('command line', problems);
      const lab = new Lab({ host: 'cli', stores: null });
      const stopper = new AbortController();
      const onInterrupt = (): void => {
        console.error('stopping the recording');
        stopper.abort();
      };
      process.once('SIGINT', onInterrupt);
      process.once('SIGTERM', onInterrupt);
      try {
        const recording = await lab.recordChat({
          ...server,
          tls: Boolean(options.tls),
          channel: options.channel as string,
          out: options.out as string,
          durationMs,
          signal: stopper.signal,
          onStatus: (line) => console.error(line),
        });
        const how = recording.endedBy === 'duration' ? 'the duration was up' : recording.endedBy === 'stopped' ? 'stopped' : 'the server closed the connection';
        console.log(
          `recorded #${recording.channel} as ${recording.nick}: ${count(recording.lines)} lines (${count(recording.messages)} chat messages, ${count(recording.bytes)} bytes) into ${recording.path} from ${recording.startedAt} to ${recording.endedAt} (${how})`,
        );
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
        await lab.dispose();
      }
    });

  chat
    .command('stats')
    .description("what a chat log holds before you replay it: span, messages, viewers, peaks in 1 s and 10 s, the share the rig's grammar accepts, top variables, longest burst")
    .argument('<file>', 'the chat log (raw IRC, TwitchDownloader or chat-downloader JSON, a Chatterino log, JSON Lines or CSV)')
    .option('--rig <file>', "rig whose grammar judges the lines (default: the built-in demo rig)")
    .option('--format <format>', `the log's format: auto (default: told from the content), ${CHAT_LOG_FORMATS.join(', ')}`)
    .option('--json', 'print the stats as JSON')
    .addHelpText('after', '\nExit codes: 0 read; 2 the file is missing, empty, unreadable or holds no chat message (the reason is named).')
    .action(async (file: string, options: { rig?: string; format?: string; json?: boolean }) => {
      const format = parseFormat(options.format);
      const rig = await loadRig(options.rig);
      const lab = new Lab({ host: 'cli', stores: null });
      try {
        const stats = await lab.readChatLogStats(file, { format, rig });
        console.log(options.json ? JSON.stringify(stats, null, 2) : formatChatLogStats(stats));
      } finally {
        await lab.dispose();
      }
    });
}

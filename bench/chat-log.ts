// Chat-log reading benchmark: raw Twitch IRC (as `cvlab chat record` writes it) and JSON Lines,
// each read at two sizes, one five times the other. Figures: lines per second read as chat
// messages (target ≥ 500,000 for both), the same file's bytes streamed and their line ends
// counted (the floor: reading the file at all), and the heap's peak while reading each size
// (flat: five times the file, about the same heap).
// Prints ONE JSON line.
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { readChatLog } from '../src/main/lab/common/chat-log/read-chat-log';

const SMALL_LINES = Number(process.env['BENCH_CHAT_LINES'] ?? 400_000);
const LARGE_LINES = SMALL_LINES * 5;
const folder = mkdtempSync(join(tmpdir(), 'cvlab-bench-chat-log-'));
const TEXTS = ['hue=0.4', '!set sat 80%', 'that colour is unreal', 'PogChamp PogChamp', 'これはすごい', 'can we get more feedback?', 'zoom==-0.5', '😀 so pretty', 'shape=sine speed=3'];

/** Writes `lines` lines of a log, chunk by chunk (the file never sits in memory). */
async function writeLog(path: string, lines: number, line: (index: number, ms: number) => string): Promise<number> {
  const out = createWriteStream(path);
  const start = Date.UTC(2025, 2, 7, 20);
  let bytes = 0;
  for (let index = 0; index < lines; ) {
    let chunk = '';
    for (const end = Math.min(lines, index + 5000); index < end; index++) chunk += `${line(index, start + index * 3)}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

const ircLine = (index: number, ms: number): string => {
  const login = `viewer_${index % 4999}`;
  return `${new Date(ms + 40).toISOString()} @badge-info=;badges=;color=#1E90FF;display-name=${login};emotes=;first-msg=0;flags=;id=6a1f3c2e-0d3b-4e8a-9b5c-${String(index).padStart(12, '0')};mod=0;returning-chatter=0;room-id=713370419;subscriber=0;tmi-sent-ts=${ms};turbo=0;user-id=${10_000_000 + (index % 4999)};user-type= :${login}!${login}@${login}.tmi.twitch.tv PRIVMSG #lzx_lab :${TEXTS[index % TEXTS.length]}`;
};
const jsonLine = (index: number, ms: number): string => JSON.stringify({ t: ms / 1000, user: `viewer_${index % 4999}`, text: TEXTS[index % TEXTS.length] });

/** The floor: the same file's bytes streamed and their line ends counted, no text made of them. */
async function splitOnly(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    for (let at = (chunk as Buffer).indexOf(10); at >= 0; at = (chunk as Buffer).indexOf(10, at + 1)) lines++;
  }
  return lines;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

async function measure(path: string, bytes: number): Promise<Record<string, number>> {
  const floorStart = process.hrtime.bigint();
  const floorLines = await splitOnly(path);
  const floorSeconds = Number(process.hrtime.bigint() - floorStart) / 1e9;
  let heapPeak = 0;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);
  let messages = 0;
  const start = process.hrtime.bigint();
  const reading = await readChatLog(path, {}, () => messages++);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(sampler);
  if (messages !== reading.messages || reading.damaged !== 0) throw new Error(`${path}: read ${messages} messages, ${reading.damaged} damaged`);
  return {
    lines: reading.lines,
    fileMiB: mib(bytes),
    seconds: Math.round(seconds * 1000) / 1000,
    linesPerSecond: Math.round(reading.lines / seconds),
    lineEndsOnlyLinesPerSecond: Math.round(floorLines / floorSeconds),
    heapPeakMiB: mib(heapPeak),
    processPeakRssMiB: mib(peakRss()),
  };
}

const loadBefore = loadavg()[0] ?? 0;
const results: Record<string, Record<string, Record<string, number>>> = {};
try {
  for (const [format, line] of [
    ['irc', ircLine],
    ['jsonLines', jsonLine],
  ] as const) {
    const small = join(folder, `${format}-small.log`);
    const large = join(folder, `${format}-large.log`);
    const smallBytes = await writeLog(small, SMALL_LINES, line);
    const largeBytes = await writeLog(large, LARGE_LINES, line);
    // A first read warms the code up; its figures are not kept.
    await readChatLog(small, {}, () => undefined);
    results[format] = { small: await measure(small, smallBytes), large: await measure(large, largeBytes) };
    rmSync(small);
    rmSync(large);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

const irc = results['irc'] as Record<string, Record<string, number>>;
const json = results['jsonLines'] as Record<string, Record<string, number>>;
const rate = (figures: Record<string, Record<string, number>>): number => Math.min(figures['small']?.['linesPerSecond'] ?? 0, figures['large']?.['linesPerSecond'] ?? 0);
const growth = (figures: Record<string, Record<string, number>>): number => Math.round(((figures['large']?.['heapPeakMiB'] ?? 0) / Math.max(1, figures['small']?.['heapPeakMiB'] ?? 1)) * 100) / 100;
console.log(
  JSON.stringify({
    bench: 'chat-log',
    irc,
    jsonLines: json,
    ratios: {
      // The large file against its own floor, measured just before it.
      ircOverLineEndsOnly: Math.round(((irc['large']?.['linesPerSecond'] ?? 0) / Math.max(1, irc['large']?.['lineEndsOnlyLinesPerSecond'] ?? 1)) * 100) / 100,
      jsonLinesOverLineEndsOnly: Math.round(((json['large']?.['linesPerSecond'] ?? 0) / Math.max(1, json['large']?.['lineEndsOnlyLinesPerSecond'] ?? 1)) * 100) / 100,
      ircHeapPeakLargeOverSmall: growth(irc),
      jsonLinesHeapPeakLargeOverSmall: growth(json),
    },
    targets: {
      ircAtLeast500kLinesPerSecond: rate(irc) >= 500_000,
      jsonLinesAtLeast500kLinesPerSecond: rate(json) >= 500_000,
      // Five times the file, well under twice the heap: memory follows the chunk, not the file.
      memoryFlat: growth(irc) < 2 && growth(json) < 2,
    },
    machine: { cpus: cpus().length, loadAverage1mBefore: Math.round(loadBefore * 100) / 100, loadAverage1mAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100, node: process.version },
  }),
);

import { z } from 'zod';

/**
 * Recorded chat: the formats cvlab reads, what a log holds (its stats), and how a run names the
 * log it replayed. Runtime-agnostic: read in src/main/lab/common/chat-log, shown by every host.
 */

/** The formats a chat log may be in; `auto` (the default) tells them apart from the content. */
export const CHAT_LOG_FORMATS = ['irc', 'twitch-downloader', 'chat-downloader', 'chatterino', 'json-lines', 'csv'] as const;
export type ChatLogFormat = (typeof CHAT_LOG_FORMATS)[number];

/** Each format in plain words, with what its lines look like. */
export const CHAT_LOG_FORMAT_NAMES: Readonly<Record<ChatLogFormat, string>> = {
  irc: 'raw Twitch IRC (@tags :login!login@host PRIVMSG #channel :text; time from tmi-sent-ts or the receive time before the line)',
  'twitch-downloader': "TwitchDownloader's chat JSON (comments[].content_offset_seconds, commenter.name, message.body)",
  'chat-downloader': "chat-downloader's JSON (timestamp in µs, author.name, message)",
  chatterino: "Chatterino's log ([hh:mm:ss] login: text)",
  'json-lines': 'JSON Lines with t (seconds or ISO 8601), user, text',
  csv: 'CSV with a header naming t (seconds or ISO 8601), user, text',
};

export const ChatLogFormatSchema = z.enum(['auto', ...CHAT_LOG_FORMATS]);

/** A line that could not be read as a chat message: where, and why. */
export interface DamagedLine {
  /** 1-based line of the file (of the item's first line in a JSON document). */
  readonly line: number;
  readonly reason: string;
}

/** Which log a run replayed: enough for two runs of the same log to be compared. */
export interface ChatLogIdentity {
  /** The file's name (no folder). */
  readonly fileName: string;
  readonly format: ChatLogFormat;
  /** Chat messages in the whole log. */
  readonly messages: number;
  /** From its first message to its last, ms. */
  readonly spanMs: number;
  /** SHA-256 of the file's bytes, hex. */
  readonly sha256: string;
  /** Wall-clock time of the first message, ISO 8601, when the log carries one. */
  readonly firstAt?: string;
  /** Lines skipped as damaged. */
  readonly damaged: number;
}

/** A run that replayed a log: which one, and which part of it at what speed. */
export interface ReplayInfo {
  readonly log: ChatLogIdentity;
  readonly speed: number;
  /** The window played, ms after the log's first message. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly loop: boolean;
  readonly users: 'as-recorded' | 'hashed';
  /** Recorded messages inside the window (one pass of it). */
  readonly windowMessages: number;
  /** Messages due per bucket of the run from its start: the recorded shape at the run's speed (absent for very long plans). */
  readonly timeline?: { readonly bucketMs: number; readonly counts: readonly number[] };
}

/** What is in a chat log, before it is replayed (`cvlab chat stats`, the Scenarios page). */
export interface ChatLogStats extends ChatLogIdentity {
  readonly path: string;
  readonly bytes: number;
  /** Lines read, of every kind. */
  readonly lines: number;
  /** Lines that are not chat messages (joins, pings, notices, system lines): skipped, not damaged. */
  readonly otherLines: number;
  /** The first damaged lines (at most 20), with line numbers. */
  readonly damagedLines: readonly DamagedLine[];
  readonly viewers: number;
  /** Mean messages per second over the span. */
  readonly meanPerSecond: number;
  /** Most messages inside any 1 s and any 10 s (windows sliding by 100 ms). */
  readonly peak1s: number;
  readonly peak10s: number;
  /** The rig whose grammar judged the lines. */
  readonly rig: string;
  /** Messages the rig's grammar accepts (as commands); the rest it rejects (or, for a bot, ignores). */
  readonly accepted: number;
  readonly acceptedShare: number;
  /** Rejections by their code. */
  readonly rejectedByCode: Readonly<Record<string, number>>;
  /** Variables the accepted messages set, most often first (at most 8). */
  readonly topVariables: readonly { readonly name: string; readonly count: number }[];
  /** The longest run of whole seconds at twice the mean rate or more; absent when there is none. */
  readonly longestBurst?: {
    readonly startMs: number;
    readonly durationMs: number;
    readonly messages: number;
    readonly peakPerSecond: number;
  };
  /** Messages per bucket from the first message on (at most 240 buckets), for a small rate timeline. */
  readonly timeline: { readonly bucketMs: number; readonly counts: readonly number[] };
}

/** A path the console names a chat log by (a file in the data folder's chat/ or a shipped sample). */
export const ChatLogPathSchema = z.string().min(1, 'expected a chat log path').max(4096, 'too long: at most 4096 characters');

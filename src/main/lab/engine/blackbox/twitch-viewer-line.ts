import { randomUUID } from 'node:crypto';
import { formatTags } from '../../common/irc-line';

/** How a simulated viewer appears in Twitch chat. */
export interface TwitchViewer {
  /** Lower-case login: the IRC nick and the prefix's user and host. */
  readonly login: string;
  readonly displayName: string;
  readonly userId: string;
  readonly color: string;
  readonly subscriber: boolean;
  readonly moderator: boolean;
}

/** A viewer line ready for the socket, and the message id Twitch would give it. */
export interface ViewerLine {
  readonly id: string;
  readonly line: string;
  readonly viewer: TwitchViewer;
}

interface LineParts {
  readonly head: string;
  readonly beforeId: string;
  readonly beforeSentAt: string;
  readonly tail: string;
}

const COLORS = ['#FF0000', '#0000FF', '#008000', '#B22222', '#FF7F50', '#9ACD32', '#FF4500', '#2E8B57', '#DAA520', '#D2691E', '#5F9EA0', '#1E90FF', '#FF69B4', '#8A2BE2', '#00FF7F'];

/** Twitch logins are 4–25 characters of a–z, 0–9 and `_`; other characters become `_`. */
export function twitchLogin(user: string): string {
  let login = user.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (login.length < 4) login = login.padEnd(4, '_');
  return login.slice(0, 25);
}

/** FNV-1a: a stable small number per user, so the same viewer keeps the same id and colour in every run. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Builds viewers' chat lines the way Twitch sends them to a bot that requested
 * twitch.tv/tags: `@badge-info=;badges=…;…;user-type= :login!login@login.tmi.twitch.tv PRIVMSG #channel :text`,
 * tags in Twitch's (alphabetical) order with its boolean `0`/`1` values.
 */
export class TwitchViewerLines {
  private readonly viewers = new Map<string, TwitchViewer>();
  private readonly seen = new Set<string>();
  private readonly lineParts = new Map<string, LineParts>();
  private readonly roomId: string;

  constructor(private readonly channel: string) {
    this.roomId = String(100_000_000 + (stableHash(channel) % 800_000_000));
  }

  /** The room-id tag value of the channel. */
  get room(): string {
    return this.roomId;
  }

  /** The viewer a generated user name stands for (created once, then kept). */
  viewer(user: string): TwitchViewer {
    let viewer = this.viewers.get(user);
    if (!viewer) {
      const hash = stableHash(user);
      const login = twitchLogin(user);
      viewer = {
        login,
        displayName: login.charAt(0).toUpperCase() + login.slice(1),
        userId: String(10_000_000 + (hash % 890_000_000)),
        color: COLORS[hash % COLORS.length] as string,
        subscriber: hash % 7 === 0,
        moderator: hash % 97 === 0,
      };
      this.viewers.set(user, viewer);
    }
    return viewer;
  }

  /** The PRIVMSG line (without CR LF) a viewer's chat text arrives as. */
  line(user: string, text: string, sentAtMs: number = Date.now()): ViewerLine {
    const viewer = this.viewer(user);
    const id = randomUUID();
    const first = !this.seen.has(user);
    if (first) this.seen.add(user);
    const parts = this.parts(user, viewer);
    // IRC cannot carry CR or LF inside a line; Twitch never delivers them either.
    const safeText = text.includes('\r') || text.includes('\n') ? text.replace(/[\r\n]/g, ' ') : text;
    return { id, viewer, line: `${parts.head}${first ? '1' : '0'}${parts.beforeId}${id}${parts.beforeSentAt}${Math.floor(sentAtMs)}${parts.tail}${safeText}` };
  }

  /**
   * A viewer's line around the three tags that change per message (first-msg, id, tmi-sent-ts),
   * formatted once: every line is then a handful of concatenations, not sixteen tag escapes.
   */
  private parts(user: string, viewer: TwitchViewer): LineParts {
    let parts = this.lineParts.get(user);
    if (parts) return parts;
    const badges = [viewer.moderator ? 'moderator/1' : '', viewer.subscriber ? 'subscriber/6' : ''].filter(Boolean).join(',');
    const head = formatTags([
      ['badge-info', viewer.subscriber ? 'subscriber/6' : ''],
      ['badges', badges],
      ['color', viewer.color],
      ['display-name', viewer.displayName],
      ['emotes', ''],
      ['first-msg', ''],
    ]).slice(0, -1);
    const beforeSentAt = formatTags([
      ['mod', viewer.moderator ? '1' : '0'],
      ['returning-chatter', '0'],
      ['room-id', this.roomId],
      ['subscriber', viewer.subscriber ? '1' : '0'],
      ['tmi-sent-ts', ''],
    ]).slice(1, -1);
    const afterSentAt = formatTags([
      ['turbo', '0'],
      ['user-id', viewer.userId],
      ['user-type', viewer.moderator ? 'mod' : ''],
    ]).slice(1);
    const prefix = `${viewer.login}!${viewer.login}@${viewer.login}.tmi.twitch.tv`;
    parts = {
      head,
      beforeId: ';flags=;id=',
      beforeSentAt: `;${beforeSentAt}`,
      tail: `;${afterSentAt}:${prefix} PRIVMSG #${this.channel} :`,
    };
    this.lineParts.set(user, parts);
    return parts;
  }
}

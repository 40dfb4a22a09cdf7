import type { Rejection } from '../../../../shared/message';
import type { CaughtDatagram, CaughtOscMessage } from './osc-catcher';

/** One OSC message a chat message should cause. */
export interface ExpectedOscMessage {
  readonly variable: string;
  readonly address: string;
  /** The value the converter should get (rig scaling), when the chat text fixes it; else matched by order. */
  readonly value: number | undefined;
}

/** A viewer line as the matcher tracks it. */
export interface SentChatLine {
  readonly user: string;
  /** Twitch login the line was sent under (bots reply `@login`). */
  readonly login: string;
  /** The line's `id` tag (bots reply with `reply-parent-msg-id`). */
  readonly messageId: string;
  /** When the message was due (the scheduler's time), process.hrtime ns: latencies count from here. */
  readonly dueNs: number;
  /**
   * When the line was written to the bot, process.hrtime ns: its window opens here, so a line
   * written late (the engine fell behind) still gets the whole window to be answered in.
   */
  readonly writtenNs: number;
  readonly expected: readonly ExpectedOscMessage[];
  /** What our own model (validator and limiter) decided for the message. */
  readonly model: { readonly accepted: true } | { readonly accepted: false; readonly rejection: Rejection };
}

/** How a chat message ended. */
export type MatchResult =
  | {
      readonly kind: 'matched';
      /** Due time → arrival of the datagram that completed the message (its last expected OSC message). */
      readonly chatToOscNs: number;
      /** Due time → the viewer's line written to the bot's socket. */
      readonly writtenNs: number;
      readonly messages: readonly { readonly expected: ExpectedOscMessage; readonly caught: CaughtOscMessage }[];
      /** Some expected OSC messages never came within the window. */
      readonly partial: boolean;
    }
  /** No OSC, and our model rejects the message too. */
  | { readonly kind: 'rejectedByModel'; readonly rejection: Rejection }
  /** No OSC although our model accepts the message. */
  | { readonly kind: 'acceptedButSilent' };

export interface MatcherCounters {
  chatLines: number;
  datagrams: number;
  oscMessages: number;
  /** Chat messages whose expected OSC arrived (fully or partly). */
  matched: number;
  /** OSC messages matched by their expected value, and by address and order. */
  matchedByValue: number;
  matchedByOrder: number;
  partial: number;
  /** OSC messages no pending chat message explains (or datagrams that are not OSC). */
  unmatchedOsc: number;
  /** OSC messages matched by value while more than one pending chat message expected that value. */
  ambiguous: number;
  rejectedByModel: number;
  acceptedButSilent: number;
  /** Matched messages our model would have rejected: the bot is more lenient than the rig. */
  acceptedAgainstModel: number;
  replies: number;
  repliesMatched: number;
}

interface Pending {
  readonly line: SentChatLine;
  readonly expectations: Expectation[];
  readonly resolve: (result: MatchResult) => void;
  readonly found: { expected: ExpectedOscMessage; caught: CaughtOscMessage }[];
  remaining: number;
  lastArrivalNs: number;
  decided: boolean;
  replied: boolean;
}

interface Expectation {
  readonly pending: Pending;
  readonly expected: ExpectedOscMessage;
  live: boolean;
}

/** How far into a candidate queue the matcher looks for a message our model accepted. */
const SCAN_LIMIT = 64;

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** The bit pattern of a value at float32 precision: the converter sees nothing finer. */
export function float32Key(value: number): number {
  float32[0] = value + 0;
  return float32Bits[0] as number;
}

/**
 * Matches each caught OSC message to the chat message that caused it. Where the chat text fixes
 * the value (an absolute value through the rig's scaling), by address and value at float32
 * precision, one unit in the last place either way (a bot may scale in another order); else by
 * address and order. Candidates our model accepts come first, so a message the bot rate-limited
 * does not take the datagram of the next one. A chat message with no OSC within the window is
 * decided by our model: it rejects the message too, or it accepts it and the bot sent nothing.
 * Bot replies are matched by `reply-parent-msg-id`, else by the first `@login` they mention.
 */
export class OscMatcher {
  readonly counters: MatcherCounters = {
    chatLines: 0,
    datagrams: 0,
    oscMessages: 0,
    matched: 0,
    matchedByValue: 0,
    matchedByOrder: 0,
    partial: 0,
    unmatchedOsc: 0,
    ambiguous: 0,
    rejectedByModel: 0,
    acceptedButSilent: 0,
    acceptedAgainstModel: 0,
    replies: 0,
    repliesMatched: 0,
  };
  /** A few addresses of unmatched OSC messages, for the summary. */
  readonly unmatchedSamples: string[] = [];
  private readonly byValue = new Map<string, Map<number, Expectation[]>>();
  private readonly byOrder = new Map<string, Expectation[]>();
  private readonly byId = new Map<string, Pending>();
  private readonly byLogin = new Map<string, Pending[]>();
  /** Every line within the window, in sending order. */
  private readonly window: Pending[] = [];
  private windowHead = 0;
  private readonly windowNs: number;

  constructor(windowMs: number) {
    this.windowNs = windowMs * 1e6;
  }

  /** Lines still within the window. */
  get pendingLines(): number {
    return this.window.length - this.windowHead;
  }

  /** Tracks one sent line; `resolve` is called once, when its OSC arrived or its window closed. */
  track(line: SentChatLine, resolve: (result: MatchResult) => void): void {
    this.counters.chatLines++;
    const pending: Pending = { line, expectations: [], resolve, found: [], remaining: line.expected.length, lastArrivalNs: 0, decided: false, replied: false };
    for (const expected of line.expected) {
      const expectation: Expectation = { pending, expected, live: true };
      pending.expectations.push(expectation);
      if (expected.value !== undefined) {
        let values = this.byValue.get(expected.address);
        if (!values) this.byValue.set(expected.address, (values = new Map()));
        const key = float32Key(expected.value);
        const queue = values.get(key);
        if (queue) queue.push(expectation);
        else values.set(key, [expectation]);
      } else {
        const queue = this.byOrder.get(expected.address);
        if (queue) queue.push(expectation);
        else this.byOrder.set(expected.address, [expectation]);
      }
    }
    this.window.push(pending);
    this.byId.set(line.messageId, pending);
    const queue = this.byLogin.get(line.login);
    if (queue) queue.push(pending);
    else this.byLogin.set(line.login, [pending]);
    // Nothing to wait for: a message that names no variable is decided by the model at once.
    if (line.expected.length === 0) this.decideSilent(pending);
  }

  /** Matches every OSC message of a datagram. */
  datagram(datagram: CaughtDatagram): void {
    this.counters.datagrams++;
    if (datagram.decodeError !== undefined) {
      this.unmatched('(not OSC)');
      return;
    }
    for (const message of datagram.messages) {
      this.counters.oscMessages++;
      if (!this.matchMessage(message, datagram.arrivedNs)) this.unmatched(message.address);
    }
  }

  /** Matches a bot reply to the viewer line it answers; returns due → reply latency (ns) when it does. */
  reply(text: string, tags: ReadonlyMap<string, string>, arrivedNs: number): number | undefined {
    this.counters.replies++;
    let pending: Pending | undefined;
    const parentId = tags.get('reply-parent-msg-id');
    if (parentId !== undefined) pending = this.byId.get(parentId);
    if (pending?.replied) pending = undefined;
    if (!pending) {
      const mention = /@([A-Za-z0-9_]{1,25})/.exec(text);
      const queue = mention ? this.byLogin.get((mention[1] as string).toLowerCase()) : undefined;
      pending = queue?.find((candidate) => !candidate.replied);
    }
    if (!pending) return undefined;
    pending.replied = true;
    this.counters.repliesMatched++;
    return arrivedNs - pending.line.dueNs;
  }

  /** Decides every line whose window has closed by `nowNs`. */
  sweep(nowNs: number): void {
    while (this.windowHead < this.window.length) {
      const pending = this.window[this.windowHead] as Pending;
      if (pending.line.writtenNs + this.windowNs > nowNs) break;
      this.windowHead++;
      this.retire(pending);
    }
    if (this.windowHead > 4096 && this.windowHead * 2 > this.window.length) {
      this.window.splice(0, this.windowHead);
      this.windowHead = 0;
    }
  }

  /** Decides every line now (the run is over). */
  flush(): void {
    this.sweep(Number.POSITIVE_INFINITY);
  }

  private retire(pending: Pending): void {
    for (const expectation of pending.expectations) expectation.live = false;
    if (this.byId.get(pending.line.messageId) === pending) this.byId.delete(pending.line.messageId);
    const queue = this.byLogin.get(pending.line.login);
    if (queue) {
      const index = queue.indexOf(pending);
      if (index >= 0) queue.splice(index, 1);
      if (queue.length === 0) this.byLogin.delete(pending.line.login);
    }
    if (pending.decided) return;
    if (pending.found.length > 0) {
      this.counters.partial++;
      this.decideMatched(pending, true);
    } else {
      this.decideSilent(pending);
    }
    this.pruneQueues(pending);
  }

  private decideSilent(pending: Pending): void {
    pending.decided = true;
    const model = pending.line.model;
    if (model.accepted) {
      this.counters.acceptedButSilent++;
      pending.resolve({ kind: 'acceptedButSilent' });
    } else {
      this.counters.rejectedByModel++;
      pending.resolve({ kind: 'rejectedByModel', rejection: model.rejection });
    }
  }

  private decideMatched(pending: Pending, partial: boolean): void {
    pending.decided = true;
    this.counters.matched++;
    if (!pending.line.model.accepted) this.counters.acceptedAgainstModel++;
    pending.resolve({ kind: 'matched', chatToOscNs: pending.lastArrivalNs - pending.line.dueNs, writtenNs: pending.line.writtenNs - pending.line.dueNs, messages: pending.found, partial });
  }

  private matchMessage(message: CaughtOscMessage, arrivedNs: number): boolean {
    const first = message.values[0];
    const values = this.byValue.get(message.address);
    if (values && typeof first === 'number') {
      const key = float32Key(first);
      // The same float32 first; then one unit in the last place either way.
      for (const candidateKey of [key, key + 1, key - 1]) {
        const queue = values.get(candidateKey);
        if (!queue) continue;
        const picked = pick(queue);
        if (queue.length === 0) values.delete(candidateKey);
        if (!picked) continue;
        this.counters.matchedByValue++;
        if (picked.ambiguous) this.counters.ambiguous++;
        this.consume(picked.expectation, message, arrivedNs);
        return true;
      }
    }
    const queue = this.byOrder.get(message.address);
    if (queue) {
      const picked = pick(queue);
      if (queue.length === 0) this.byOrder.delete(message.address);
      if (picked) {
        this.counters.matchedByOrder++;
        this.consume(picked.expectation, message, arrivedNs);
        return true;
      }
    }
    return false;
  }

  private consume(expectation: Expectation, message: CaughtOscMessage, arrivedNs: number): void {
    expectation.live = false;
    const pending = expectation.pending;
    pending.found.push({ expected: expectation.expected, caught: message });
    pending.lastArrivalNs = arrivedNs;
    pending.remaining--;
    if (pending.remaining === 0 && !pending.decided) this.decideMatched(pending, false);
  }

  private unmatched(address: string): void {
    this.counters.unmatchedOsc++;
    if (this.unmatchedSamples.length < 8 && !this.unmatchedSamples.includes(address)) this.unmatchedSamples.push(address);
  }

  /** Drops dead entries at the heads of the queues a retired line was in, so none grows over a long run. */
  private pruneQueues(pending: Pending): void {
    for (const expectation of pending.expectations) {
      const address = expectation.expected.address;
      if (expectation.expected.value !== undefined) {
        const values = this.byValue.get(address);
        const key = float32Key(expectation.expected.value);
        const queue = values?.get(key);
        if (queue) {
          dropDeadHead(queue);
          if (queue.length === 0) values?.delete(key);
        }
      } else {
        const queue = this.byOrder.get(address);
        if (queue) {
          dropDeadHead(queue);
          if (queue.length === 0) this.byOrder.delete(address);
        }
      }
    }
  }
}

function dropDeadHead(queue: Expectation[]): void {
  let dead = 0;
  while (dead < queue.length && !(queue[dead] as Expectation).live) dead++;
  if (dead > 0) queue.splice(0, dead);
}

/** The oldest live candidate our model accepts, else the oldest live one; removes it and dead heads. */
function pick(queue: Expectation[]): { expectation: Expectation; ambiguous: boolean } | undefined {
  dropDeadHead(queue);
  let chosen = -1;
  let fallback = -1;
  let live = 0;
  for (let index = 0; index < queue.length && index < SCAN_LIMIT; index++) {
    const candidate = queue[index] as Expectation;
    if (!candidate.live) continue;
    live++;
    if (fallback < 0) fallback = index;
    if (chosen < 0 && candidate.pending.line.model.accepted) chosen = index;
    if (chosen >= 0 && live >= 2) break;
  }
  const index = chosen >= 0 ? chosen : fallback;
  if (index < 0) return undefined;
  const [expectation] = queue.splice(index, 1) as [Expectation];
  return { expectation, ambiguous: live >= 2 };
}

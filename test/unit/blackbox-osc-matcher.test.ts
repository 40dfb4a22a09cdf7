import { describe, expect, it } from 'vitest';
import type { CaughtDatagram } from '../../src/main/lab/engine/blackbox/osc-catcher';
import { float32Key, OscMatcher, type MatchResult, type SentChatLine } from '../../src/main/lab/engine/blackbox/osc-matcher';

const accepted = { accepted: true } as const;
const rejected = { accepted: false, rejection: { code: 'rate_limited_user', detail: 'too fast' } } as const;

function line(id: string, dueNs: number, expected: SentChatLine['expected'], model: SentChatLine['model'] = accepted, login = 'viewer'): SentChatLine {
  return { user: login, login, messageId: id, dueNs, writtenNs: dueNs, expected, model };
}

function datagram(arrivedNs: number, ...messages: [string, number][]): CaughtDatagram {
  return { arrivedNs, bytes: 0, bundle: messages.length > 1, messages: messages.map(([address, value]) => ({ address, values: [value] })) };
}

function track(matcher: OscMatcher, sent: SentChatLine): MatchResult[] {
  const results: MatchResult[] = [];
  matcher.track(sent, (result) => results.push(result));
  return results;
}

describe('OscMatcher', () => {
  it('matches by address and float32 value, whatever the arrival order', () => {
    const matcher = new OscMatcher(1000);
    const first = track(matcher, line('a', 1000, [{ variable: 'hue', address: '/hue', value: 0.1234567 }]));
    const second = track(matcher, line('b', 2000, [{ variable: 'hue', address: '/hue', value: 0.7654321 }]));
    matcher.datagram(datagram(9000, ['/hue', Math.fround(0.7654321)]));
    matcher.datagram(datagram(9500, ['/hue', Math.fround(0.1234567)]));
    expect(second).toEqual([expect.objectContaining({ kind: 'matched', chatToOscNs: 7000, partial: false })]);
    expect(first).toEqual([expect.objectContaining({ kind: 'matched', chatToOscNs: 8500 })]);
    expect(matcher.counters).toMatchObject({ matched: 2, matchedByValue: 2, unmatchedOsc: 0, ambiguous: 0 });
  });

  it('accepts one float32 step either way, and no more', () => {
    const matcher = new OscMatcher(1000);
    const value = 0.3;
    const key = float32Key(value);
    const bits = new Uint32Array([key + 1]);
    const nextUp = new Float32Array(bits.buffer)[0] as number;
    const results = track(matcher, line('a', 0, [{ variable: 'hue', address: '/hue', value }]));
    matcher.datagram(datagram(10, ['/hue', nextUp]));
    expect(results[0]?.kind).toBe('matched');
    track(matcher, line('b', 0, [{ variable: 'hue', address: '/hue', value }]));
    matcher.datagram(datagram(10, ['/hue', value + 1e-4]));
    expect(matcher.counters.unmatchedOsc).toBe(1);
  });

  it('matches relative changes by address and order, preferring lines our model accepts', () => {
    const matcher = new OscMatcher(1000);
    const limited = track(matcher, line('a', 0, [{ variable: 'hue', address: '/hue', value: undefined }], rejected));
    const allowed = track(matcher, line('b', 100, [{ variable: 'hue', address: '/hue', value: undefined }]));
    matcher.datagram(datagram(600, ['/hue', 0.42]));
    expect(allowed[0]).toMatchObject({ kind: 'matched', chatToOscNs: 500 });
    expect(limited).toEqual([]);
    matcher.flush();
    expect(limited[0]).toEqual({ kind: 'rejectedByModel', rejection: rejected.rejection });
    expect(matcher.counters).toMatchObject({ matchedByOrder: 1, rejectedByModel: 1 });
  });

  it('counts equal values pending at once as ambiguous, and the oldest wins', () => {
    const matcher = new OscMatcher(1000);
    const older = track(matcher, line('a', 0, [{ variable: 'shape', address: '/shape', value: 2 / 3 }]));
    const newer = track(matcher, line('b', 10, [{ variable: 'shape', address: '/shape', value: 2 / 3 }]));
    matcher.datagram(datagram(100, ['/shape', 2 / 3]));
    expect(older[0]?.kind).toBe('matched');
    expect(newer).toEqual([]);
    expect(matcher.counters.ambiguous).toBe(1);
  });

  it('waits for every message of a multi-assignment line; a missing one makes it partial at the window', () => {
    const matcher = new OscMatcher(1);
    const both = track(matcher, line('a', 0, [{ variable: 'hue', address: '/hue', value: 0.25 }, { variable: 'sat', address: '/sat', value: 0.5 }]));
    const half = track(matcher, line('b', 0, [{ variable: 'hue', address: '/hue', value: 0.75 }, { variable: 'sat', address: '/sat', value: 0.125 }]));
    matcher.datagram(datagram(200, ['/hue', 0.25], ['/sat', 0.5]));
    matcher.datagram(datagram(300, ['/hue', 0.75]));
    expect(both[0]).toMatchObject({ kind: 'matched', chatToOscNs: 200, partial: false });
    expect(half).toEqual([]);
    matcher.sweep(2_000_000);
    expect(half[0]).toMatchObject({ kind: 'matched', chatToOscNs: 300, partial: true });
  });

  it('splits silence into "our model rejects it too" and "accepted but the bot sent nothing", and counts stray OSC', () => {
    const matcher = new OscMatcher(1);
    const silent = track(matcher, line('a', 0, [{ variable: 'hue', address: '/hue', value: 0.5 }]));
    const invalid = track(matcher, line('b', 0, [], { accepted: false, rejection: { code: 'bad_value', detail: 'no' } }));
    expect(invalid[0]?.kind).toBe('rejectedByModel');
    matcher.datagram(datagram(5, ['/unknown', 1]));
    matcher.datagram({ arrivedNs: 6, bytes: 3, bundle: false, messages: [], decodeError: 'Malformed Packet' });
    matcher.sweep(1_000_001);
    expect(silent[0]?.kind).toBe('acceptedButSilent');
    expect(matcher.counters).toMatchObject({ acceptedButSilent: 1, rejectedByModel: 1, unmatchedOsc: 2 });
    expect(matcher.unmatchedSamples).toEqual(['/unknown', '(not OSC)']);
  });

  it('opens the window when the line was written, not when it was due', () => {
    const matcher = new OscMatcher(1);
    const late: MatchResult[] = [];
    // Due at 0 but written 5 ms later (the engine fell behind): still within its 1 ms window at 5.5 ms.
    matcher.track({ ...line('a', 0, [{ variable: 'hue', address: '/hue', value: 0.5 }]), writtenNs: 5_000_000 }, (result) => late.push(result));
    matcher.sweep(5_500_000);
    expect(late).toEqual([]);
    matcher.datagram(datagram(5_800_000, ['/hue', 0.5]));
    expect(late[0]).toMatchObject({ kind: 'matched', chatToOscNs: 5_800_000 });
  });

  it('matches a reply by reply-parent-msg-id, else by the first @login it mentions', () => {
    const matcher = new OscMatcher(1000);
    track(matcher, line('m1', 100, [], accepted, 'alice'));
    track(matcher, line('m2', 200, [], accepted, 'bob'));
    expect(matcher.reply('done', new Map([['reply-parent-msg-id', 'm2']]), 1200)).toBe(1000);
    expect(matcher.reply('@Alice try hue=0.4', new Map(), 900)).toBe(800);
    expect(matcher.reply('@alice again', new Map(), 950)).toBeUndefined();
    expect(matcher.counters).toMatchObject({ replies: 3, repliesMatched: 2 });
  });
});

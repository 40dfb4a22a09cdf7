import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { MESSAGE_KINDS, TrafficSchema } from '../../src/shared/scenario';
import { MessageValidator } from '../../src/main/lab/common/message-validator';
import { SeededRandom } from '../../src/main/lab/common/seeded-random';
import { TrafficGenerator } from '../../src/main/lab/engine/load/traffic-generator';

const rig = RigSchema.parse(JSON.parse(readFileSync('resources/rigs/demo.json', 'utf8')));
const traffic = TrafficSchema.parse({ users: 1000 });

describe('traffic generator', () => {
  it('gives identical traffic for the same seed and different traffic for another', () => {
    const first = new TrafficGenerator(rig, traffic, 1234).take(5000);
    const again = new TrafficGenerator(rig, traffic, 1234).take(5000);
    const other = new TrafficGenerator(rig, traffic, 1235).take(5000);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('keeps the seeded sequence pinned (a change to the generator would change every saved run)', () => {
    const random = new SeededRandom(42);
    expect([random.uint32(), random.uint32(), random.uint32()]).toEqual([1028872839, 2516511472, 400437680]);
  });

  it('makes each kind of message what it claims to be, judged by the real validator', () => {
    const validator = new MessageValidator(rig);
    const generator = new TrafficGenerator(rig, TrafficSchema.parse({ users: 500, mix: Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, 1])) }), 99);
    const seen = new Map<string, number>();
    const mismatches: string[] = [];
    for (const message of generator.take(20_000)) {
      seen.set(message.kind, (seen.get(message.kind) ?? 0) + 1);
      const result = validator.validate(message.text);
      const expected = message.kind === 'valid' || message.kind === 'multi' || message.kind === 'spam' ? 'ok' : message.kind;
      const actual = result.ok ? 'ok' : result.rejection.code;
      if (actual !== expected) mismatches.push(`${message.kind}: ${JSON.stringify(message.text)} → ${actual}`);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    for (const kind of MESSAGE_KINDS) expect(seen.get(kind) ?? 0).toBeGreaterThan(1000);
  });

  it('exercises every grammar form and value form', () => {
    const texts = new TrafficGenerator(rig, TrafficSchema.parse({ users: 100, mix: { valid: 1, multi: 1 } }), 5).take(5000).map((message) => message.text);
    const has = (pattern: RegExp): boolean => texts.some((text) => pattern.test(text));
    expect(has(/^!set [a-z]+ \S+$/)).toBe(true);
    expect(has(/^![a-z]+ \S+$/)).toBe(true);
    expect(has(/^[a-z]+=\S+$/)).toBe(true);
    expect(has(/^[a-z]+=\S+( [a-z]+=\S+)+$/)).toBe(true);
    expect(has(/=\d+%/)).toBe(true);
    expect(has(/=\+\d/)).toBe(true);
    expect(has(/=-\d/)).toBe(true);
    expect(has(/==-\d/)).toBe(true);
    for (const name of ['min', 'mid', 'max', 'on', 'off', 'sine']) expect(has(new RegExp(`[= ]${name}\\b`))).toBe(true);
  });

  it('skews activity toward a few viewers and sends spam from the spammer accounts', () => {
    const messages = new TrafficGenerator(rig, TrafficSchema.parse({ users: 1000, userSkew: 1, mix: { valid: 9, spam: 1 }, spammers: 3 }), 8).take(20_000);
    const counts = new Map<string, number>();
    for (const message of messages) counts.set(message.user, (counts.get(message.user) ?? 0) + 1);
    expect(counts.get('viewer-00001') ?? 0).toBeGreaterThan(10 * (counts.get('viewer-00500') ?? 0) + 50);
    expect(messages.filter((message) => message.kind === 'spam').every((message) => /^spammer-[123]$/.test(message.user))).toBe(true);
  });
});

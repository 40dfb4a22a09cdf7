import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProbeLine, parseHostLine, parseProbeLine } from '../../src/main/lab/loopback/probe-protocol';
import { PROBE_LINE_MAX, ProbeLineSchema, type ProbeLine } from '../../src/shared/loopback';

// A serial wire carries noise, half lines after a reset, the wrong baud rate and other devices'
// chatter: whatever arrives, the parsers answer with a value or a named problem, never a throw.

const wireNoise = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  // Protocol words with damaged fields: the near misses a parser is most likely to mishandle.
  fc
    .tuple(
      fc.constantFrom('HELLO', 'PONG', 'EDGE', 'OK', 'PING', 'ARM', 'HELLO?'),
      fc.array(fc.oneof(fc.integer().map(String), fc.constantFrom('cvlab-probe', 'rise', 'fall', 'uart', 'usb', 'ARM', '-', '1e9', '99999999999999999999'), fc.string({ maxLength: 8 })), { maxLength: 8 }),
    )
    .map(([word, fields]) => [word, ...fields].join(' ')),
);

const probeLine: fc.Arbitrary<ProbeLine> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), firmware: fc.stringMatching(/^[\w.+-]{1,32}$/), adcBits: fc.integer({ min: 1, max: 24 }), link: fc.constantFrom('uart' as const, 'usb' as const) }),
  fc
    .tuple(fc.nat({ max: 4_294_967_295 }), fc.nat({ max: 2 ** 50 }), fc.nat({ max: 1_000_000 }))
    .map(([seq, rxUs, turnaround]) => ({ kind: 'pong' as const, seq, rxUs, txUs: rxUs + turnaround })),
  fc.record({ kind: fc.constant('edge' as const), channel: fc.integer({ min: 0, max: 15 }), direction: fc.constantFrom('rise' as const, 'fall' as const), probeUs: fc.nat({ max: 2 ** 50 }), millivolts: fc.integer({ min: -99_999, max: 99_999 }) }),
);

describe('probe protocol under fuzzing', () => {
  it('never throws on any line from the wire, and names each problem', () => {
    const counts = { line: 0, empty: 0, problem: 0 };
    fc.assert(
      fc.property(wireNoise, (text) => {
        const parsed = parseProbeLine(text);
        counts[parsed.kind] += 1;
        if (parsed.kind === 'problem') {
          expect(['garbage', 'partial', 'oversized']).toContain(parsed.problem);
          expect(parsed.text.length).toBeLessThanOrEqual(Math.max(PROBE_LINE_MAX, text.length));
        }
        if (parsed.kind === 'line') {
          // Anything accepted is a well-formed protocol value.
          expect(ProbeLineSchema.safeParse(parsed.line).success).toBe(true);
          expect(parsed.extraFields).toBeGreaterThanOrEqual(0);
        }
        const host = parseHostLine(text);
        expect(['line', 'empty', 'problem']).toContain(host.kind);
      }),
      { numRuns: 5_000 },
    );
    // The noise is counted as such, not taken for data.
    expect(counts.problem).toBeGreaterThan(counts.line);
  });

  it('reads back every line it formats, and the same line with trailing fields from a later version', () => {
    fc.assert(
      fc.property(probeLine, fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 3 }), (line, extra) => {
        const text = formatProbeLine(line).slice(0, -1);
        expect(parseProbeLine(text)).toEqual({ kind: 'line', line, extraFields: 0 });
        const longer = [text, ...extra].join(' ');
        if (longer.length > PROBE_LINE_MAX) return;
        const parsed = parseProbeLine(longer);
        expect(parsed.kind).toBe('line');
        if (parsed.kind === 'line') expect(parsed.line).toEqual(line);
      }),
      { numRuns: 5_000 },
    );
  });
});

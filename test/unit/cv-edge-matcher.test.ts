import { describe, expect, it } from 'vitest';
import type { ProbeSendRecord } from '../../src/main/lab/common/engine-protocol';
import { CvEdgeMatcher } from '../../src/main/lab/loopback/cv-edge-matcher';

// Probe messages every 500 ms (even: low, odd: high), datagrams 1 ms after their due time; the
// probe's stamps are host µs here (an identity clock), so each edge's time is its stamp.

const MS = 1_000_000;
const identity = (probeUs: number): number => probeUs * 1000;

function send(index: number, passedOn = true): ProbeSendRecord {
  const dueNs = 1000 * MS + index * 500 * MS;
  return { index, direction: index % 2 === 1 ? 'rise' : 'fall', dueNs, passedOn, ...(passedOn ? { oscNs: dueNs + MS } : {}) };
}

/** An edge `afterMs` after probe message `index`'s datagram. */
function edge(index: number, afterMs = 3): { direction: 'rise' | 'fall'; probeUs: number } {
  const record = send(index);
  return { direction: record.direction, probeUs: ((record.oscNs as number) + afterMs * MS) / 1000 };
}

describe('chat → CV edge matching', () => {
  it('matches each edge to its message in order, the first message finding the CV already low', () => {
    const matcher = new CvEdgeMatcher(identity, 1000 * MS);
    matcher.addSends([send(0), send(1), send(2), send(3)]);
    for (const index of [1, 2, 3]) matcher.addEdge(edge(index));
    const matches = matcher.advance(3000 * MS, true);
    expect(matches.map((match) => match.send.index)).toEqual([1, 2, 3]);
    expect(matches[0]?.hostNs).toBe((send(1).oscNs as number) + 3 * MS);
    expect(matcher.counts).toMatchObject({ sent: 4, passedOn: 4, noChange: 1, matched: 3, missed: 0, unexplained: 0 });
  });

  it('expects no edge after a message that was not passed on, nor from the one that repeats the level', () => {
    const matcher = new CvEdgeMatcher(identity, 1000 * MS);
    // 2 (low) is rate-limited: the CV stays high, so 3 (high) repeats it; 4 (low) moves it again.
    matcher.addSends([send(0), send(1), send(2, false), send(3), send(4)]);
    matcher.addEdge(edge(0));
    matcher.addEdge(edge(1));
    matcher.addEdge(edge(4));
    const matches = matcher.advance(4000 * MS, true);
    expect(matches.map((match) => match.send.index)).toEqual([0, 1, 4]);
    expect(matcher.counts).toMatchObject({ notPassedOn: 1, noChange: 1, matched: 3, missed: 0, unexplained: 0 });
  });

  it('counts a missed edge, and an edge no message explains', () => {
    const matcher = new CvEdgeMatcher(identity, 1000 * MS);
    matcher.addSends([send(0), send(1), send(2), send(3)]);
    matcher.addEdge(edge(0));
    // 1's rise never comes; 2's fall comes; a stray rise before 3's datagram; then 3's rise.
    matcher.addEdge(edge(2));
    matcher.addEdge({ direction: 'rise', probeUs: ((send(3).oscNs as number) - 300 * MS) / 1000 });
    matcher.addEdge(edge(3));
    const matches = matcher.advance(4000 * MS, true);
    expect(matches.map((match) => match.send.index)).toEqual([0, 2, 3]);
    expect(matcher.counts).toMatchObject({ matched: 3, missed: 1, unexplained: 1 });
  });

  it('waits for outcomes that come late and out of order, and for edges until the timeout', () => {
    const matcher = new CvEdgeMatcher(identity, 1000 * MS);
    matcher.addSends([send(1)]);
    matcher.addEdge(edge(0));
    matcher.addEdge(edge(1));
    // Message 0's outcome is not known yet: nothing is decided.
    expect(matcher.advance(2000 * MS)).toEqual([]);
    matcher.addSends([send(0)]);
    expect(matcher.advance(2000 * MS).map((match) => match.send.index)).toEqual([0, 1]);
    matcher.addSends([send(2)]);
    // Its edge may still come: waiting, until the timeout has passed.
    expect(matcher.advance((send(2).oscNs as number) + 500 * MS)).toEqual([]);
    expect(matcher.waiting).toBe(1);
    expect(matcher.advance((send(2).oscNs as number) + 1001 * MS)).toEqual([]);
    expect(matcher.waiting).toBe(0);
    expect(matcher.counts).toMatchObject({ matched: 2, missed: 1 });
  });
});

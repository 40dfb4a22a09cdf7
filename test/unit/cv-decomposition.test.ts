import { describe, expect, it } from 'vitest';
import { layoutCvDecomposition } from '../../src/shared/cv-decomposition';
import { decomposeCv, type CvEdgeMatch } from '../../src/main/lab/run/cv-probe';

const MS = 1e6;

describe('decomposeCv', () => {
  it('gives p50 and p99 of each leg, the chat leg from the line written when a bot was measured', () => {
    // 100 edges: the bot takes 1..100 ms to answer, the converter a steady 3 ms.
    const matches: CvEdgeMatch[] = Array.from({ length: 100 }, (_, index) => {
      const dueNs = index * 1000 * MS;
      const writtenNs = dueNs + 0.5 * MS;
      const oscNs = writtenNs + (index + 1) * MS;
      return { index, dueNs, writtenNs, oscNs, edgeNs: oscNs + 3 * MS };
    });
    const path = decomposeCv(matches);
    expect(path.chatToOscP50).toBe(50 * MS);
    expect(path.chatToOscP99).toBe(99 * MS);
    expect(path.oscToCvP50).toBe(3 * MS);
    expect(path.oscToCvP99).toBe(3 * MS);
    expect(path.chatToCvP99).toBe(102 * MS);
    expect(path.cvP99).toBe(102.5 * MS);
  });

  it('has nothing for no edge', () => {
    expect(decomposeCv([])).toEqual({});
  });
});

describe('the chat → OSC → CV picture', () => {
  const counts = { matched: 38, missed: 1, unexplained: 2, notPassedOn: 3, expectedEdges: 39 };

  it('places OSC → CV where chat → OSC ends and the whole path from 0, each to p50 then on to p99', () => {
    const layout = layoutCvDecomposition({
      blackBox: true,
      decomposition: { chatToOscP50: 2 * MS, chatToOscP99: 6 * MS, oscToCvP50: 3 * MS, oscToCvP99: 4 * MS, chatToCvP50: 5 * MS, chatToCvP99: 9 * MS },
      boundUs: 42.4,
      counts,
    });
    expect(layout.rows.map((row) => row.label)).toEqual(['chat → OSC', 'OSC → CV', 'chat → CV']);
    const [bot, converter, whole] = layout.rows;
    expect(bot?.start).toBe(0);
    expect(converter?.start).toBeCloseTo((2 * MS) / layout.axisNs);
    expect(converter?.p50End).toBeCloseTo((5 * MS) / layout.axisNs);
    expect(converter?.p99End).toBeCloseTo((6 * MS) / layout.axisNs);
    expect(whole?.p99End).toBeCloseTo((9 * MS) / layout.axisNs);
    // The axis holds the longest bar with a little room.
    expect(Math.max(...layout.rows.map((row) => row.p99End))).toBeLessThan(1);
    expect(bot?.probeTimed).toBe(false);
    expect(converter?.probeTimed).toBe(true);
    expect(layout.bound).toBe('± 42.4 µs');
    expect(layout.edges).toBe('38 matched · 1 missed · 2 unexplained (of 39 expected) · 3 probe messages not passed on');
    expect(layout.edgesClean).toBe(false);
  });

  it("names cvlab's own pipeline by its due time and takes p99s a report saved before them lacks from its stages", () => {
    const layout = layoutCvDecomposition({
      blackBox: false,
      decomposition: { chatToOscP50: 1 * MS, oscToCvP50: 3 * MS, cvP50: 4 * MS, chatToCvP50: 4 * MS },
      stages: { oscToCv: { p50: 3 * MS, p99: 5 * MS }, cv: { p50: 4 * MS, p99: 7 * MS } },
      boundUs: null,
      counts: { matched: 10, missed: 0, unexplained: 0, notPassedOn: 0 },
    });
    expect(layout.rows.map((row) => [row.label, row.p99])).toEqual([
      ['due → OSC', undefined],
      ['OSC → CV', 5 * MS],
      ['due → CV', 7 * MS],
    ]);
    expect(layout.bound).toBe('no clock fit yet');
    expect(layout.edgesClean).toBe(true);
  });
});

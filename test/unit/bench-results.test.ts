import { describe, expect, it } from 'vitest';
import { benchReadmeTable, TABLE_END, TABLE_START, withBenchReadmeTable } from '../../bench/bench-readme-table';
import { compareBenchResults, figuresOf, goalRows, spreadsOf, type BenchResults, type BenchRun, type Machine } from '../../bench/compare-bench-results';
import { numberAt, TRACKED_FIGURES } from '../../bench/tracked-figures';

const machine: Machine = { cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, os: 'Linux 6', node: 'v20.0.0' };
const otherMachine: Machine = { ...machine, cpuModel: 'Other CPU' };

const run = (line: Record<string, unknown> | null, loadAverage1mBefore = 0.4): BenchRun => ({
  line,
  exitCode: line ? 0 : 1,
  seconds: 10,
  loadAverage1mBefore,
  loadAverage1mAfter: 0.5,
  busy: loadAverage1mBefore > 1.5,
});

/** A pipeline line with the figures bench:all reads from it. */
const pipelineLine = (tapRatio: number, bytes: number, throughput = 300_000): Record<string, unknown> => ({
  bench: 'pipeline',
  ratios: { memoryE2eTapP50VsUdpFloor: tapRatio, redisE2eTapP50VsUdpPlusRoundTrip: 1.2 },
  memory: { throughputPerSecond: throughput },
  redis: { throughputPerSecond: 40_000, openLoop: { e2eUs: { p99: 1500 } } },
  allocation: { bytesPerMessage: bytes },
  commitScript: { after: { usecPerCall: 9 } },
});

describe('bench:all figures', () => {
  it('reads numbers at dotted paths and nothing else', () => {
    expect(numberAt({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(numberAt({ a: { b: '2' } }, 'a.b')).toBeUndefined();
    expect(numberAt({ a: null }, 'a.b')).toBeUndefined();
    expect(numberAt({ a: { b: Number.NaN } }, 'a.b')).toBeUndefined();
  });

  it('has one id per figure, each named after its bench', () => {
    const ids = TRACKED_FIGURES.map((figure) => figure.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const figure of TRACKED_FIGURES) expect(figure.id.startsWith(`${figure.bench}.`)).toBe(true);
  });

  it('keeps the median of the runs, and null for a bench whose line lacks a figure', () => {
    const figures = figuresOf({ pipeline: [run(pipelineLine(1.3, 450)), run(pipelineLine(1.1, 470)), run(pipelineLine(1.2, 900))], fuzz: [run(null)] });
    expect(figures['pipeline.memoryTapP50OverUdpFloor']).toBe(1.2);
    expect(figures['pipeline.bytesPerMessage']).toBe(470);
    expect(figures['fuzz.crashes']).toBeNull();
    // Benches that did not run have no entry at all.
    expect('load.redisE2eP99' in figures).toBe(false);
  });

  it('measures the spread of each figure over the runs, absolute where the median is 0', () => {
    const spreads = spreadsOf({ pipeline: [run(pipelineLine(1.0, 450)), run(pipelineLine(1.2, 450)), run(pipelineLine(1.1, 450))], fuzz: [run({ bench: 'fuzz', crashes: 0 }), run({ bench: 'fuzz', crashes: 0 })] });
    expect(spreads['pipeline.memoryTapP50OverUdpFloor']!.absolute).toBeCloseTo(0.2, 10);
    expect(spreads['pipeline.memoryTapP50OverUdpFloor']!.relative).toBeCloseTo(0.2 / 1.1, 10);
    expect(spreads['pipeline.bytesPerMessage']).toEqual({ absolute: 0, relative: 0 });
    expect(spreads['fuzz.crashes']).toEqual({ absolute: 0 });
  });

  it('judges each goal, and marks a figure taken on a busy machine', () => {
    const runs = { pipeline: [run(pipelineLine(1.6, 480), 2.5)] };
    const rows = goalRows(figuresOf(runs), runs);
    const tap = rows.find((row) => row.id === 'pipeline.memoryTapP50OverUdpFloor')!;
    expect(tap).toMatchObject({ value: 1.6, met: false, busy: true, loadAverage1m: 2.5 });
    expect(rows.find((row) => row.id === 'pipeline.bytesPerMessage')).toMatchObject({ value: 480, met: true });
    // Only figures with a goal, of benches that ran.
    expect(rows.every((row) => row.bench === 'pipeline')).toBe(true);
    expect(rows.some((row) => row.id === 'pipeline.commitScriptMicroseconds')).toBe(false);
  });
});

describe('bench:all comparison', () => {
  const previous = { file: 'earlier.json', results: { machine, figures: { 'pipeline.memoryTapP50OverUdpFloor': 1.2, 'pipeline.bytesPerMessage': 450, 'fuzz.crashes': 0, 'pipeline.memoryThroughput': 300_000 } } };
  const noise = { spreads: { 'pipeline.memoryTapP50OverUdpFloor': { absolute: 0.12, relative: 0.1 }, 'fuzz.crashes': { absolute: 0 } } };

  it('names a figure worse by more than its noise, and not one within it', () => {
    const within = compareBenchResults(previous, { machine, figures: { ...previous.results.figures, 'pipeline.memoryTapP50OverUdpFloor': 1.3 } }, noise);
    expect(within.worse).toEqual([]);
    const beyond = compareBenchResults(previous, { machine, figures: { ...previous.results.figures, 'pipeline.memoryTapP50OverUdpFloor': 1.35 } }, noise);
    expect(beyond.worse.map((change) => change.id)).toEqual(['pipeline.memoryTapP50OverUdpFloor']);
    expect(beyond.worse[0]).toMatchObject({ previous: 1.2, current: 1.35, change: 0.125 });
  });

  it('knows which way is better for each figure', () => {
    const comparison = compareBenchResults(previous, { machine, figures: { ...previous.results.figures, 'pipeline.memoryThroughput': 200_000, 'pipeline.bytesPerMessage': 400 } }, noise);
    expect(comparison.worse.map((change) => change.id)).toEqual(['pipeline.memoryThroughput']);
    expect(comparison.better.map((change) => change.id)).toEqual(['pipeline.bytesPerMessage']);
  });

  it('holds a figure without a measured spread to 1 %, and a zero to its absolute spread', () => {
    const comparison = compareBenchResults(previous, { machine, figures: { ...previous.results.figures, 'pipeline.bytesPerMessage': 453, 'fuzz.crashes': 1 } }, noise);
    expect(comparison.worse.map((change) => change.id)).toEqual(['fuzz.crashes']);
    expect(compareBenchResults(previous, { machine, figures: { ...previous.results.figures, 'pipeline.bytesPerMessage': 460 } }, null).worse.map((change) => change.id)).toEqual(['pipeline.bytesPerMessage']);
  });

  it('compares absolute figures on the same machine only, ratios everywhere', () => {
    const comparison = compareBenchResults(previous, { machine: otherMachine, figures: { ...previous.results.figures, 'pipeline.bytesPerMessage': 900, 'pipeline.memoryTapP50OverUdpFloor': 2 } }, noise);
    expect(comparison.sameMachine).toBe(false);
    expect(comparison.worse.map((change) => change.id)).toEqual(['pipeline.memoryTapP50OverUdpFloor']);
  });

  it('lists figures the previous run had and this one lost', () => {
    const comparison = compareBenchResults(previous, { machine, figures: { ...previous.results.figures, 'pipeline.bytesPerMessage': null } }, noise);
    expect(comparison.missing).toEqual(['pipeline.bytesPerMessage']);
    expect(compareBenchResults(null, { machine, figures: {} }, noise)).toEqual({ previous: null, sameMachine: true, worse: [], better: [], missing: [] });
  });
});

describe("the README's bench:all table", () => {
  const runs = { pipeline: [run(pipelineLine(1.24, 437), 0.3)], fuzz: [run({ bench: 'fuzz', crashes: 0 }, 1.9)] };
  const figures = figuresOf(runs);
  const results: BenchResults = {
    date: '2025-05-01T10:00:00.000Z',
    commit: 'abcdef1234567890',
    dirty: false,
    machine,
    loadLimit: 1.5,
    benches: runs,
    figures,
    goals: goalRows(figures, runs),
    noise: null,
    comparison: { previous: null, sameMachine: true, worse: [], better: [], missing: [] },
  };
  const readme = '# cvlab\n\nintro\n\n## Benchmarks\n\nRun them.\n\n## Licence\n\nMIT\n';

  it('shows each goal with its figure, the date, the machine and the load', () => {
    const table = benchReadmeTable(results, 'bench/results/run.json');
    expect(table).toContain('2025-05-01, commit `abcdef1`, on Test CPU (2 cores, 8 GiB), Linux 6, Node v20.0.0');
    expect(table).toContain('| memory store e2e-to-tap p50 / UDP floor | ≤ 1.5× | 1.24× | ✔ | `pipeline` (0.3) |');
    expect(table).toContain('| bytes allocated per message (memory store) | ≤ 500 B | 437 B | ✔ | `pipeline` (0.3) |');
    expect(table).toContain('| memory store throughput | ≥ 100,000 msg/s | 300,000 msg/s | ✔ |');
    expect(table).toContain('`fuzz` (1.9, busy)');
    expect(table).toContain('**Not a quiet machine:** `fuzz`');
  });

  it('goes at the end of the Benchmarks section, then replaces only itself', () => {
    const first = withBenchReadmeTable(readme, benchReadmeTable(results, 'bench/results/run.json'));
    expect(first.indexOf(TABLE_START)).toBeGreaterThan(first.indexOf('Run them.'));
    expect(first.indexOf(TABLE_END)).toBeLessThan(first.indexOf('## Licence'));
    expect(first.endsWith('## Licence\n\nMIT\n')).toBe(true);
    const second = withBenchReadmeTable(first, benchReadmeTable({ ...results, date: '2025-06-02T10:00:00.000Z' }, 'bench/results/later.json'));
    expect(second).toContain('2025-06-02');
    expect(second).not.toContain('2025-05-01');
    expect(second.split(TABLE_START)).toHaveLength(2);
    expect(second.replace(/<!-- bench:all table[\s\S]*<!-- \/bench:all table -->/, '')).toBe(first.replace(/<!-- bench:all table[\s\S]*<!-- \/bench:all table -->/, ''));
  });

  it('refuses a README without a Benchmarks section', () => {
    expect(() => withBenchReadmeTable('# cvlab\n', 'table')).toThrow(/Benchmarks/);
  });
});

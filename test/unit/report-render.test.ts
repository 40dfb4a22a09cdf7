import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/shared/report';
import { percentileCurve } from '../../src/main/lab/report/histogram-curve';
import { renderIntervalsCsv } from '../../src/main/lab/report/render-csv';
import { renderReportHtml } from '../../src/main/lab/report/render-html';
import { assembleReport, intervalOfFrame } from '../../src/main/lab/report/report-builder';
import { escapeHtml, lineChart } from '../../src/main/lab/report/svg-chart';
import { createSyntheticRun } from '../fixtures/synthetic-run';

function report(overrides: { status?: RunReport['run']['status']; withSummary?: boolean } = {}): RunReport {
  const run = createSyntheticRun({ id: 'render', intervals: 30, messagesPerInterval: 40, startedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5) });
  const { histograms, ...summary } = run.summary;
  const startedAtMs = Date.parse(run.info.startedAt);
  return assembleReport({
    run: {
      id: 'render', rig: 'demo <rig>', scenario: 'burst & co', status: overrides.status ?? 'passed', startedAtMs, endedAtMs: startedAtMs + 3_000, intervalCount: 30,
      baseline: false, e2eP99Ms: 1, heartbeatAtMs: startedAtMs, info: { rigConfig: { name: 'demo <rig>' } }, environment: null,
      summary: overrides.withSummary === false ? null : (summary as unknown as Record<string, unknown>),
    },
    intervals: run.frames.map((frame) => ({ seq: frame.sequence, atMs: 0, frame: frame as unknown as Record<string, unknown> })),
    histograms: overrides.withSummary === false ? [] : Object.entries(histograms).map(([name, encoded]) => ({ name, encoded: encoded!, totalCount: 1 })),
    alerts: [{ atMs: startedAtMs + 500, severity: 'critical', metric: null, message: '<script>alert(1)</script>' }],
    loopback: [{ id: 'loop-1', startedAtMs, summary: { p50Ms: 1.25, missedEdges: 0 } }],
  });
}

describe('report model', () => {
  it('converts frames (ns, ms since start) to intervals (ms, wall clock)', () => {
    const run = createSyntheticRun({ id: 'x', intervals: 2, messagesPerInterval: 10 });
    const interval = intervalOfFrame({ seq: 1, atMs: 0, frame: run.frames[1] as unknown as Record<string, unknown> }, 1_000_000);
    expect(interval.atMs).toBe(1_000_000 + 200);
    expect(interval.stages['e2e']!.p99).toBeCloseTo(run.frames[1]!.stages.e2e!.p99 / 1e6, 9);
    // 5% of the ten messages are rejected as out_of_range (rounded to 1).
    expect(interval.outcomes).toEqual({ accepted: 9, failed: 0, out_of_range: 1 });
    expect(interval.eventLoopDelayMs).toBeGreaterThan(0);
  });

  it('takes stage percentiles from the summary in ms, in pipeline order, with sample counts', () => {
    const model = report();
    expect(model.summary.stages.map((row) => row.stage)).toEqual(['validate', 'e2e']);
    expect(model.summary.stages[1]!.count).toBe(1_200);
    expect(model.summary.stages[1]!.p50).toBeGreaterThan(1);
    expect(model.summary.stages[1]!.p50).toBeLessThan(3);
    expect(model.thresholds[0]).toMatchObject({ key: 'e2e.p99', unit: 'ms', limit: 10, passed: true });
  });

  it('draws percentile curves from the histograms, rising to the maximum', () => {
    const run = createSyntheticRun({ id: 'curve', intervals: 5, messagesPerInterval: 100 });
    const curve = percentileCurve(run.summary.histograms.e2e!);
    expect(curve[0]!.quantile).toBe(0);
    expect(curve.at(-1)!.quantile).toBe(1);
    for (let index = 1; index < curve.length; index++) expect(curve[index]!.valueMs).toBeGreaterThanOrEqual(curve[index - 1]!.valueMs);
    expect(curve.at(-1)!.valueMs).toBeCloseTo(run.summary.stages.e2e!.max / 1e6, 2);
  });
});

describe('HTML', () => {
  const html = renderReportHtml(report());

  it('is one self-contained page: inline style, inline SVG, no script and no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).toContain('@page { size: A4');
    expect(html).not.toMatch(/<script|<link|src=|href="http|url\(/i);
    expect(html.match(/<svg class="chart"/g)?.length).toBeGreaterThanOrEqual(4);
    expect(html).toMatch(/<path d="M[\d.]+ [\d.]+L/);
  });

  it('escapes what came from outside', () => {
    expect(html).toContain('demo &lt;rig&gt; / burst &amp; co');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
  });

  it('shows loop-back results, and explains a missing summary for an aborted run', () => {
    expect(html).toContain('Hardware loop-back');
    expect(html).toContain('missedEdges');
    const aborted = renderReportHtml(report({ status: 'aborted', withSummary: false }));
    expect(aborted).toContain('<span class="badge aborted">aborted</span>');
    expect(aborted).toContain('the run did not finish');
    expect(aborted).toContain('e2e latency over time');
  });

  it('draws a chart even with a single point and without data', () => {
    expect(lineChart({ title: 'one', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', color: '#000', points: [[1, 1]] }] })).toContain('<path d="M');
    expect(lineChart({ title: 'none', xLabel: 'x', yLabel: 'y', series: [] })).toContain('<svg');
    expect(escapeHtml(`"'&<>`)).toBe('&quot;&#39;&amp;&lt;&gt;');
  });
});

describe('CSV', () => {
  it('has one row per interval and a column per stage statistic and outcome code', () => {
    const csv = renderIntervalsCsv(report());
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(31);
    const header = lines[0]!.split(',');
    expect(header.slice(0, 4)).toEqual(['seq', 'time_utc', 'seconds', 'throughput_per_s']);
    expect(header).toEqual(expect.arrayContaining(['e2e_p99_ms', 'e2e_count', 'outcome_accepted', 'outcome_out_of_range', 'cpu_percent']));
    const first = lines[1]!.split(',');
    expect(first[0]).toBe('0');
    expect(first[1]).toBe('2026-01-02T03:04:05.100Z');
    expect(Number(first[header.indexOf('e2e_count')])).toBe(40);
  });
});

describe('the report of a black-box run', () => {
  it('names the bot that was measured (command, version line, exit) and its match counts', () => {
    const base = report();
    const blackBox = {
      endpoint: { chatHost: '127.0.0.1', chatPort: 6667, channel: '#cvlab', oscHost: '127.0.0.1', oscPort: 9100, windowMs: 2000 },
      chatSent: 1200, oscReceived: 900, oscMessages: 950, matched: 880, matchedByValue: 800, matchedByOrder: 150, partial: 0, unmatchedOsc: 3,
      unmatchedAddresses: ['/x'], ambiguous: 7, missing: { rejectedByModel: 300, acceptedButSilent: 20 }, acceptedAgainstModel: 0, decodeErrors: 0,
      forwarded: 0, replies: { received: 5, matched: 5 }, latency: {}, slowReader: { maxBufferedBytes: 0, linesQueued: 0, linesWritten: 1200 },
      bot: { command: 'node bot.js --name <b>', version: 'mybot v2.1.0', nick: 'mybot', transport: 'tcp', exitCode: 0, signal: null, exitedDuringRun: false, stdoutTail: '', stderrTail: '' },
    };
    const html = renderReportHtml({ ...base, summary: { ...base.summary, raw: { ...base.summary.raw, blackBox } } });
    expect(html).toContain('<h2>Black box</h2>');
    expect(html).toContain('node bot.js --name &lt;b&gt;');
    expect(html).toContain('mybot v2.1.0');
    expect(html).toContain('exit code 0');
    expect(html).toMatch(/unmatched OSC<\/td><td>3</);
    expect(renderReportHtml(base)).not.toContain('Black box');
  });
});

describe("the bot's health in a report", () => {
  it("draws the bot's CPU and RSS beside cvlab's, lists them and the leak verdict, and adds CSV columns", () => {
    const run = createSyntheticRun({ id: 'bot', intervals: 12, messagesPerInterval: 10, startedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5) });
    const base = report();
    const intervals = run.frames.map((frame, index) => intervalOfFrame({ seq: frame.sequence, atMs: 0, frame: { ...frame, bot: { cpuPercent: 12.5, rssBytes: (60 + index) * 2 ** 20, processes: 2 } } as unknown as Record<string, unknown> }, base.run.startedAtMs));
    const resources = {
      pid: 4242, foundBy: 'command', processes: [{ pid: 4242, name: 'sh' }, { pid: 4243, name: 'node' }], samples: 12, intervalMs: 100,
      cpu: { meanPercent: 12.5, maxPercent: 30 },
      rss: { startBytes: 60 * 2 ** 20, endBytes: 71 * 2 ** 20, maxBytes: 71 * 2 ** 20, slopeBytesPerHour: 9.8 * 60 * 2 ** 20, rSquared: 0.99 },
      leak: { leaking: true, slopeBytesPerHour: 9.8 * 60 * 2 ** 20, toleranceBytesPerHour: 16 * 2 ** 20, rSquared: 0.99, samples: 6, method: 'window-minimum', spanMs: 30_000 },
    };
    const blackBox = {
      endpoint: { chatHost: '127.0.0.1', chatPort: 6667, channel: '#cvlab', oscHost: '127.0.0.1', oscPort: 9100, windowMs: 2000 },
      chatSent: 1, oscReceived: 1, oscMessages: 1, matched: 1, matchedByValue: 1, matchedByOrder: 0, partial: 0, unmatchedOsc: 0, unmatchedAddresses: [], ambiguous: 0,
      missing: { rejectedByModel: 0, acceptedButSilent: 0 }, acceptedAgainstModel: 0, decodeErrors: 0, forwarded: 0, replies: { received: 0, matched: 0 }, latency: {},
      slowReader: { maxBufferedBytes: 0, linesQueued: 0, linesWritten: 1 },
      bot: { command: 'sh start.sh', nick: 'b', transport: 'tcp', exitCode: 0, signal: null, exitedDuringRun: false, stdoutTail: '', stderrTail: '' },
      resources,
    };
    const withBot: RunReport = { ...base, intervals, summary: { ...base.summary, raw: { ...base.summary.raw, blackBox } } };
    const html = renderReportHtml(withBot);
    expect(html).toContain("The bot&#39;s CPU");
    expect(html).toContain("The bot&#39;s memory");
    expect(html).toContain('sh (4242), node (4243)');
    expect(html).toMatch(/\+9\.80 MiB\/min over 30\.0 s, R² 0\.99 — <span class="badge failed">LEAK<\/span>/);
    expect(renderReportHtml(base)).not.toContain('The bot');
    const csv = renderIntervalsCsv(withBot).trimEnd().split('\n');
    const header = csv[0]!.split(',');
    expect(header.slice(-2)).toEqual(['bot_cpu_percent', 'bot_rss_bytes']);
    expect(csv[1]!.split(',').slice(-2)).toEqual(['12.5', String(60 * 2 ** 20)]);
    expect(renderIntervalsCsv(base)).not.toContain('bot_');
  });
});

describe('the report of a replay', () => {
  const replay = {
    log: { fileName: 'friday <raid>.log', format: 'irc' as const, messages: 578, spanMs: 294_476, sha256: '9955f9ba3f596df204742b164dbcc991d22ba89b0c3ef46b478c5152ce75c7fd', firstAt: '2025-03-07T20:00:01.884Z', damaged: 2 },
    speed: 30,
    fromMs: 60_000,
    toMs: 76_000,
    loop: false,
    users: 'hashed' as const,
    windowMessages: 148,
  };

  it('names the log it played (file, content hash, span) and which part at what speed', () => {
    const html = renderReportHtml({ ...report(), replay });
    expect(html).toContain('<h2>Chat log replayed</h2>');
    expect(html).toContain('friday &lt;raid&gt;.log');
    expect(html).toContain(replay.log.sha256);
    expect(html).toMatch(/578 messages over 294\.?\d* s from 2025-03-07T20:00:01\.884Z; 2 damaged lines skipped/);
    expect(html).toMatch(/60\.0 s to 76\.0 s of it \(148 messages\) at speed 30; viewers hashed/);
    expect(renderReportHtml(report())).not.toContain('Chat log replayed');
  });

  it('is built from the run as saved', () => {
    const base = report();
    const built = assembleReport({
      run: { id: 'r', rig: 'demo', scenario: 'friday', status: 'passed', startedAtMs: 0, endedAtMs: 1000, intervalCount: 0, baseline: false, e2eP99Ms: null, heartbeatAtMs: 0, info: { replay }, environment: null, summary: null },
      intervals: [],
      histograms: [],
      alerts: [],
      loopback: [],
    });
    expect(built.replay).toEqual(replay);
    expect(base.replay).toBeUndefined();
  });
});

describe('the HTML export speaks as the terminal does', () => {
  it('prints thresholds in their units, rates as percentages, counts grouped, and where the run was started', () => {
    const base = report();
    const html = renderReportHtml({
      ...base,
      environment: { node: '22.0.0', electron: null, startedFrom: 'serve', cpuModel: 'CPU', cores: 2, os: 'Linux', arch: 'x64', totalMemoryBytes: 2 ** 33, hostname: 'bench-nuc' },
      summary: { ...base.summary, totals: { ...base.summary.totals, sent: 12_345 } },
      thresholds: [
        { key: 'errors.rate', expression: '<1%', unit: 'ratio', actual: 0.0147, limit: 0.01, passed: false, samples: 12_345 },
        { key: 'late.count', expression: '<1', unit: 'count', actual: 0, limit: 1, passed: true, samples: 12_345 },
        { key: 'e2e.p99', expression: '<10ms', unit: 'ms', actual: 48.2, limit: 10, passed: false, samples: 12_345 },
      ],
    });
    expect(html).toContain('<td>1.47\u00a0%</td><td>1.00\u00a0%</td><td>12,345</td>');
    expect(html).toContain('<td>0</td><td>1</td><td>12,345</td>');
    expect(html).toContain('<td>48.2 ms</td><td>10 ms</td>');
    expect(html).not.toMatch(/ ratio<| count</);
    expect(html).toContain('<td>sent</td><td>12,345</td>');
    expect(html).toContain('<td>Started from</td><td>a browser console (cvlab serve)</td>');
    expect(html).not.toContain('Electron');
    expect(html).toContain('· on bench-nuc');
  });
});

describe('the lab notebook in the HTML export', () => {
  it('lists the notes of the run with their tags', () => {
    const base = report();
    const html = renderReportHtml({ ...base, notes: [{ kind: 'run', subject: 'render', atMs: Date.UTC(2026, 0, 2), text: 'moved Redis to the NUC', tags: ['redis-nuc'] }] });
    expect(html).toContain('<h2>Lab notebook</h2>');
    expect(html).toContain('<td>moved Redis to the NUC</td><td>redis-nuc</td>');
  });
});

describe('the chat → CV section of a report', () => {
  it('draws the chat → OSC → CV picture with the bound beside the probe-timed legs and the edge counts', () => {
    const base = report();
    const ms = 1e6;
    const chatToCv = {
      probe: { path: '/dev/ttyACM0', firmware: 'probe-1', link: 'usb' },
      variable: 'invert', address: '/lzx/proc/invert', thresholdMv: 500, rateHz: 2, viewers: 8,
      sent: 40, passedOn: 39, expectedEdges: 39, matched: 38, missed: 1, unexplained: 2, notPassedOn: 1,
      clock: { boundUs: 42, residualUs: 10, samples: 50 },
      decomposition: { chatToOscP50: 1 * ms, chatToOscP99: 2 * ms, oscToCvP50: 3 * ms, oscToCvP99: 4 * ms, cvP50: 4 * ms, cvP99: 6 * ms },
    };
    const html = renderReportHtml({ ...base, summary: { ...base.summary, raw: { ...base.summary.raw, chatToCv } } });
    const svg = /<svg class="chart cv-decomposition"[^]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(svg).toContain('due → OSC');
    expect(svg).toContain('p50 3.00 · p99 4.00 ms ± 42.0 µs');
    expect(svg).toContain('due → CV');
    expect(html).toContain('CV edges: 38 matched · 1 missed · 2 unexplained (of 39 expected)');
    expect(renderReportHtml(base)).not.toContain('cv-decomposition');
  });
});

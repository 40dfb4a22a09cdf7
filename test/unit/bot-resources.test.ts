import { describe, expect, it } from 'vitest';
import { compileThreshold } from '../../src/shared/scenario';
import { parseProcessStat } from '../../src/main/lab/metrics/process-tree-sampler';
import { findSocketInode } from '../../src/main/lab/metrics/socket-owner';
import { CpuAggregate } from '../../src/main/lab/metrics/bot-resource-monitor';
import { evaluateThresholds } from '../../src/main/lab/metrics/thresholds';
import { MetricsWindow } from '../../src/main/lab/metrics/run-metrics';
import { initHistograms } from '../../src/main/lab/common/create-histogram';

describe('/proc/<pid>/stat', () => {
  it('reads the fields after a name that holds spaces and parentheses', () => {
    const text = '4242 (my bot) (x)) S 4200 4242 4200 0 -1 4194560 1234 0 0 0 150 37 0 0 20 0 11 0 98765 1234567890 12800 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0\n';
    expect(parseProcessStat(text)).toEqual({ pid: 4242, name: 'my bot) (x)', parentPid: 4200, cpuTicks: 187, rssPages: 12800, startTicks: 98765 });
  });

  it('gives nothing for a torn line', () => {
    expect(parseProcessStat('4242 (node')).toBeUndefined();
    expect(parseProcessStat('')).toBeUndefined();
  });
});

describe('/proc/net/tcp', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  // 127.0.0.1:50000 → 127.0.0.1:6667 established (the bot's end), the endpoint's end, a listener, a closing one.
  const ipv4 =
    header +
    '   0: 0100007F:C350 0100007F:1A0B 01 00000000:00000000 00:00000000 00000000  1000        0 777001 1 0 20 4 30 10 -1\n' +
    '   1: 0100007F:1A0B 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 777002 1 0 20 4 30 10 -1\n' +
    '   2: 0100007F:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777003 1 0 100 0 0 10 0\n' +
    '   3: 0100007F:C351 0100007F:1A0B 06 00000000:00000000 03:00000D8A 00000000     0        0 0 3\n';
  const ipv6 = header + '   0: 0000000000000000FFFF00000100007F:C352 0000000000000000FFFF00000100007F:1A0B 01 00000000:00000000 00:00000000 00000000  1000        0 888001 1 0 20 4 30 10 -1\n';

  it("finds the socket whose own port is the peer's and whose far port is ours", () => {
    expect(findSocketInode([ipv4, ipv6], 50000, 6667)).toBe(777001);
    expect(findSocketInode([ipv4, ipv6], 6667, 50000)).toBe(777002);
    expect(findSocketInode([ipv4, ipv6], 50002, 6667)).toBe(888001);
  });

  it('takes no listener and no closing socket', () => {
    expect(findSocketInode([ipv4], 50001, 6667)).toBeUndefined();
    expect(findSocketInode([ipv4], 6667, 0)).toBeUndefined();
  });
});

describe('bot thresholds', () => {
  it('reads a memory growth per hour, minute or second', () => {
    expect(compileThreshold('bot.rss.slope', '<16MiB/h')).toMatchObject({ unit: 'bytes_per_hour', condition: { operator: '<', limit: 16 * 1024 * 1024 } });
    expect(compileThreshold('bot.rss.slope', '<= 1 MiB / min')).toMatchObject({ condition: { operator: '<=', limit: 60 * 1024 * 1024 } });
    expect(compileThreshold('bot.rss.slope', '<10kB/s')).toMatchObject({ condition: { limit: 10_000 * 3600 } });
    expect(compileThreshold('bot.rss.slope', '<16MB')).toMatch(/expected a growth like "<16MiB\/h" or "<1MiB\/min"/);
  });

  it('reads CPU as a share of one core', () => {
    expect(compileThreshold('bot.cpu.max', '<80%')).toMatchObject({ unit: 'ratio', metric: { kind: 'bot', figure: 'cpu.max' }, condition: { limit: 0.8 } });
    expect(compileThreshold('bot.cpu.mean', '<150%')).toMatchObject({ condition: { limit: 1.5 } });
    expect(compileThreshold('bot.cpu.p99', '<80%')).toMatch(/unknown threshold metric "bot\.cpu\.p99".*bot\.cpu\.max, bot\.cpu\.mean, bot\.rss\.slope/);
  });

  it("judges the bot's figures, and fails one with nothing measured (not a black-box run)", async () => {
    await initHistograms();
    const window = new MetricsWindow();
    try {
      const thresholds = [compileThreshold('bot.cpu.max', '<80%'), compileThreshold('bot.rss.slope', '<1MiB/min')].map((threshold) => {
        if (typeof threshold === 'string') throw new Error(threshold);
        return threshold;
      });
      const judged = evaluateThresholds(thresholds, { ...window.view(1000), bot: { cpuMax: 0.95, rssSlopeBytesPerHour: 10 * 1024 * 1024, samples: 40, leakPoints: 6 } });
      expect(judged.map((verdict) => [verdict.key, verdict.passed, verdict.samples])).toEqual([
        ['bot.cpu.max', false, 40],
        ['bot.rss.slope', true, 6],
      ]);
      expect(evaluateThresholds(thresholds, window.view(1000)).map((verdict) => [verdict.passed, verdict.samples])).toEqual([
        [false, 0],
        [false, 0],
      ]);
    } finally {
      window.destroy();
    }
  });
});

describe('CPU over a stretch', () => {
  it('takes the mean over the stretch and the maximum over one-second windows', () => {
    const cpu = new CpuAggregate();
    // Ten 100 ms readings at 10 ms each (10 %), then ten at 50 ms each (50 %).
    for (let index = 0; index < 10; index++) cpu.add(10, 100);
    for (let index = 0; index < 10; index++) cpu.add(50, 100);
    expect(cpu.meanPercent).toBeCloseTo(30, 6);
    expect(cpu.maxPercentSoFar).toBeCloseTo(50, 6);
    expect(cpu.samples).toBe(20);
  });

  it('counts a stretch shorter than a window as one', () => {
    const cpu = new CpuAggregate();
    cpu.add(20, 100);
    expect(cpu.maxPercentSoFar).toBeCloseTo(20, 6);
    expect(new CpuAggregate().meanPercent).toBeUndefined();
  });
});

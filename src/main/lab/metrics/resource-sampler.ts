import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ResourceSummary } from '../../../shared/run';

export interface ResourceSample {
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly cpuPercent: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}

/**
 * Samples the engine process once per interval: event-loop delay (perf_hooks, ns), CPU use
 * (process.cpuUsage, percent of one core), heap and RSS. Keeps only running aggregates.
 */
export class ResourceSampler {
  private readonly loop: IntervalHistogram;
  /** A second monitor, never reset: Node cannot add an event-loop histogram into another. */
  private readonly loopTotal: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastNs = process.hrtime.bigint();
  private cpuSum = 0;
  private cpuMax = 0;
  private samples = 0;
  private rssMax = 0;
  private heapMax = 0;

  constructor(resolutionMs = 5) {
    this.loop = monitorEventLoopDelay({ resolution: resolutionMs });
    this.loop.enable();
    this.loopTotal = monitorEventLoopDelay({ resolution: resolutionMs });
    this.loopTotal.enable();
  }

  sample(): ResourceSample {
    const nowNs = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(nowNs - this.lastNs) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastNs = nowNs;
    const cpuPercent = elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0;
    const memory = process.memoryUsage();
    const hasLoop = this.loop.count > 0;
    const eventLoopDelay = hasLoop ? { p50: this.loop.percentile(50), p99: this.loop.percentile(99), max: this.loop.max } : { p50: 0, p99: 0, max: 0 };
    this.loop.reset();
    this.samples++;
    this.cpuSum += cpuPercent;
    this.cpuMax = Math.max(this.cpuMax, cpuPercent);
    this.rssMax = Math.max(this.rssMax, memory.rss);
    this.heapMax = Math.max(this.heapMax, memory.heapUsed);
    return { eventLoopDelay, cpuPercent, heapUsedBytes: memory.heapUsed, rssBytes: memory.rss };
  }

  /** Event-loop delay over the whole run so far (ns). */
  eventLoop(): { p99: number; max: number; count: number } {
    const count = this.loopTotal.count;
    return count > 0 ? { p99: this.loopTotal.percentile(99), max: this.loopTotal.max, count } : { p99: 0, max: 0, count: 0 };
  }

  summary(): ResourceSummary {
    const loop = this.eventLoop();
    return {
      cpuPercentMean: this.samples > 0 ? this.cpuSum / this.samples : 0,
      cpuPercentMax: this.cpuMax,
      rssMaxBytes: this.rssMax,
      heapMaxBytes: this.heapMax,
      eventLoopDelayP99: loop.p99,
      eventLoopDelayMax: loop.max,
    };
  }

  close(): void {
    this.loop.disable();
    this.loopTotal.disable();
  }
}

import type { ResourceSummary } from '../../../shared/run';
import { EventLoopDelayMonitor } from '../common/event-loop-delay-monitor';

export interface ResourceSample {
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly cpuPercent: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}

/**
 * Samples the process once per interval: this thread's event-loop delay (ns, how late a timer fires), CPU use
 * (process.cpuUsage, percent of one core), heap and RSS. Keeps only running aggregates.
 */
export class ResourceSampler {
  private readonly loop: EventLoopDelayMonitor;
  private lastCpu = process.cpuUsage();
  private lastNs = process.hrtime.bigint();
  private cpuSum = 0;
  private cpuMax = 0;
  private samples = 0;
  private rssMax = 0;
  private heapMax = 0;

  constructor(resolutionMs = 2) {
    this.loop = new EventLoopDelayMonitor(resolutionMs);
    this.loop.start();
  }

  sample(): ResourceSample {
    const nowNs = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(nowNs - this.lastNs) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastNs = nowNs;
    const cpuPercent = elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0;
    const memory = process.memoryUsage();
    const { p50, p99, max } = this.loop.takeInterval();
    const eventLoopDelay = { p50, p99, max };
    this.samples++;
    this.cpuSum += cpuPercent;
    this.cpuMax = Math.max(this.cpuMax, cpuPercent);
    this.rssMax = Math.max(this.rssMax, memory.rss);
    this.heapMax = Math.max(this.heapMax, memory.heapUsed);
    return { eventLoopDelay, cpuPercent, heapUsedBytes: memory.heapUsed, rssBytes: memory.rss };
  }

  /** Event-loop delay over the whole run so far (ns). */
  eventLoop(): { p99: number; max: number; count: number } {
    return this.loop.overall();
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
    this.loop.stop();
  }
}

import type { BotProcess, BotResourceFrame, BotResources, LeakVerdict } from '../../../shared/run';
import type { BotProcessRef } from '../common/engine-protocol';
import { LeakDetector } from './leak-detector';
import { ProcessTreeSampler } from './process-tree-sampler';
import { findSocketOwner } from './socket-owner';

/** Processes listed in the summary (the tree may hold more; they are counted in the figures all the same). */
const PROCESSES_LISTED = 8;
/** CPU maxima are taken over windows at least this long: the kernel counts CPU in ticks (10 ms), ±1 tick of a 100 ms interval is ±10 %. */
const CPU_MAX_WINDOW_MS = 1000;

/**
 * CPU of a process tree over a stretch of a run: the mean over the whole stretch, and the maximum
 * over windows of at least one second.
 */
export class CpuAggregate {
  private cpuMs = 0;
  private ms = 0;
  private windowCpuMs = 0;
  private windowMs = 0;
  private maxPercent: number | undefined;
  private readings = 0;

  /** `cpuMs` of CPU used over `elapsedMs` of wall time. */
  add(cpuMs: number, elapsedMs: number): void {
    if (elapsedMs <= 0) return;
    this.readings++;
    this.cpuMs += cpuMs;
    this.ms += elapsedMs;
    this.windowCpuMs += cpuMs;
    this.windowMs += elapsedMs;
    if (this.windowMs >= CPU_MAX_WINDOW_MS) {
      this.maxPercent = Math.max(this.maxPercent ?? 0, (this.windowCpuMs / this.windowMs) * 100);
      this.windowCpuMs = 0;
      this.windowMs = 0;
    }
  }

  get samples(): number {
    return this.readings;
  }

  /** Percent of one core; undefined before any reading. */
  get meanPercent(): number | undefined {
    return this.ms > 0 ? (this.cpuMs / this.ms) * 100 : undefined;
  }

  /** The busiest window's percent (a stretch shorter than a window counts as one). */
  get maxPercentSoFar(): number | undefined {
    if (this.maxPercent !== undefined) return this.maxPercent;
    return this.windowMs > 0 ? (this.windowCpuMs / this.windowMs) * 100 : undefined;
  }

  /** As thresholds judge it: shares of one core. */
  figures(): BotFigures {
    const mean = this.meanPercent;
    const max = this.maxPercentSoFar;
    return { ...(mean !== undefined ? { cpuMean: mean / 100 } : {}), ...(max !== undefined ? { cpuMax: max / 100 } : {}), samples: this.readings, leakPoints: 0 };
  }
}

export interface BotResourceMonitorOptions {
  /** How often the tree is read (the run's interval, at least 50 ms). */
  readonly intervalMs: number;
  /** ms since the run started (the frames' clock). */
  readonly nowMs: () => number;
  /** The scenario's leakDetection: one RSS point per window (its lowest), judged against the tolerance. */
  readonly leak: { readonly windowMs: number; readonly toleranceBytesPerHour: number };
  /** Each reading, with the CPU used since the reading before and that stretch's length, ms (capacity steps add them up). */
  readonly onReading?: (reading: { readonly atMs: number; readonly frame: BotResourceFrame; readonly cpuMs: number; readonly elapsedMs: number }) => void;
}

/** The figures thresholds judge a bot on. */
export interface BotFigures {
  /** Share of one core (1 = one core busy). */
  readonly cpuMean?: number;
  readonly cpuMax?: number;
  readonly rssSlopeBytesPerHour?: number;
  readonly samples: number;
  readonly leakPoints: number;
}

/**
 * The bot's own health during a black-box run, on the host's thread: finds the bot's process (the
 * command cvlab started, or the owner of its chat connection for a bot started elsewhere), reads
 * its tree from /proc every interval, and keeps what the summary needs: CPU mean and maximum, RSS
 * at start, end and most, and a leak verdict from the same detector as cvlab's own heap. When the
 * bot cannot be watched the run goes on; the summary says why there are no figures.
 */
export class BotResourceMonitor {
  private readonly leak: LeakDetector;
  private readonly cpu = new CpuAggregate();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private last: BotResourceFrame | undefined;
  private lastAtMs: number | undefined;
  private samples = 0;
  private rssStart: number | undefined;
  private rssEnd: number | undefined;
  private rssMax = 0;
  private stopped = false;

  private constructor(
    private readonly options: BotResourceMonitorOptions,
    private readonly sampler: ProcessTreeSampler | undefined,
    private readonly foundBy: BotResources['foundBy'],
    private readonly unavailable: string | undefined,
  ) {
    this.leak = new LeakDetector({ windowMs: options.leak.windowMs, toleranceBytesPerHour: options.leak.toleranceBytesPerHour, method: 'window-minimum' });
  }

  /** Finds the bot's process and starts reading it; never fails (an unwatchable bot gives a monitor that says why). */
  static async start(ref: BotProcessRef, options: BotResourceMonitorOptions): Promise<BotResourceMonitor> {
    if (process.platform !== 'linux') return new BotResourceMonitor(options, undefined, undefined, `the bot's CPU and memory are read from /proc, which ${process.platform} does not have`);
    let pid = ref.pid;
    let foundBy: BotResources['foundBy'] = 'command';
    if (pid === undefined) {
      if (!ref.chat) return new BotResourceMonitor(options, undefined, undefined, 'neither the bot\'s process nor its chat connection is known');
      const owner = await findSocketOwner({ host: ref.chat.botHost, port: ref.chat.botPort }, ref.chat.endpointPort);
      if ('unavailable' in owner) return new BotResourceMonitor(options, undefined, undefined, owner.unavailable);
      pid = owner.pid;
      foundBy = 'connection';
    }
    let sampler: ProcessTreeSampler;
    try {
      sampler = await ProcessTreeSampler.watch(pid);
    } catch (error) {
      return new BotResourceMonitor(options, undefined, undefined, `the bot's process ${pid} could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    const monitor = new BotResourceMonitor(options, sampler, foundBy, undefined);
    // The first reading is the baseline: CPU is counted from here, RSS starts here.
    await monitor.sample();
    monitor.timer = setInterval(() => {
      monitor.reading ??= monitor.sample().finally(() => (monitor.reading = undefined));
    }, Math.max(50, options.intervalMs));
    monitor.timer.unref();
    return monitor;
  }

  /** The tree's latest reading (absent when the bot is not watched or has not been read yet). */
  latest(): BotResourceFrame | undefined {
    return this.last;
  }

  /** What thresholds judge: CPU as a share of one core, the RSS slope. */
  figures(): BotFigures {
    const verdict = this.leak.points >= 3 ? this.leak.verdict() : undefined;
    return { ...this.cpu.figures(), ...(verdict ? { rssSlopeBytesPerHour: verdict.slopeBytesPerHour } : {}), leakPoints: verdict?.samples ?? 0 };
  }

  /** Takes a last reading and stops. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.reading;
    if (this.sampler) {
      await this.sample(true);
      await this.sampler.close();
    }
  }

  /** The run's figures; `judgeLeak`: the scenario asked for leak detection, so the verdict is given. */
  summary(judgeLeak: boolean): BotResources {
    const processes: BotProcess[] = (this.sampler?.processes ?? []).slice(0, PROCESSES_LISTED).map(({ pid, name }) => ({ pid, name }));
    const base = { processes, samples: this.samples, intervalMs: Math.max(50, this.options.intervalMs) };
    if (!this.sampler || this.unavailable !== undefined) return { ...base, unavailable: this.unavailable ?? 'the bot was not watched' };
    const meanPercent = this.cpu.meanPercent;
    const maxPercent = this.cpu.maxPercentSoFar;
    const verdict: LeakVerdict = this.leak.verdict();
    const slope = verdict.samples >= 3 ? { slopeBytesPerHour: verdict.slopeBytesPerHour, rSquared: verdict.rSquared } : {};
    return {
      ...base,
      pid: this.sampler.rootPid,
      ...(this.foundBy ? { foundBy: this.foundBy } : {}),
      ...(meanPercent !== undefined && maxPercent !== undefined ? { cpu: { meanPercent, maxPercent } } : {}),
      ...(this.rssStart !== undefined && this.rssEnd !== undefined ? { rss: { startBytes: this.rssStart, endBytes: this.rssEnd, maxBytes: this.rssMax, ...slope } } : {}),
      ...(judgeLeak ? { leak: verdict } : {}),
    };
  }

  private async sample(final = false): Promise<void> {
    const sampler = this.sampler;
    if (!sampler || (this.stopped && !final)) return;
    let reading: Awaited<ReturnType<ProcessTreeSampler['read']>>;
    try {
      reading = await sampler.read();
    } catch {
      // /proc did not answer this once (it is read again next interval).
      return;
    }
    if (!reading) {
      // The whole tree exited: nothing more to read (the run says why the bot left), no figure in later frames.
      if (this.timer) clearInterval(this.timer);
      this.last = undefined;
      return;
    }
    const atMs = this.options.nowMs();
    const elapsedMs = this.lastAtMs === undefined ? 0 : atMs - this.lastAtMs;
    const frame: BotResourceFrame = { cpuPercent: reading.cpuPercent, rssBytes: reading.rssBytes, processes: reading.processes };
    this.lastAtMs = atMs;
    this.last = frame;
    this.samples++;
    this.rssStart ??= reading.rssBytes;
    this.rssEnd = reading.rssBytes;
    this.rssMax = Math.max(this.rssMax, reading.rssBytes);
    this.leak.sample(atMs, reading.rssBytes);
    const cpuMs = (reading.cpuTicks / sampler.ticksPerSecond) * 1000;
    if (elapsedMs > 0) this.cpu.add(cpuMs, elapsedMs);
    this.options.onReading?.({ atMs, frame, cpuMs, elapsedMs });
  }
}

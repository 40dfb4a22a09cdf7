import type { RunFrame, RunInfo } from '../../../shared/run';
import { REJECTION_CODES } from '../../../shared/rejection';
import { RingBuffer } from './ring-buffer';

/** Ten minutes of 100 ms frames: the longest timebase at the default interval. */
export const SCOPE_CAPACITY = 6000;

export const LATENCY_STAGES = ['validate', 'limit', 'store', 'encode', 'send', 'tap'] as const;
export const OUTCOME_SERIES = ['accepted', ...REJECTION_CODES, 'failed'] as const;

const NS_PER_MS = 1e6;
const BYTES_PER_MIB = 1024 * 1024;

/** Every trace the scope can draw, each a fixed-size ring. Values already in display units (ms, /s, %, MiB). */
export type SeriesKey =
  | 'time'
  | 'e2eP50'
  | 'e2eP99'
  | 'e2eMax'
  | `stage:${(typeof LATENCY_STAGES)[number]}`
  | 'throughput'
  | 'recorded'
  | `outcome:${(typeof OUTCOME_SERIES)[number]}`
  | 'loopP99'
  | 'loopMax'
  | 'cpu'
  | 'heap'
  | 'rss'
  | 'botCpu'
  | 'botRss';

/**
 * The scope's data, outside React: frames go into ring buffers as they arrive, and the
 * charts' animation loop reads them when `version` moved. Only unit conversion happens here;
 * every statistic comes computed from the engine.
 */
export class FrameStore {
  readonly series = new Map<SeriesKey, RingBuffer>();
  /** Bumped on every change; the drawing loop compares it to what it drew last. */
  version = 0;
  runId: string | undefined;
  lastSequence = -1;
  /** Frames received, for the console benchmark. */
  received = 0;
  /** A replay's planned messages per bucket, drawn beside the measured throughput. */
  private planned: { readonly runId: string; readonly bucketMs: number; readonly counts: readonly number[] } | undefined;
  private readonly listeners = new Set<() => void>();

  /** Called after every change (the frame clock asks for a drawing frame). */
  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }

  constructor(readonly capacity = SCOPE_CAPACITY) {
    const keys: SeriesKey[] = [
      'time',
      'e2eP50',
      'e2eP99',
      'e2eMax',
      ...LATENCY_STAGES.map((stage) => `stage:${stage}` as const),
      'throughput',
      'recorded',
      ...OUTCOME_SERIES.map((outcome) => `outcome:${outcome}` as const),
      'loopP99',
      'loopMax',
      'cpu',
      'heap',
      'rss',
      'botCpu',
      'botRss',
    ];
    for (const key of keys) this.series.set(key, new RingBuffer(capacity));
  }

  ring(key: SeriesKey): RingBuffer {
    const ring = this.series.get(key);
    if (!ring) throw new Error(`the scope has no series "${key}"`);
    return ring;
  }

  get length(): number {
    return this.ring('time').length;
  }

  /** The run the traces show: a replay's planned shape is drawn as `recorded` beside its throughput. */
  follow(run: RunInfo | null | undefined): void {
    const timeline = run?.replay?.timeline;
    this.planned = run && timeline ? { runId: run.id, bucketMs: timeline.bucketMs, counts: timeline.counts } : undefined;
  }

  /** The planned rate (per second) in the middle of a frame's interval; NaN when nothing was planned. */
  private plannedRate(frame: RunFrame): number {
    const planned = this.planned;
    if (!planned || planned.runId !== frame.runId) return Number.NaN;
    const middle = frame.atMs - frame.intervalMs / 2;
    const count = planned.counts[Math.floor(middle / planned.bucketMs)];
    return count === undefined ? Number.NaN : count / (planned.bucketMs / 1000);
  }

  /** Appends frames in order; a frame of another run starts the traces afresh. */
  ingest(frames: readonly RunFrame[]): void {
    for (const frame of frames) {
      if (frame.runId !== this.runId) this.reset(frame.runId);
      if (frame.sequence <= this.lastSequence) continue; // a replayed frame (console opened mid-run)
      this.lastSequence = frame.sequence;
      this.received++;
      const push = (key: SeriesKey, value: number | undefined): void => this.ring(key).push(value ?? Number.NaN);
      const e2e = frame.stages.e2e;
      push('time', frame.atMs / 1000);
      push('e2eP50', e2e && e2e.count > 0 ? e2e.p50 / NS_PER_MS : undefined);
      push('e2eP99', e2e && e2e.count > 0 ? e2e.p99 / NS_PER_MS : undefined);
      push('e2eMax', e2e && e2e.count > 0 ? e2e.max / NS_PER_MS : undefined);
      for (const stage of LATENCY_STAGES) {
        const statistics = frame.stages[stage];
        push(`stage:${stage}`, statistics && statistics.count > 0 ? statistics.p99 / NS_PER_MS : undefined);
      }
      push('throughput', frame.throughput);
      push('recorded', this.plannedRate(frame));
      push('outcome:accepted', frame.outcomes.accepted);
      push('outcome:failed', frame.outcomes.failed);
      for (const code of REJECTION_CODES) push(`outcome:${code}`, frame.outcomes.byCode[code] ?? 0);
      push('loopP99', frame.eventLoopDelay.p99 / NS_PER_MS);
      push('loopMax', frame.eventLoopDelay.max / NS_PER_MS);
      push('cpu', frame.cpuPercent);
      push('heap', frame.heapUsedBytes / BYTES_PER_MIB);
      push('rss', frame.rssBytes / BYTES_PER_MIB);
      // Black box: the bot's process tree, beside cvlab's own (NaN, not drawn, when it is not watched).
      push('botCpu', frame.bot?.cpuPercent);
      push('botRss', frame.bot ? frame.bot.rssBytes / BYTES_PER_MIB : undefined);
    }
    this.changed();
  }

  /** Shows `run` from now on: cleared unless its frames are already here (they may come before word of its start). */
  begin(run: RunInfo): void {
    if (this.runId !== run.id) this.reset(run.id);
    this.follow(run);
  }

  reset(runId: string | undefined): void {
    for (const ring of this.series.values()) ring.clear();
    this.runId = runId;
    this.lastSequence = -1;
    this.changed();
  }
}

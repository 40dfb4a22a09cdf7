import type { FrameStageStatistics, RunFrame } from '../../../shared/run';
import { METRIC_STAGES, type MetricStage } from '../../../shared/scenario';

/** A frame that some instance has not sent this many intervals later is merged without it. */
const LAG_FRAMES = 3;

/**
 * One run's interval frames from its instances' frames: frame k of the run is frame k of every
 * instance (they start at one Redis time), counts and CPU added up over the processes, stage
 * percentiles those of the worst instance (percentiles cannot be added; the merged
 * histograms in the summary give the exact figures at the end).
 */
export class InstanceFrameMerger {
  private readonly pending = new Map<number, Map<string, RunFrame>>();
  private readonly agents = new Set<string>();
  private readonly gone = new Set<string>();
  private nextSequence = 0;

  constructor(
    private readonly runId: string,
    private readonly emit: (frame: RunFrame) => void,
  ) {}

  /** The instances that run shares (from the assignment): frame k waits for each of them. */
  expect(agentIds: readonly string[]): void {
    for (const agentId of agentIds) if (!this.gone.has(agentId)) this.agents.add(agentId);
    this.flush(false);
  }

  /** One instance's frame. */
  add(agentId: string, frame: RunFrame): void {
    if (this.gone.has(agentId) || frame.sequence < this.nextSequence) return;
    this.agents.add(agentId);
    let frames = this.pending.get(frame.sequence);
    if (!frames) this.pending.set(frame.sequence, (frames = new Map()));
    frames.set(agentId, frame);
    this.flush(false);
  }

  /** An instance finished or was lost: later frames are merged without waiting for it. */
  remove(agentId: string): void {
    this.gone.add(agentId);
    this.agents.delete(agentId);
    this.flush(false);
  }

  /** Merges what is left (the run ended). */
  finish(): void {
    this.flush(true);
  }

  private flush(force: boolean): void {
    const newest = Math.max(-1, ...this.pending.keys());
    for (const sequence of [...this.pending.keys()].sort((a, b) => a - b)) {
      const frames = this.pending.get(sequence) as Map<string, RunFrame>;
      const complete = [...this.agents].every((agentId) => frames.has(agentId));
      if (!force && !complete && newest - sequence < LAG_FRAMES) return;
      this.pending.delete(sequence);
      this.nextSequence = sequence + 1;
      this.emit(mergeFrames(this.runId, sequence, [...frames.values()]));
    }
  }
}

/** Adds the instances' frames of one interval (see InstanceFrameMerger for what is added and what is the worst). */
export function mergeFrames(runId: string, sequence: number, frames: readonly RunFrame[]): RunFrame {
  const sum = (pick: (frame: RunFrame) => number): number => frames.reduce((total, frame) => total + pick(frame), 0);
  const max = (pick: (frame: RunFrame) => number): number => frames.reduce((most, frame) => Math.max(most, pick(frame)), 0);
  const byCode: Record<string, number> = {};
  for (const frame of frames) for (const [code, count] of Object.entries(frame.outcomes.byCode)) byCode[code] = (byCode[code] ?? 0) + count;
  const stages: Partial<Record<MetricStage, FrameStageStatistics>> = {};
  for (const stage of METRIC_STAGES) {
    const parts = frames.flatMap((frame) => (frame.stages[stage] ? [frame.stages[stage]] : []));
    if (parts.length === 0) continue;
    const worst = (pick: (part: FrameStageStatistics) => number): number => parts.reduce((most, part) => Math.max(most, pick(part)), 0);
    stages[stage] = { count: parts.reduce((total, part) => total + part.count, 0), p50: worst((part) => part.p50), p95: worst((part) => part.p95), p99: worst((part) => part.p99), max: worst((part) => part.max) };
  }
  const roundTrips = frames.flatMap((frame) => (frame.redisRoundTrip !== undefined ? [frame.redisRoundTrip] : []));
  return {
    runId,
    sequence,
    atMs: max((frame) => frame.atMs),
    intervalMs: max((frame) => frame.intervalMs),
    sent: sum((frame) => frame.sent),
    completed: sum((frame) => frame.completed),
    throughput: sum((frame) => frame.throughput),
    inFlight: sum((frame) => frame.inFlight),
    late: sum((frame) => frame.late),
    outcomes: { accepted: sum((frame) => frame.outcomes.accepted), rejected: sum((frame) => frame.outcomes.rejected), failed: sum((frame) => frame.outcomes.failed), byCode },
    stages,
    eventLoopDelay: { p50: max((frame) => frame.eventLoopDelay.p50), p99: max((frame) => frame.eventLoopDelay.p99), max: max((frame) => frame.eventLoopDelay.max) },
    // Summed over the instances' processes, as the summary's CPU figures are.
    cpuPercent: sum((frame) => frame.cpuPercent),
    heapUsedBytes: sum((frame) => frame.heapUsedBytes),
    rssBytes: sum((frame) => frame.rssBytes),
    ...(roundTrips.length > 0 ? { redisRoundTrip: Math.max(...roundTrips) } : {}),
    limiterFallbacks: sum((frame) => frame.limiterFallbacks),
    // The run is degraded while any instance is; the word of the first that says so.
    ...degradedOf(frames),
  };
}

function degradedOf(frames: readonly RunFrame[]): Pick<RunFrame, 'degraded' | 'degradedReason'> {
  if (frames.some((frame) => frame.degraded === undefined)) return {};
  const degraded = frames.find((frame) => frame.degraded === true);
  const said = degraded ?? frames.find((frame) => frame.degradedReason);
  return { degraded: degraded !== undefined, ...(said?.degradedReason ? { degradedReason: said.degradedReason } : {}) };
}

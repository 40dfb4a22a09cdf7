import type { RunFrame } from '../../../shared/run';

/** About an hour of 100 ms frames; older frames are thinned beyond it, never the newest. */
export const DEFAULT_FRAMES_KEPT = 36_000;

/**
 * The frames of the run going on and of the last finished run, kept by the engine so that a
 * console opened (or reloaded) at any time can draw the whole run. Bounded: past `capacity`
 * the older half is thinned to every other frame, so a long soak keeps its shape.
 */
export class RunFrameHistory {
  private current: RunFrame[] = [];
  private currentRunId: string | undefined;
  private last: RunFrame[] = [];

  constructor(private readonly capacity = DEFAULT_FRAMES_KEPT) {}

  /** A run starts: the previous run's frames become the last run's. */
  start(runId: string): void {
    if (this.currentRunId === runId) return;
    if (this.currentRunId !== undefined) this.last = this.current;
    this.current = [];
    this.currentRunId = runId;
  }

  push(frame: RunFrame): void {
    if (frame.runId !== this.currentRunId) this.start(frame.runId);
    this.current.push(frame);
    if (this.current.length > this.capacity) {
      const half = Math.floor(this.current.length / 2);
      this.current = this.current.filter((_frame, index) => index >= half || index % 2 === 0);
    }
  }

  /** The run ended: its frames are the last run's until the next one starts. */
  finish(runId: string): void {
    if (this.currentRunId !== runId) return;
    this.last = this.current;
    this.current = [];
    this.currentRunId = undefined;
  }

  /** Frames with a sequence above `after`, oldest first, at most `count`: the run going on, else the last run. */
  after(after: number, count: number): RunFrame[] {
    const frames = this.currentRunId !== undefined ? this.current : this.last;
    let low = 0;
    let high = frames.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((frames[middle]?.sequence ?? 0) > after) high = middle;
      else low = middle + 1;
    }
    return frames.slice(low, low + count);
  }

  /** Every frame kept of the run going on (else of the last run), oldest first. */
  all(): readonly RunFrame[] {
    return this.currentRunId !== undefined ? this.current : this.last;
  }
}

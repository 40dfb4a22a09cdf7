import type { EdgeDirection } from '../../../shared/loopback';

// Pairs the probe's edges with the level changes the host sent. The converter keeps order, so
// edges come back in the order of their sends: an edge belongs to the oldest waiting send of
// its direction that was sent before it; waiting sends it jumps over were missed. An edge with
// no such send (a glitch, a change someone else made) is spurious.

export interface PendingSend {
  index: number;
  direction: EdgeDirection;
  /** Host µs since the run's epoch. */
  sentUs: number;
}

export type EdgeVerdict = { kind: 'matched'; send: PendingSend; missed: PendingSend[] } | { kind: 'spurious' };

/** Matches probe edges to sends in order, with a timeout for misses. */
export class EdgeMatcher {
  private readonly pending: PendingSend[] = [];
  private matchedCount = 0;
  private missedCount = 0;
  private spuriousCount = 0;

  /**
   * @param timeoutUs a send with no edge this long after it is a miss
   * @param earlyToleranceUs how far before its send an edge may be stamped and still match (clock-fit error)
   */
  constructor(
    private readonly timeoutUs: number,
    private readonly earlyToleranceUs = 2000,
  ) {}

  /** Records a level change that was just sent. */
  addSend(send: PendingSend): void {
    this.pending.push(send);
  }

  /** Classifies one edge, given its stamp mapped to host µs (or null when no clock fit exists yet). */
  matchEdge(direction: EdgeDirection, edgeHostUs: number | null): EdgeVerdict {
    for (let position = 0; position < this.pending.length; position += 1) {
      const send = this.pending[position] as PendingSend;
      if (edgeHostUs !== null && send.sentUs > edgeHostUs + this.earlyToleranceUs) break;
      if (send.direction !== direction) continue;
      const missed = this.pending.splice(0, position + 1);
      missed.pop();
      this.matchedCount += 1;
      this.missedCount += missed.length;
      return { kind: 'matched', send, missed };
    }
    this.spuriousCount += 1;
    return { kind: 'spurious' };
  }

  /** Declares misses: sends older than the timeout at host time `nowUs`, or every one when `all`. */
  expire(nowUs: number, all = false): PendingSend[] {
    let count = 0;
    while (count < this.pending.length && (all || nowUs - (this.pending[count] as PendingSend).sentUs > this.timeoutUs)) count += 1;
    const missed = this.pending.splice(0, count);
    this.missedCount += missed.length;
    return missed;
  }

  get waiting(): number {
    return this.pending.length;
  }

  get counts(): { matched: number; misses: number; spurious: number } {
    return { matched: this.matchedCount, misses: this.missedCount, spurious: this.spuriousCount };
  }
}

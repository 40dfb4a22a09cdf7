import type { EdgeDirection } from '../../../shared/loopback';
import type { ProbeSendRecord } from '../common/engine-protocol';

// Chat → CV: pairs the probe's edges with the probe viewers' messages. Unlike a loop-back run's
// square wave, not every message moves the CV: the system under test may reject one (a limit, a
// bot's own rules), and the one after it then repeats the level the CV already has. So the
// messages are walked in order with the level they leave the CV at: a message passed on that
// changes the level expects an edge of its direction, and takes the next edge if it comes after
// its datagram; an edge of the other direction means its own never came (missed). An edge that
// comes before any message could explain it is unexplained. The level is unknown until the
// first message: then no edge means the CV was already there.

/** An edge as the probe reported it (its stamp on the probe's clock). */
export interface ProbeEdge {
  readonly direction: EdgeDirection;
  readonly probeUs: number;
}

/** A probe stamp on the host's monotonic clock (ns) through the clock fit as it stands; null before any fit. */
export type ProbeToHostNs = (probeUs: number) => number | null;

/** A message matched with the edge it caused. */
export interface MatchedProbeEdge {
  readonly send: ProbeSendRecord;
  readonly edge: ProbeEdge;
  /** The edge's host time (monotonic ns) through the fit when it was matched. */
  readonly hostNs: number;
}

export interface CvEdgeCounts {
  /** Probe messages with a known outcome. */
  sent: number;
  passedOn: number;
  notPassedOn: number;
  /** Passed on, and left the CV where it was (no edge expected). */
  noChange: number;
  matched: number;
  missed: number;
  unexplained: number;
}

/** Matches edges to probe messages in order, with the CV's level between them. */
export class CvEdgeMatcher {
  private readonly sends = new Map<number, ProbeSendRecord>();
  private readonly edges: ProbeEdge[] = [];
  private nextIndex = 0;
  private level: EdgeDirection | undefined;
  readonly counts: CvEdgeCounts = { sent: 0, passedOn: 0, notPassedOn: 0, noChange: 0, matched: 0, missed: 0, unexplained: 0 };

  /**
   * @param timeoutNs an expected edge not seen this long after its datagram is missed
   * @param earlyToleranceNs how far before its datagram an edge may be mapped and still count (clock-fit error)
   */
  constructor(
    /** Edges are mapped when they are judged, not when they come: the fit has the PINGs after them by then. */
    private readonly toHostNs: ProbeToHostNs,
    private readonly timeoutNs: number,
    private readonly earlyToleranceNs = 2_000_000,
  ) {}

  /** Probe messages whose outcome is known (any order: they are walked by index). */
  addSends(sends: readonly ProbeSendRecord[]): void {
    for (const send of sends) {
      if (send.index < this.nextIndex || this.sends.has(send.index)) continue;
      this.sends.set(send.index, send);
      this.counts.sent++;
      if (send.passedOn) this.counts.passedOn++;
      else this.counts.notPassedOn++;
    }
  }

  /** An edge from the probe (they come in the probe's order). */
  addEdge(edge: ProbeEdge): void {
    this.edges.push(edge);
  }

  /** Messages still waiting for their outcome or their edge. */
  get waiting(): number {
    return this.sends.size;
  }

  /**
   * Walks every message whose turn has come at host time `nowNs`; returns the matches made.
   * `final`: nothing more will come, so a message still without its edge is missed.
   */
  advance(nowNs: number, final = false): MatchedProbeEdge[] {
    const matches: MatchedProbeEdge[] = [];
    for (;;) {
      const send = this.sends.get(this.nextIndex);
      if (!send) {
        // A message whose outcome never came (the run ended first) is skipped at the end.
        if (final && this.sends.size > 0) {
          this.nextIndex = Math.min(...this.sends.keys());
          continue;
        }
        break;
      }
      const verdict = this.judge(send, nowNs, final);
      if (verdict === 'wait') break;
      if (verdict !== 'done') matches.push(verdict);
      this.sends.delete(send.index);
      this.nextIndex++;
    }
    if (final) {
      this.counts.unexplained += this.edges.length;
      this.edges.length = 0;
    }
    return matches;
  }

  private judge(send: ProbeSendRecord, nowNs: number, final: boolean): MatchedProbeEdge | 'done' | 'wait' {
    if (!send.passedOn) return 'done';
    if (this.level === send.direction) {
      this.counts.noChange++;
      return 'done';
    }
    const sentNs = send.oscNs ?? send.dueNs;
    let edge = this.edges[0];
    let edgeNs = edge ? this.toHostNs(edge.probeUs) : null;
    while (edge !== undefined && (edgeNs === null || edgeNs < sentNs - this.earlyToleranceNs)) {
      this.edges.shift();
      this.counts.unexplained++;
      edge = this.edges[0];
      edgeNs = edge ? this.toHostNs(edge.probeUs) : null;
    }
    const known = this.level !== undefined;
    if (edge === undefined || edgeNs === null) {
      if (!final && nowNs - sentNs <= this.timeoutNs) return 'wait';
      this.settle(send.direction, known);
      return 'done';
    }
    if (edge.direction !== send.direction) {
      // The next edge goes the other way: this message's own never came.
      this.settle(send.direction, known);
      return 'done';
    }
    this.edges.shift();
    this.level = send.direction;
    this.counts.matched++;
    return { send, edge, hostNs: edgeNs };
  }

  /** No edge for a message that should have moved the CV: missed, or (first message) the CV was there already. */
  private settle(direction: EdgeDirection, known: boolean): void {
    if (known) this.counts.missed++;
    else this.counts.noChange++;
    this.level = direction;
  }
}

import type { RigConfig } from '../../../shared/rig';
import type { ProbeLoad } from '../../../shared/scenario';
import type { ProbeSendRecord } from '../common/engine-protocol';
import { monotonicNs } from '../common/monotonic-clock';
import { ServiceUnreachableError } from '../../../shared/exit-codes';
import { ProbeError } from './probe-error';
import { CvEdgeMatcher, type MatchedProbeEdge } from './cv-edge-matcher';
import { testVariable, type LoopbackSession } from './loopback-session';

// The probe's side of chat → CV during a load run: arm the probe on the rig's test variable, keep
// its clock fitted, and match each edge with the probe viewer's message that caused it. Shaped as
// the run's CvProbe (lab/run/cv-probe.ts) without importing it: the run only knows the shape.

/** One match in the run's terms: monotonic ns. */
interface CvEdgeMatch {
  readonly index: number;
  readonly dueNs: number;
  readonly edgeNs: number;
  readonly oscNs?: number;
  readonly writtenNs?: number;
}

/** How often waiting messages are walked (an edge comes a few ms after its datagram). */
const ADVANCE_EVERY_MS = 10;
/** PINGs after the last edge, so the final fit brackets every edge. */
const BRACKET_MS = 250;
/** The probe is PINGed throughout: no line for this long means it is gone (generous: a load run keeps the host busy). */
const SILENCE_TIMEOUT_MS = 5000;
/** Half-width of the PING samples that map an edge while the run goes on (a local fit: a busy host's stalls elsewhere do not move it). */
const MATCH_FIT_WINDOW_US = 5e6;
/** Half-width of the PING samples that map one edge at the end (as a loop-back run's default). */
const FIT_WINDOW_US = 60e6;

/** A connected probe a load run can watch the test variable with. */
export class ChatToCvProbe {
  readonly variable: string;

  constructor(
    private readonly session: LoopbackSession,
    private readonly rig: RigConfig,
  ) {
    this.variable = testVariable(rig).name;
  }

  /** Arms the probe at the threshold and fits its clock; resolves once the run may begin. */
  async watch(load: ProbeLoad) {
    const variable = testVariable(this.rig);
    const thresholdMv = load.thresholdMv ?? Math.round(((variable.out.min + variable.out.max) / 2) * 1000);
    // Order decides a match; the early tolerance only absorbs a datagram stamped late (a preempted
    // engine thread on a busy host) or a rough early fit, and stays well inside the probe period.
    const mapper: { toHostNs: (probeUs: number, windowUs?: number) => number | null } = { toHostNs: () => null };
    const matcher = new CvEdgeMatcher((probeUs) => mapper.toHostNs(probeUs, MATCH_FIT_WINDOW_US), load.timeoutMs * 1e6, Math.min(100e6, 0.25e9 / load.rateHz));
    const matched: MatchedProbeEdge[] = [];
    const listeners = new Set<(match: CvEdgeMatch) => void>();
    const watch = await this.session
      .watchEdges({ thresholdMv, silenceTimeoutMs: SILENCE_TIMEOUT_MS }, (edge) => {
        matcher.addEdge({ direction: edge.direction, probeUs: edge.probeUs });
      })
      .catch((error: unknown) => {
        // The probe stopped answering before the run began: a needed device is unreachable (exit 3).
        throw error instanceof ProbeError ? new ServiceUnreachableError(`the loop-back probe on ${this.session.path}`, error.message) : error;
      });
    mapper.toHostNs = (probeUs, windowUs) => watch.toHostNs(probeUs, windowUs);
    const advance = (final = false): void => {
      for (const match of matcher.advance(monotonicNs(), final)) {
        matched.push(match);
        const live = toMatch(match, match.hostNs);
        for (const listener of listeners) listener(live);
      }
    };
    const timer = setInterval(() => advance(), ADVANCE_EVERY_MS);
    const hello = this.session.link;
    const path = this.session.path;
    const firmware = this.session.hello?.firmware;
    let finishing: Promise<{ matches: CvEdgeMatch[]; summary: ReturnType<typeof summarize> }> | undefined;
    const summarize = () => {
      const fit = watch.fit();
      const counts = matcher.counts;
      const problem = watch.problem;
      return {
        probe: { path, ...(firmware !== undefined ? { firmware } : {}), link: hello.kind },
        variable: variable.name,
        address: variable.address,
        thresholdMv,
        rateHz: load.rateHz,
        viewers: load.viewers,
        sent: counts.sent,
        passedOn: counts.passedOn,
        expectedEdges: counts.matched + counts.missed,
        matched: counts.matched,
        missed: counts.missed,
        unexplained: counts.unexplained,
        notPassedOn: counts.notPassedOn,
        clock: fit ? { boundUs: fit.boundUs, residualUs: fit.residualUs, samples: fit.samples, ...(fit.linkFit ? { linkFit: fit.linkFit } : {}) } : null,
        ...(problem !== undefined ? { problem } : {}),
      };
    };
    return {
      addSends: (sends: readonly ProbeSendRecord[]) => {
        matcher.addSends(sends);
        advance();
      },
      status: () => {
        const counts = matcher.counts;
        const problem = watch.problem;
        return {
          sent: counts.sent,
          matched: counts.matched,
          missed: counts.missed,
          unexplained: counts.unexplained,
          notPassedOn: counts.notPassedOn,
          boundUs: watch.fit()?.boundUs ?? null,
          ...(problem !== undefined ? { problem } : {}),
        };
      },
      onDidMatch: (listener: (match: CvEdgeMatch) => void) => {
        listeners.add(listener);
        return { dispose: () => listeners.delete(listener) };
      },
      finish: () => {
        finishing ??= (async () => {
          // The last messages' edges come a few ms after their datagrams; a lost one times out.
          const until = Date.now() + load.timeoutMs + 500;
          while (matcher.waiting > 0 && Date.now() < until && watch.problem === undefined) {
            advance();
            await sleep(ADVANCE_EVERY_MS);
          }
          if (watch.problem === undefined) await sleep(BRACKET_MS);
          clearInterval(timer);
          advance(true);
          watch.stop();
          listeners.clear();
          const matches = matched.map((match) => toMatch(match, watch.toHostNs(match.edge.probeUs, FIT_WINDOW_US) ?? match.hostNs));
          return { matches, summary: summarize() };
        })();
        return finishing;
      },
    };
  }
}

function toMatch(match: MatchedProbeEdge, edgeNs: number): CvEdgeMatch {
  const { send } = match;
  return {
    index: send.index,
    dueNs: send.dueNs,
    edgeNs,
    ...(send.oscNs !== undefined ? { oscNs: send.oscNs } : {}),
    ...(send.writtenNs !== undefined ? { writtenNs: send.writtenNs } : {}),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import type { ChatToCvProgress, ChatToCvSummary, CvDecomposition } from '../../../shared/run';
import type { ProbeLoad } from '../../../shared/scenario';
import type { ProbeSendRecord } from '../common/engine-protocol';

// Chat → CV as the run sees it: a probe that watches the rig's test variable during a run and
// matches each CV edge with the probe message that caused it. The probe itself (serial port,
// clock model) lives with the loop-back code; the run only hands it the probe messages' outcomes
// and records the matches as stages.

/** One probe message matched with the CV edge it caused; monotonic ns (the clock every thread shares). */
export interface CvEdgeMatch {
  readonly index: number;
  readonly dueNs: number;
  /** The edge on the probe, mapped to the host's clock through the clock model. */
  readonly edgeNs: number;
  readonly oscNs?: number;
  readonly writtenNs?: number;
}

/** Counts and the clock of a finished watch (the stages' percentiles come from the run's histograms). */
export type CvWatchSummary = Omit<ChatToCvSummary, 'decomposition'>;

/** A probe armed and watching for one run. */
export interface CvWatch {
  /** Probe messages whose outcome is known, in the order they came. */
  addSends(sends: readonly ProbeSendRecord[]): void;
  /** Counts so far and the clock's bound now (progress, a few times a second). */
  status(): ChatToCvProgress;
  /** Each match as it is made (mapped with the clock fit so far). */
  onDidMatch(listener: (match: CvEdgeMatch) => void): { dispose(): void };
  /**
   * Waits (bounded) for the last edges, stops watching, and maps every matched edge again with a
   * clock fit local to it, now that PINGs bracket the whole run.
   */
  finish(): Promise<{ matches: CvEdgeMatch[]; summary: CvWatchSummary }>;
}

/** A connected probe a run can use. */
export interface CvProbe {
  /** The rig's test variable the probe watches. */
  readonly variable: string;
  /** Arms the probe at the threshold and fits its clock: ready for the run's first probe message. */
  watch(load: ProbeLoad): Promise<CvWatch>;
}

/** p50 and p99 of each leg of the matched probe messages' path, ns (nearest rank: every figure is one measured edge). */
export function decomposeCv(matches: readonly CvEdgeMatch[]): CvDecomposition {
  const chatToOsc: number[] = [];
  const oscToCv: number[] = [];
  const chatToCv: number[] = [];
  const cv: number[] = [];
  for (const match of matches) {
    cv.push(match.edgeNs - match.dueNs);
    const chatNs = match.writtenNs ?? match.dueNs;
    chatToCv.push(match.edgeNs - chatNs);
    if (match.oscNs !== undefined) {
      chatToOsc.push(match.oscNs - chatNs);
      oscToCv.push(match.edgeNs - match.oscNs);
    }
  }
  const out: Record<string, number> = {};
  const put = (leg: 'chatToOsc' | 'oscToCv' | 'chatToCv' | 'cv', values: number[]): void => {
    if (values.length === 0) return;
    values.sort((a, b) => a - b);
    out[`${leg}P50`] = values[Math.floor((values.length - 1) / 2)] as number;
    out[`${leg}P99`] = values[Math.min(values.length - 1, Math.ceil(values.length * 0.99) - 1)] as number;
  };
  put('chatToOsc', chatToOsc);
  put('oscToCv', oscToCv);
  put('chatToCv', chatToCv);
  put('cv', cv);
  return out as CvDecomposition;
}

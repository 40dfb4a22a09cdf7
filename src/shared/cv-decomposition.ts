import type { CvDecomposition, StageStatistics } from './run';

/**
 * The chat → OSC → CV picture, laid out once for the console and the HTML report: one row per leg
 * of the probe messages' path, each placed where it starts on a shared time axis (OSC → CV starts
 * where chat → OSC ends, at p50), a solid bar to its p50 and a lighter one on to its p99; the CV
 * legs carry the clock fit's bound. Positions are fractions of the axis (0…1), so both renderers
 * size the picture to the width they have.
 */

export interface CvLegRow {
  readonly key: 'chatToOsc' | 'oscToCv' | 'chatToCv';
  /** "chat → OSC" (a bot) or "due → OSC" (cvlab's own pipeline), … */
  readonly label: string;
  /** What the leg is, in a few words. */
  readonly what: string;
  /** ns; undefined when no edge measured it. */
  readonly p50?: number;
  readonly p99?: number;
  /** Where the bar starts, its p50 end and its p99 end on the axis. */
  readonly start: number;
  readonly p50End: number;
  readonly p99End: number;
  /** This leg is timed on the probe: it carries the clock fit's bound. */
  readonly probeTimed: boolean;
}

export interface CvEdgeCounts {
  readonly matched: number;
  readonly missed: number;
  readonly unexplained: number;
  readonly notPassedOn: number;
  /** Absent while the run goes on (the watch knows it at the end). */
  readonly expectedEdges?: number;
}

export interface CvDecompositionLayout {
  readonly rows: readonly CvLegRow[];
  /** The axis' end, ns. */
  readonly axisNs: number;
  /** "± 42 µs" or "no clock fit yet". */
  readonly bound: string;
  /** "38 matched · 1 missed · 0 unexplained (of 39 expected) · 2 not passed on". */
  readonly edges: string;
  /** Every edge so far was matched and none is unexplained. */
  readonly edgesClean: boolean;
}

export interface CvDecompositionInput {
  /** A black-box run: the first leg is the bot's (chat line written → its datagram caught). */
  readonly blackBox: boolean;
  readonly decomposition: CvDecomposition | undefined;
  /** The run's stages, where a report saved before the decomposition kept p99s still has them. */
  readonly stages?: Readonly<Partial<Record<string, Pick<StageStatistics, 'p50' | 'p99'>>>>;
  readonly boundUs: number | null | undefined;
  readonly counts: CvEdgeCounts;
}

function formatMicroseconds(us: number): string {
  return us >= 100 ? Math.round(us).toLocaleString('en-US') : us.toFixed(1);
}

/** Lays out the legs of the chat → CV path on one axis; legs with no figure are left out. */
export function layoutCvDecomposition(input: CvDecompositionInput): CvDecompositionLayout {
  const path = input.decomposition ?? {};
  const stages = input.stages ?? {};
  const total = input.blackBox ? 'chatToCv' : 'cv';
  const first = {
    p50: path.chatToOscP50,
    p99: path.chatToOscP99 ?? (input.blackBox ? stages['chatToOsc']?.p99 : undefined),
  };
  const osc = { p50: path.oscToCvP50 ?? stages['oscToCv']?.p50, p99: path.oscToCvP99 ?? stages['oscToCv']?.p99 };
  const whole = {
    p50: (input.blackBox ? path.chatToCvP50 : path.cvP50) ?? stages[total]?.p50,
    p99: (input.blackBox ? path.chatToCvP99 : path.cvP99) ?? stages[total]?.p99,
  };
  const oscStart = first.p50 ?? 0;
  const ends = [first.p99, first.p50, whole.p99, whole.p50, osc.p99 === undefined ? undefined : oscStart + osc.p99, osc.p50 === undefined ? undefined : oscStart + osc.p50];
  const axisNs = Math.max(1, ...ends.filter((value): value is number => value !== undefined && Number.isFinite(value))) * 1.05;
  const at = (ns: number | undefined, fallback: number): number => (ns === undefined ? fallback : Math.min(1, Math.max(0, ns / axisNs)));
  const row = (key: CvLegRow['key'], label: string, what: string, leg: { p50?: number | undefined; p99?: number | undefined }, startNs: number, probeTimed: boolean): CvLegRow[] => {
    if (leg.p50 === undefined && leg.p99 === undefined) return [];
    const start = at(startNs, 0);
    const p50End = at(leg.p50 === undefined ? undefined : startNs + leg.p50, start);
    const p99End = Math.max(p50End, at(leg.p99 === undefined ? undefined : startNs + leg.p99, p50End));
    return [{ key, label, what, ...(leg.p50 !== undefined ? { p50: leg.p50 } : {}), ...(leg.p99 !== undefined ? { p99: leg.p99 } : {}), start, p50End, p99End, probeTimed }];
  };
  const rows = [
    ...row('chatToOsc', input.blackBox ? 'chat → OSC' : 'due → OSC', input.blackBox ? 'your bot: chat line written → its datagram caught' : "cvlab's pipeline: due → datagram sent", first, 0, false),
    ...row('oscToCv', 'OSC → CV', 'the converter and the link: datagram → CV edge', osc, oscStart, true),
    ...row('chatToCv', input.blackBox ? 'chat → CV' : 'due → CV', 'the whole path, timed on the probe', whole, 0, true),
  ];
  const counts = input.counts;
  const edges = `${counts.matched.toLocaleString('en-US')} matched · ${counts.missed.toLocaleString('en-US')} missed · ${counts.unexplained.toLocaleString('en-US')} unexplained${
    counts.expectedEdges !== undefined ? ` (of ${counts.expectedEdges.toLocaleString('en-US')} expected)` : ''
  } · ${counts.notPassedOn.toLocaleString('en-US')} probe messages not passed on`;
  return {
    rows,
    axisNs,
    bound: input.boundUs === null || input.boundUs === undefined ? 'no clock fit yet' : `± ${formatMicroseconds(input.boundUs)} µs`,
    edges,
    edgesClean: counts.missed === 0 && counts.unexplained === 0,
  };
}

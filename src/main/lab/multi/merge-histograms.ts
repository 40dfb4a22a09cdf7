import { encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { createHistogram, decodeHistogram } from '../common/create-histogram';

/**
 * Merges HdrHistograms sent as compressed base64 (one per instance) into one: counts are
 * added bucket by bucket, so the merged percentiles are those of one histogram fed every
 * sample. Percentiles are never averaged. Returns a histogram the caller must destroy().
 */
export function mergeHistograms(encoded: readonly (string | undefined)[]): Histogram {
  const merged = createHistogram();
  for (const base64 of encoded) {
    if (!base64) continue;
    const part = decodeHistogram(base64);
    try {
      merged.add(part);
    } finally {
      part.destroy();
    }
  }
  return merged;
}

/** Merges per-stage base64 histograms of several instances into per-stage base64 histograms. */
export function mergeEncodedStages<Stage extends string>(parts: readonly Readonly<Partial<Record<Stage, string>>>[]): Partial<Record<Stage, string>> {
  const stages = new Set<Stage>();
  for (const part of parts) for (const stage of Object.keys(part) as Stage[]) stages.add(stage);
  const out: Partial<Record<Stage, string>> = {};
  for (const stage of stages) {
    const merged = mergeHistograms(parts.map((part) => part[stage]));
    try {
      if (merged.totalCount > 0) out[stage] = encodeIntoCompressedBase64(merged);
    } finally {
      merged.destroy();
    }
  }
  return out;
}

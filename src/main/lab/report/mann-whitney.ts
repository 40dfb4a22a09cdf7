/** The result of a two-sided Mann-Whitney U test of `b` against `a`. */
export interface MannWhitneyResult {
  /** U of sample `b` (how often a `b` value exceeds an `a` value, ties counting half). */
  readonly u: number;
  readonly z: number;
  readonly pValue: number;
  /** Cliff's delta of `b` over `a`, in [-1, 1]: P(b > a) − P(b < a). */
  readonly cliffsDelta: number;
}

/** Complementary error function (Numerical Recipes' erfcc; relative error below 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * Mann-Whitney U (Wilcoxon rank-sum) with average ranks for ties, the tie-corrected normal
 * approximation and a continuity correction — the asymptotic form used for samples of more
 * than ~20 values, which is what a run's per-interval series gives.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error(`Mann-Whitney U needs two non-empty samples; got ${n1} and ${n2} values.`);
  const pooled = [...a.map((value) => ({ value, fromB: false })), ...b.map((value) => ({ value, fromB: true }))].sort((left, right) => left.value - right.value);
  const n = n1 + n2;
  let rankSumB = 0;
  let tieTerm = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && pooled[end + 1]!.value === pooled[start]!.value) end++;
    const averageRank = (start + end) / 2 + 1;
    const tied = end - start + 1;
    tieTerm += tied ** 3 - tied;
    for (let index = start; index <= end; index++) if (pooled[index]!.fromB) rankSumB += averageRank;
    start = end + 1;
  }
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  let z = 0;
  if (variance > 0) {
    const difference = u - mean;
    z = (difference - Math.sign(difference) * 0.5) / Math.sqrt(variance);
  }
  return { u, z, pValue: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)), cliffsDelta: (2 * u) / (n1 * n2) - 1 };
}

/** Median of a sample (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

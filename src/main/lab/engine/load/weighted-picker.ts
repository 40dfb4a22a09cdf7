import type { SeededRandom } from '../../common/seeded-random';

/**
 * Draws indices 0..n-1 with probability proportional to given weights (binary search over the
 * cumulative sums). Zipf-like skew: weight of rank k is 1 / (k+1)^exponent.
 */
export class WeightedPicker {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      sum += Math.max(0, weights[i] ?? 0);
      this.cumulative[i] = sum;
    }
    if (!(sum > 0)) throw new Error('expected at least one weight above 0');
    this.total = sum;
  }

  /** Weights 1/(k+1)^exponent for k in 0..n-1 (exponent 0: uniform). */
  static zipf(n: number, exponent: number): WeightedPicker {
    const weights = new Float64Array(n);
    for (let k = 0; k < n; k++) weights[k] = 1 / Math.pow(k + 1, exponent);
    return new WeightedPicker(weights);
  }

  get size(): number {
    return this.cumulative.length;
  }

  pick(random: SeededRandom): number {
    const target = random.next() * this.total;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.cumulative[middle] ?? 0) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

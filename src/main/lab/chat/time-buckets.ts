/** Most buckets kept; past it neighbours merge and each bucket spans twice as long. */
const MAX_BUCKETS = 4_000_000;

/**
 * Messages counted per bucket of time (100 ms to start with) from the earliest message on,
 * growing as the log goes on: memory follows the log's span, never its size.
 */
export class TimeBuckets {
  bucketMs: number;
  private counts = new Uint32Array(1024);
  private origin = Number.NaN;
  private used = 0;

  constructor(bucketMs = 100) {
    this.bucketMs = bucketMs;
  }

  add(timeMs: number): void {
    if (Number.isNaN(this.origin)) this.origin = Math.floor(timeMs / this.bucketMs) * this.bucketMs;
    if (timeMs < this.origin) this.prepend(timeMs);
    let index = Math.floor((timeMs - this.origin) / this.bucketMs);
    while (index >= MAX_BUCKETS) {
      this.coarsen();
      index = Math.floor((timeMs - this.origin) / this.bucketMs);
    }
    if (index >= this.counts.length) this.grow(index + 1);
    this.counts[index] = (this.counts[index] as number) + 1;
    if (index >= this.used) this.used = index + 1;
  }

  /** The counts from the earliest message's bucket to the latest's. */
  view(): Uint32Array {
    return this.counts.subarray(0, this.used);
  }

  private grow(needed: number): void {
    const grown = new Uint32Array(Math.min(MAX_BUCKETS, Math.max(needed, this.counts.length * 2)));
    grown.set(this.counts.subarray(0, this.used));
    this.counts = grown;
  }

  /** A message earlier than every one so far (a log not in time order): room is made in front. */
  private prepend(timeMs: number): void {
    const shift = Math.ceil((this.origin - timeMs) / this.bucketMs);
    while (this.used + shift >= MAX_BUCKETS) this.coarsen();
    const shifted = new Uint32Array(Math.max(this.counts.length, this.used + shift + 1));
    shifted.set(this.counts.subarray(0, this.used), shift);
    this.counts = shifted;
    this.used += shift;
    this.origin -= shift * this.bucketMs;
  }

  /** Each pair of buckets becomes one twice as long. */
  private coarsen(): void {
    const half = Math.ceil(this.used / 2);
    for (let index = 0; index < half; index++) this.counts[index] = (this.counts[2 * index] as number) + (this.counts[2 * index + 1] ?? 0);
    this.counts.fill(0, half);
    this.used = half;
    this.bucketMs *= 2;
  }
}

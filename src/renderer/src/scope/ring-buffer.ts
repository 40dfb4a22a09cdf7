/**
 * A fixed-size ring of numbers that hands out its contents, oldest first, as one contiguous
 * Float64Array without copying: every value is written twice, at i and i + capacity, so the
 * last `length` values always sit side by side. uPlot takes the view as a series directly.
 */
export class RingBuffer {
  private readonly values: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`RingBuffer capacity must be a whole number above 0, got ${capacity}`);
    this.values = new Float64Array(capacity * 2);
  }

  get length(): number {
    return this.count;
  }

  push(value: number): void {
    this.values[this.head] = value;
    this.values[this.head + this.capacity] = value;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The stored values, oldest first. A view into the buffer: valid until the next push. */
  view(): Float64Array {
    const start = this.count < this.capacity ? 0 : this.head;
    return this.values.subarray(start, start + this.count);
  }

  /** The most recent value, or NaN when empty. */
  last(): number {
    return this.count === 0 ? Number.NaN : (this.values[(this.head - 1 + this.capacity) % this.capacity] ?? Number.NaN);
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }
}

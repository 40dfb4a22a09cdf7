/**
 * A single-writer, single-reader ring in a SharedArrayBuffer through which the engine thread
 * tells the OSC tap (on another thread) about each datagram it is about to send: its due time
 * and a fingerprint of its bytes (FNV-1a hash and length). The writer never waits and never
 * posts a message; the reader matches arrivals against the ring in send order. A reader that
 * falls a whole ring behind counts the overwritten entries as unmatched.
 */

const HEADER_BYTES = 8;
/** Entries in the ring: 1 MiB, several seconds at any rate the engine reaches. */
export const TAP_RING_CAPACITY = 65_536;

/** Allocates the shared memory of a tap ring. */
export function createTapRingBuffer(capacity = TAP_RING_CAPACITY): SharedArrayBuffer {
  if ((capacity & (capacity - 1)) !== 0) throw new Error(`the tap ring's capacity must be a power of two, not ${capacity}`);
  return new SharedArrayBuffer(HEADER_BYTES + capacity * 16);
}

/** FNV-1a over a datagram's bytes: the tap recognizes a datagram without keeping a copy. */
export function fingerprintOf(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < bytes.length; index++) hash = Math.imul(hash ^ (bytes[index] as number), 0x01000193);
  return hash >>> 0;
}

class TapRingView {
  protected readonly header: Int32Array;
  protected readonly dueNs: Float64Array;
  protected readonly prints: Uint32Array;
  protected readonly mask: number;
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.capacity = (buffer.byteLength - HEADER_BYTES) / 16;
    this.mask = this.capacity - 1;
    this.header = new Int32Array(buffer, 0, 2);
    this.dueNs = new Float64Array(buffer, HEADER_BYTES, this.capacity);
    this.prints = new Uint32Array(buffer, HEADER_BYTES + this.capacity * 8, this.capacity * 2);
  }
}

/**
 * Engine side. Shaped as the pipeline's datagram tap (`expect` before each send), so the
 * pipeline announces datagrams without knowing the tap listens elsewhere.
 */
export class TapRingWriter extends TapRingView {
  private written = 0;
  /** Matching happens on the reader's side; these stay 0 here. */
  readonly matched = 0;
  readonly unmatched = 0;

  /** Announces a datagram about to be sent, due at `dueNs` (process.hrtime ns). */
  expect(dueNs: bigint | number, buffer: Uint8Array): void {
    const slot = this.written & this.mask;
    this.dueNs[slot] = typeof dueNs === 'number' ? dueNs : Number(dueNs);
    this.prints[slot * 2] = fingerprintOf(buffer);
    this.prints[slot * 2 + 1] = buffer.length;
    this.written = (this.written + 1) | 0;
    // The store publishes the entry: a reader that sees the new count sees the entry.
    Atomics.store(this.header, 0, this.written);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Tap side: finds the entry of an arrived datagram. */
export class TapRingReader extends TapRingView {
  private read = 0;
  matched = 0;
  unmatched = 0;

  /**
   * The due time of the datagram with this fingerprint, consuming it and up to `maxSkip`
   * entries before it (datagrams lost on the way, counted unmatched); undefined when none fits.
   */
  take(print: number, length: number, maxSkip: number): number | undefined {
    const written = Atomics.load(this.header, 0);
    let available = (written - this.read) | 0;
    if (available > this.capacity) {
      // Overwritten before the tap saw them.
      this.unmatched += available - this.capacity;
      this.read = (written - this.capacity) | 0;
      available = this.capacity;
    }
    for (let skipped = 0; available > 0 && skipped <= maxSkip; skipped++, available--) {
      const slot = this.read & this.mask;
      this.read = (this.read + 1) | 0;
      if (this.prints[slot * 2] === print && this.prints[slot * 2 + 1] === length) {
        this.matched++;
        return this.dueNs[slot];
      }
      this.unmatched++;
    }
    return undefined;
  }

  /** Entries announced and not yet seen (at the end of a run: datagrams the tap never heard). */
  pending(): number {
    return Math.min(this.capacity, (Atomics.load(this.header, 0) - this.read) | 0);
  }
}

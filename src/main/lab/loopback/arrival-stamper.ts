import type { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';

// serialport reads in two steps: the event loop's poller says the descriptor is readable, then
// fs.read runs on libuv's thread pool and the chunk comes back some tens to hundreds of
// microseconds later (more when the pool or the CPU is busy). A line's arrival is the first
// step, so the poller's 'readable' is stamped and given to the chunk read after it. Only the
// first line completed by that chunk gets the early stamp: bytes read with it may have landed
// after the poller fired, so later lines of the same chunk get the chunk's own (later, never
// too early) time. Without a poller (Windows bindings) every line gets the chunk's time.

/** Stamps lines read from a SerialPort with the moment their bytes made the port readable. */
export class ArrivalStamper {
  private readableNs: bigint | undefined;
  private chunkNs = 0n;
  private firstNs: bigint | undefined;

  /** Attaches to an open port's poller (when its binding has one). */
  constructor(port: SerialPort) {
    const poller = (port as unknown as { port?: { poller?: EventEmitter } }).port?.poller;
    // A plain listener: the binding's own once('readable') still drives the polling.
    poller?.on('readable', (error: Error | null) => {
      if (!error) this.readableNs = process.hrtime.bigint();
    });
  }

  /** Call as each chunk comes off the port, before its lines are parsed. */
  chunk(): void {
    this.chunkNs = process.hrtime.bigint();
    this.firstNs = this.readableNs ?? this.chunkNs;
    this.readableNs = undefined;
  }

  /** Arrival of the next line completed from the current chunk, hrtime ns. */
  line(): bigint {
    const at = this.firstNs ?? this.chunkNs;
    this.firstNs = undefined;
    return at;
  }
}

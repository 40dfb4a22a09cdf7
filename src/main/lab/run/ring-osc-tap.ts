import type { Socket } from 'node:dgram';
import { monotonicNs } from '../common/monotonic-clock';
import { bindTapSocket } from '../common/osc-tap';
import { fingerprintOf, TapRingReader } from '../common/tap-ring';

/** The longest run of announced datagrams skipped while looking for the one that arrived. */
const MAX_SKIP = 64;

/**
 * The OSC tap outside the engine thread: a UDP listener on the rig's tap port that stamps each
 * datagram's arrival and finds its due time in the tap ring the engine writes. Its latency is
 * still due time → datagram on the wire; the stamp includes this (host) thread's event-loop
 * delay, which the frames report beside it.
 */
export class RingOscTap {
  private constructor(
    private readonly socket: Socket,
    private readonly ring: TapRingReader,
  ) {}

  /** Listens on 127.0.0.1:port; `onArrival` gets due → wire (ns) and the due time. */
  static async listen(port: number, ringBuffer: SharedArrayBuffer, onArrival: (dueToWireNs: number, dueNs: number) => void): Promise<RingOscTap> {
    const socket = await bindTapSocket(port);
    const ring = new TapRingReader(ringBuffer);
    socket.on('message', (datagram) => {
      const arrivedNs = monotonicNs();
      const dueNs = ring.take(fingerprintOf(datagram), datagram.length, MAX_SKIP);
      if (dueNs !== undefined) onArrival(arrivedNs - dueNs, dueNs);
    });
    return new RingOscTap(socket, ring);
  }

  get matched(): number {
    return this.ring.matched;
  }

  /** Datagrams announced that the tap never heard (including those still awaited). */
  get unmatched(): number {
    return this.ring.unmatched + this.ring.pending();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

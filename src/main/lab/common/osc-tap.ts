import { createSocket, type Socket } from 'node:dgram';
import { ResourceUnavailableError } from '../../../shared/exit-codes';
import { monotonicNs } from './monotonic-clock';

/** The longest run of datagrams the tap will skip while looking for the one it expects. */
const MAX_SKIP = 64;
/** Sent datagrams still awaited by the tap (a power of two); older ones count as lost. */
const MAX_PENDING = 1 << 17;

/** FNV-1a over the datagram's bytes: a fingerprint that needs no copy of the datagram. */
export function datagramFingerprint(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < bytes.length; index++) {
    hash ^= bytes[index] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Binds the tap's UDP socket on 127.0.0.1:port, with a plain error when the port is taken. */
export async function bindTapSocket(port: number): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ResourceUnavailableError(`the OSC tap cannot listen on 127.0.0.1:${port}: the port is in use (change osc.tapPort in the rig)`)
          : error,
      ),
    );
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  return socket;
}

/**
 * A UDP listener on the rig's tap port that sees a copy of every datagram the pipeline sends and
 * notes when it arrived. Datagrams are matched to sends in order (loopback keeps order) and by
 * their length and fingerprint, so a lost datagram is counted instead of shifting every later
 * measurement. What it awaits lives in fixed typed arrays (due time, length, fingerprint): an
 * expectation costs no allocation, and the numbers can cross to another thread as they are.
 * Its arrival time includes the delay of the event loop it runs in, which the interval frames
 * report beside it.
 */
export class OscTap {
  private readonly dueNs = new Float64Array(MAX_PENDING);
  private readonly lengths = new Int32Array(MAX_PENDING);
  private readonly fingerprints = new Uint32Array(MAX_PENDING);
  /** Next expectation to match, and next free slot: counters, taken modulo MAX_PENDING. */
  private head = 0;
  private tail = 0;
  matched = 0;
  unmatched = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly onArrival: (dueToWireNs: number) => void,
  ) {
    socket.on('message', (datagram) => this.arrived(datagram, monotonicNs()));
  }

  static async listen(port: number, onArrival: (dueToWireNs: number) => void): Promise<OscTap> {
    return new OscTap(await bindTapSocket(port), onArrival);
  }

  /** Announces a datagram that is about to be sent, due at `dueNs` (monotonicNs clock). */
  expect(dueNs: number, bytes: Uint8Array): void {
    // A tap that hears nothing must not grow without bound over a long run.
    if (this.tail - this.head >= MAX_PENDING) {
      this.head++;
      this.unmatched++;
    }
    const slot = this.tail++ & (MAX_PENDING - 1);
    this.dueNs[slot] = dueNs;
    this.lengths[slot] = bytes.length;
    this.fingerprints[slot] = datagramFingerprint(bytes);
  }

  private arrived(datagram: Buffer, arrivedNs: number): void {
    // Empty datagrams are the output's start-up probe, never a message.
    if (datagram.length === 0) return;
    const fingerprint = datagramFingerprint(datagram);
    for (let skipped = 0; this.head < this.tail && skipped <= MAX_SKIP; skipped++) {
      const slot = this.head++ & (MAX_PENDING - 1);
      if (this.lengths[slot] === datagram.length && this.fingerprints[slot] === fingerprint) {
        this.matched++;
        this.onArrival(arrivedNs - (this.dueNs[slot] as number));
        return;
      }
      this.unmatched++;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

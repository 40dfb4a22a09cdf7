import { createSocket, type Socket } from 'node:dgram';

interface Expected {
  readonly dueNs: bigint;
  readonly buffer: Buffer;
}

/** The longest run of datagrams the tap will skip while looking for the one it expects. */
const MAX_SKIP = 64;
/** Sent datagrams still awaited by the tap; older ones count as lost. */
const MAX_PENDING = 100_000;

/**
 * A UDP listener on the rig's tap port that sees a copy of every datagram the pipeline sends and
 * notes when it arrived. Datagrams are matched to sends in order (loopback keeps order) and by
 * their bytes, so a lost datagram is counted instead of shifting every later measurement.
 * It runs in the engine's own event loop: under heavy load the arrival time includes that
 * loop's delay, which the interval frames report beside it.
 */
export class OscTap {
  private readonly pending: Expected[] = [];
  private head = 0;
  matched = 0;
  unmatched = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly onArrival: (dueToWireNs: number) => void,
  ) {
    socket.on('message', (datagram) => this.arrived(datagram, process.hrtime.bigint()));
  }

  static async listen(port: number, onArrival: (dueToWireNs: number) => void): Promise<OscTap> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`the OSC tap cannot listen on 127.0.0.1:${port}: the port is in use (change osc.tapPort in the rig)`)
            : error,
        ),
      );
      socket.bind(port, '127.0.0.1', () => resolve());
    });
    return new OscTap(socket, onArrival);
  }

  /** Announces a datagram that is about to be sent. */
  expect(dueNs: bigint, buffer: Buffer): void {
    // A tap that hears nothing must not grow without bound over a long run.
    if (this.pending.length - this.head >= MAX_PENDING) {
      this.head++;
      this.unmatched++;
      this.compact();
    }
    this.pending.push({ dueNs, buffer });
  }

  private arrived(datagram: Buffer, arrivedNs: bigint): void {
    for (let skipped = 0; this.head < this.pending.length && skipped <= MAX_SKIP; skipped++) {
      const expected = this.pending[this.head++]!;
      if (expected.buffer.equals(datagram)) {
        this.matched++;
        this.compact();
        this.onArrival(Number(arrivedNs - expected.dueNs));
        return;
      }
      this.unmatched++;
    }
    this.compact();
  }

  /** Drops consumed entries now and then instead of shifting the array on every datagram. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

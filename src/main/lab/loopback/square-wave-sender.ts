import { createSocket, type Socket } from 'node:dgram';
import { Message, encode } from 'node-osc';

// Sends the loop-back square wave: the test variable's OSC address set to its low or high
// output value. node-osc encodes (the project's OSC library); a node:dgram socket sends, so
// the send time can be taken right before socket.send and the kernel hand-off in its callback.

export interface LevelSend {
  /** hrtime ns right before socket.send. */
  sentNs: bigint;
  /** Resolves with the hrtime ns of the send callback (datagram handed to the kernel). */
  handedOff: Promise<bigint>;
}

/** A UDP sender of one OSC address at two levels. */
export class SquareWaveSender {
  private socket: Socket | undefined;
  private readonly low: Buffer;
  private readonly high: Buffer;

  constructor(
    private readonly host: string,
    private readonly port: number,
    address: string,
    lowValue: number,
    highValue: number,
  ) {
    // Always a float argument: node-osc would send 0 and 1 as OSC integers otherwise.
    this.low = encode(new Message(address, { type: 'float', value: lowValue }));
    this.high = encode(new Message(address, { type: 'float', value: highValue }));
  }

  /** Opens the socket (IPv6 when the host looks like one). */
  async open(): Promise<void> {
    if (this.socket) return;
    const socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(this.port, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
  }

  /** Sends one level; the returned send time is taken right before the datagram goes out. */
  send(level: 'low' | 'high'): LevelSend {
    const socket = this.socket;
    if (!socket) throw new Error('square-wave sender is not open: call open() first');
    const payload = level === 'high' ? this.high : this.low;
    let resolveHandOff: (ns: bigint) => void = () => undefined;
    const handedOff = new Promise<bigint>((resolve) => (resolveHandOff = resolve));
    const sentNs = process.hrtime.bigint();
    socket.send(payload, () => resolveHandOff(process.hrtime.bigint()));
    return { sentNs, handedOff };
  }

  /** Closes the socket. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}

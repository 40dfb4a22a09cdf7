import { createSocket, type Socket } from 'node:dgram';
import { decode } from 'node-osc';
import { Emitter, type Event } from '../../../../shared/emitter';
import { ServiceUnreachableError } from '../../../../shared/exit-codes';
import { monotonicNs } from '../../common/monotonic-clock';

/** One OSC message out of a datagram (bundles are flattened). */
export interface CaughtOscMessage {
  readonly address: string;
  readonly values: readonly (number | string | boolean | null)[];
}

/** One datagram as it arrived. */
export interface CaughtDatagram {
  /** monotonicNs() (process.hrtime ns) when the datagram's callback ran (the first thing it does). */
  readonly arrivedNs: number;
  readonly bytes: number;
  readonly bundle: boolean;
  readonly messages: readonly CaughtOscMessage[];
  /** Set when the bytes are not OSC 1.0; messages is then empty. */
  readonly decodeError?: string;
}

export interface OscCatcherOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Where each datagram is forwarded unchanged (the real converter), when given. */
  readonly forward?: { readonly host: string; readonly port: number };
}

export interface OscCatcherCounters {
  datagrams: number;
  messages: number;
  decodeErrors: number;
  forwarded: number;
  forwardErrors: number;
}

type DecodedElement = { oscType: 'message'; address: string; args: { value: unknown }[] } | { oscType: 'bundle'; elements: DecodedElement[] };

/**
 * Listens where the bot is told to send OSC, stamps each datagram on arrival, decodes its
 * messages and bundles with node-osc's decoder, and forwards the bytes unchanged to the real
 * converter so the rig keeps working during a run. The stamp is taken before anything else
 * (forwarding and decoding come after it).
 */
export class OscCatcher {
  private readonly datagramEmitter = new Emitter<CaughtDatagram>();
  readonly counters: OscCatcherCounters = { datagrams: 0, messages: 0, decodeErrors: 0, forwarded: 0, forwardErrors: 0 };

  /** Every datagram, stamped and decoded. */
  readonly onDidCatch: Event<CaughtDatagram> = this.datagramEmitter.event;

  private constructor(
    private readonly socket: Socket,
    private readonly forwardSocket: Socket | undefined,
    private readonly forward: OscCatcherOptions['forward'],
  ) {
    const address = socket.address();
    this.address = { host: address.address, port: address.port };
    socket.on('message', (datagram) => this.caught(datagram, monotonicNs()));
  }

  /** Binds the listener (a port in use is a ServiceUnreachableError naming it). */
  static async listen(options: OscCatcherOptions = {}): Promise<OscCatcher> {
    const host = options.host ?? '127.0.0.1';
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new ServiceUnreachableError(`the OSC listener on ${host}:${options.port ?? 0}`, 'the port is in use (choose another with --osc-listen)') : error),
      );
      socket.bind(options.port ?? 0, host, () => resolve());
    });
    let forwardSocket: Socket | undefined;
    if (options.forward) {
      forwardSocket = createSocket(options.forward.host.includes(':') ? 'udp6' : 'udp4');
      // A converter that is not up yet answers with ICMP errors: counted, never fatal.
      forwardSocket.on('error', () => undefined);
    }
    return new OscCatcher(socket, forwardSocket, options.forward);
  }

  /** Where bots send (kept after close, for the summary). */
  readonly address: { readonly host: string; readonly port: number };

  private caught(datagram: Buffer, arrivedNs: number): void {
    this.counters.datagrams++;
    if (this.forwardSocket && this.forward) {
      this.forwardSocket.send(datagram, this.forward.port, this.forward.host, (error) => {
        if (error) this.counters.forwardErrors++;
        else this.counters.forwarded++;
      });
    }
    let caught: CaughtDatagram;
    try {
      const decoded = decode(datagram) as DecodedElement;
      const messages: CaughtOscMessage[] = [];
      flatten(decoded, messages);
      this.counters.messages += messages.length;
      caught = { arrivedNs, bytes: datagram.length, bundle: decoded.oscType === 'bundle', messages };
    } catch (error) {
      this.counters.decodeErrors++;
      caught = { arrivedNs, bytes: datagram.length, bundle: false, messages: [], decodeError: error instanceof Error ? error.message : String(error) };
    }
    this.datagramEmitter.fire(caught);
  }

  async close(): Promise<void> {
    this.datagramEmitter.dispose();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    if (this.forwardSocket) await new Promise<void>((resolve) => this.forwardSocket?.close(() => resolve()));
  }
}

function flatten(element: DecodedElement, into: CaughtOscMessage[]): void {
  if (element.oscType === 'bundle') {
    for (const inner of element.elements) flatten(inner, into);
    return;
  }
  into.push({ address: element.address, values: element.args.map((arg) => arg.value as CaughtOscMessage['values'][number]) });
}

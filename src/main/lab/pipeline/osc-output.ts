import { createSocket, type Socket } from 'node:dgram';
import { Bundle, Message, encode } from 'node-osc';
import type { AppliedChange, SentPacket } from '../../../shared/message';
import type { RigConfig, VariableConfig } from '../../../shared/rig';
import { oscTypeTag, scaleToOutput } from './output-scale';

/** An encoded OSC packet, ready for the socket, with its human-readable form. */
export interface EncodedPacket {
  readonly buffer: Buffer;
  readonly packet: SentPacket;
}

/**
 * Encodes accepted changes with node-osc (one message per assignment, one bundle when a chat
 * message set several variables) and hands the datagram to the kernel.
 */
export class OscOutput {
  private readonly variables: ReadonlyMap<string, VariableConfig>;
  /**
   * Each variable's single-message packet as node-osc encodes it with a placeholder value. A
   * one-variable message (the common case) copies it and writes the float32 into its last four
   * bytes: the same bytes node-osc produces, without re-encoding the address on the hot path.
   */
  private readonly singleTemplates: ReadonlyMap<string, Buffer>;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
    private readonly port: number,
    private readonly mirrorPort: number | undefined,
    rig: RigConfig,
  ) {
    this.variables = new Map(rig.variables.map((variable) => [variable.name, variable]));
    this.singleTemplates = new Map(
      rig.variables
        .filter((variable) => oscTypeTag(variable) === 'f')
        .map((variable) => [variable.name, encode(new Message(variable.address, { type: 'f', value: 0 }))]),
    );
  }

  /**
   * Opens the UDP socket. The socket stays unconnected on purpose: a connected UDP socket turns
   * an ICMP "port unreachable" (no converter listening yet) into errors on later sends.
   */
  static async open(rig: RigConfig, options: { mirrorToTap?: boolean } = {}): Promise<OscOutput> {
    const family = rig.osc.host.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket({ type: family, sendBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A send error after open is reported through the send callback; keep the process alive.
    socket.on('error', () => undefined);
    const mirrorPort = options.mirrorToTap ? rig.osc.tapPort : undefined;
    return new OscOutput(socket, rig.osc.host, rig.osc.port, mirrorPort, rig);
  }

  /** Encodes the changes as one OSC message, or one bundle for several. */
  encode(changes: readonly AppliedChange[]): EncodedPacket {
    const only = changes.length === 1 ? changes[0]! : undefined;
    const template = only && this.singleTemplates.get(only.variable);
    if (only && template) {
      const variable = this.variables.get(only.variable)!;
      const value = scaleToOutput(variable, only.value);
      const buffer = Buffer.allocUnsafe(template.length);
      template.copy(buffer);
      buffer.writeFloatBE(value, template.length - 4);
      return {
        buffer,
        packet: { bundle: false, messages: [{ address: variable.address, typeTags: 'f', values: [value] }], bytes: buffer.length },
      };
    }
    const messages: { address: string; typeTags: string; values: number[] }[] = [];
    const oscMessages: Message[] = [];
    for (const change of changes) {
      const variable = this.variables.get(change.variable);
      if (!variable) throw new Error(`no variable "${change.variable}" in the rig`);
      const value = scaleToOutput(variable, change.value);
      const typeTag = oscTypeTag(variable);
      oscMessages.push(new Message(variable.address, { type: typeTag, value }));
      messages.push({ address: variable.address, typeTags: typeTag, values: [value] });
    }
    const bundle = oscMessages.length > 1;
    const buffer: Buffer = bundle ? encode(new Bundle(0, ...oscMessages)) : encode(oscMessages[0]);
    return { buffer, packet: { bundle, messages, bytes: buffer.length } };
  }

  /** Hands the datagram to the kernel; resolves when the kernel has taken it. */
  send(buffer: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the OSC output is closed'));
    if (this.mirrorPort !== undefined) this.socket.send(buffer, this.mirrorPort, '127.0.0.1');
    return new Promise((resolve, reject) => {
      this.socket.send(buffer, this.port, this.host, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

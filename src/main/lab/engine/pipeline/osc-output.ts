import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Bundle, Message, encode } from 'node-osc';
import { ServiceUnreachableError } from '../../../../shared/exit-codes';
import { ValidationError } from '../../../../shared/format-issues';
import type { AppliedChange, SentPacket } from '../../../../shared/message';
import type { RigConfig, VariableConfig } from '../../../../shared/rig';
import { oscTypeTag, OutputScale } from '../../common/output-scale';

/** An encoded OSC packet, ready for the socket; its human-readable form is decoded when read. */
export interface EncodedPacket {
  readonly buffer: Buffer;
  readonly packet: SentPacket;
}

/** The OSC target as resolved once at start: no name lookup ever happens per datagram. */
export interface ResolvedTarget {
  readonly host: string;
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

/** One send in this many carries a completion callback, so a failing target is seen (and counted) cheaply. */
const SEND_SAMPLE_EVERY = 64;
/** How long a name lookup of osc.host may take before the name service counts as unreachable. */
const LOOKUP_TIMEOUT_MS = 5000;
/** Error codes of a name that does not exist (bad input), as opposed to a name service that did not answer. */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'EAI_NONAME', 'ENODATA', 'EAI_NODATA', 'EAI_FAIL']);
/** Send errors that mean "the target is not there", not "the pipeline failed". */
const TARGET_ABSENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

/**
 * Resolves the rig's OSC host once. A name that does not exist is bad input naming `osc.host`
 * (exit 2); a name service that does not answer is a service problem (exit 3).
 */
export async function resolveOscTarget(rig: RigConfig): Promise<ResolvedTarget> {
  const { host, port } = rig.osc;
  const literal = isIP(host);
  if (literal !== 0) return { host, address: host, family: literal as 4 | 6, port };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), LOOKUP_TIMEOUT_MS);
    });
    // IPv4 first, as the tap and the probe emulator listen on IPv4 loopback.
    const found = await Promise.race([lookup(host, { verbatim: false }), timeout]);
    return { host, address: found.address, family: found.family === 6 ? 6 : 4, port };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    if (NO_SUCH_NAME.has(code)) {
      throw new ValidationError('the rig', [
        `osc.host: "${host}" does not resolve to an address (${code}): expected an IP address such as 127.0.0.1, or a name this machine can resolve (check the spelling, /etc/hosts or DNS)`,
      ]);
    }
    throw new ServiceUnreachableError(`the name service (looking up osc.host "${host}")`, `${code}; try the converter's IP address in osc.host`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Encodes accepted changes (one OSC message per assignment, one bundle when a chat message set
 * several variables, byte for byte what node-osc writes) and hands the datagram to the kernel.
 *
 * The socket is connected to the target resolved at start: no name lookup per datagram, and the
 * kernel reports a missing listener (ICMP port unreachable) as ECONNREFUSED. On the hot path
 * (sendNow) a datagram carries no callback; one in SEND_SAMPLE_EVERY does, which counts send
 * errors without a callback per message. Datagrams a missing listener swallows are the target's
 * loss, not the pipeline's: they are counted (targetAbsentSends) and the pipeline says so in
 * plain words. Nothing but OSC is ever sent to the target.
 */
export class OscOutput {
  private readonly variables: ReadonlyMap<string, VariableConfig>;
  /** Each variable's output scaling, in one shape for all (see OutputScale). */
  private readonly scales: ReadonlyMap<string, OutputScale>;
  /**
   * Each variable's single-message packet as node-osc encodes it with a placeholder value. A
   * one-variable message (the common case) writes its float32 into the last four bytes: the same
   * bytes node-osc produces, without re-encoding the address on the hot path. sendNow() replaces
   * a template whose datagram the kernel queued instead of sending at once.
   */
  private readonly singleTemplates = new Map<string, Buffer>();
  /** "#bundle\0" and the "immediately" time tag, as node-osc writes them. */
  private readonly bundleHeader: Buffer;
  private lastTemplateVariable = '';
  private readonly bundleBuffers = new Map<number, Buffer>();
  /** Size of the bundle encodeReusable() just wrote, 0 after a single message. */
  private lastBundleSize = 0;
  private sends = 0;
  private closed = false;
  /** Send errors seen on sampled datagrams and on process() sends, by kind. */
  sendErrors = 0;
  /** Datagrams the target refused or could not be reached for (ICMP errors: nothing listening, no route). */
  targetAbsentSends = 0;
  lastSendError: string | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly mirror: Socket | undefined,
    readonly target: ResolvedTarget,
    rig: RigConfig,
  ) {
    this.variables = new Map(rig.variables.map((variable) => [variable.name, variable]));
    this.scales = new Map(rig.variables.map((variable) => [variable.name, new OutputScale(variable)]));
    for (const variable of rig.variables) {
      if (oscTypeTag(variable) === 'f') this.singleTemplates.set(variable.name, encode(new Message(variable.address, { type: 'f', value: 0 })));
    }
    const probe = encode(new Bundle(0, new Message('/', { type: 'f', value: 0 })));
    this.bundleHeader = Buffer.from(probe.subarray(0, 16));
  }

  /**
   * Resolves the target (once) and opens a UDP socket connected to it; with `mirrorToTap`, a
   * second one connected to the tap on loopback gets a copy of every datagram.
   */
  static async open(rig: RigConfig, options: { mirrorToTap?: boolean; target?: ResolvedTarget } = {}): Promise<OscOutput> {
    const target = options.target ?? (await resolveOscTarget(rig));
    const errors = { handler: (_error: NodeJS.ErrnoException): void => undefined };
    const socket = await connectedSocket(target.family, target.port, target.address, (error) => errors.handler(error));
    let mirror: Socket | undefined;
    try {
      if (options.mirrorToTap && rig.osc.tapPort !== undefined) mirror = await connectedSocket(4, rig.osc.tapPort, '127.0.0.1');
    } catch (error) {
      socket.close();
      throw error;
    }
    const output = new OscOutput(socket, mirror, target, rig);
    errors.handler = (error) => output.noteSendError(error);
    return output;
  }

  /** Encodes the changes as one OSC message, or one bundle for several, in a buffer of its own. */
  encode(changes: readonly AppliedChange[]): EncodedPacket {
    const buffer = Buffer.from(this.encodeReusable(changes));
    return new DescribedPacket(buffer);
  }

  /**
   * encode() for the hot path: a one-variable message comes back in that variable's template,
   * rewritten in place. Send it with sendNow() before encoding the next message.
   */
  encodeReusable(changes: readonly AppliedChange[]): Buffer {
    if (changes.length === 1) {
      const only = changes[0] as AppliedChange;
      const template = this.templateOf(only.variable);
      writeOutputValue(template, template.length - 4, this.scales.get(only.variable) as OutputScale, only);
      this.lastTemplateVariable = only.variable;
      this.lastBundleSize = 0;
      return template;
    }
    this.lastTemplateVariable = '';
    return this.encodeBundle(changes);
  }

  /** The bundle written from the templates: header, then each message with its size in front. */
  private encodeBundle(changes: readonly AppliedChange[]): Buffer {
    if (changes.length === 0) throw new Error('no changes to encode');
    let size = this.bundleHeader.length;
    for (const change of changes) size += 4 + this.templateOf(change.variable).length;
    // Bundles of one size share a buffer, replaced like a template when the kernel queues it.
    let buffer = this.bundleBuffers.get(size);
    if (buffer === undefined) {
      buffer = Buffer.alloc(size);
      this.bundleBuffers.set(size, buffer);
    }
    this.lastBundleSize = size;
    this.bundleHeader.copy(buffer, 0);
    let offset = this.bundleHeader.length;
    for (const change of changes) {
      const template = this.templateOf(change.variable);
      buffer.writeInt32BE(template.length, offset);
      template.copy(buffer, offset + 4);
      offset += 4 + template.length;
      writeOutputValue(buffer, offset - 4, this.scales.get(change.variable) as OutputScale, change);
    }
    return buffer;
  }

  private templateOf(name: string): Buffer {
    const template = this.singleTemplates.get(name);
    if (!template) {
      if (!this.variables.has(name)) throw new Error(`no variable "${name}" in the rig`);
      throw new Error(`variable "${name}" has no float OSC form`);
    }
    return template;
  }

  /**
   * Hands the datagram to the kernel without waiting (no Promise, no callback but on sampled
   * sends). Throws only when the output is closed.
   */
  sendNow(buffer: Buffer): void {
    if (this.closed) throw new Error('the OSC output is closed');
    this.mirror?.send(buffer);
    if (++this.sends % SEND_SAMPLE_EVERY === 0) this.socket.send(buffer, this.afterSampledSend);
    else this.socket.send(buffer);
    // A datagram the kernel could not take at once waits in a queue: its bytes must not change.
    if (this.socket.getSendQueueCount() > 0 || (this.mirror?.getSendQueueCount() ?? 0) > 0) {
      if (this.lastTemplateVariable !== '') this.singleTemplates.set(this.lastTemplateVariable, Buffer.from(buffer));
      else if (this.lastBundleSize !== 0) this.bundleBuffers.delete(this.lastBundleSize);
    }
    this.lastTemplateVariable = '';
    this.lastBundleSize = 0;
  }

  /** Hands the datagram to the kernel; resolves when the kernel has taken it (or the target refused it). */
  send(buffer: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the OSC output is closed'));
    this.mirror?.send(buffer);
    return new Promise((resolve, reject) => {
      this.socket.send(buffer, (error) => {
        if (!error) return resolve();
        if (this.noteSendError(error)) return resolve();
        reject(error);
      });
    });
  }

  private readonly afterSampledSend = (error: Error | null): void => {
    if (error) this.noteSendError(error);
  };

  /** Counts a send error; true when it only means the target is absent. */
  noteSendError(error: Error): boolean {
    const code = (error as NodeJS.ErrnoException).code ?? error.message;
    this.lastSendError = code;
    if (TARGET_ABSENT.has(code)) {
      this.targetAbsentSends++;
      return true;
    }
    this.sendErrors++;
    return false;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const mirror = this.mirror;
    return Promise.all([
      new Promise<void>((resolve) => this.socket.close(() => resolve())),
      mirror ? new Promise<void>((resolve) => mirror.close(() => resolve())) : undefined,
    ]).then(() => undefined);
  }
}

// One float32 and its bytes, reused: writing a value costs no call into Buffer's checks.
const float32 = new Float32Array(1);
const float32Bytes = new Uint8Array(float32.buffer);
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The same bytes as buffer.writeFloatBE(scaleToOutput(variable, change.value), offset), written
 * in place. It takes the change rather than its value and returns nothing: a double handed
 * across a call V8 does not inline is boxed on the heap, once per message.
 */
function writeOutputValue(buffer: Uint8Array, offset: number, scale: OutputScale, change: AppliedChange): void {
  float32[0] = scale.of(change.value);
  if (littleEndian) {
    buffer[offset] = float32Bytes[3] as number;
    buffer[offset + 1] = float32Bytes[2] as number;
    buffer[offset + 2] = float32Bytes[1] as number;
    buffer[offset + 3] = float32Bytes[0] as number;
  } else {
    buffer[offset] = float32Bytes[0] as number;
    buffer[offset + 1] = float32Bytes[1] as number;
    buffer[offset + 2] = float32Bytes[2] as number;
    buffer[offset + 3] = float32Bytes[3] as number;
  }
}

async function connectedSocket(family: 4 | 6, port: number, address: string, onError?: (error: NodeJS.ErrnoException) => void): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // A connected socket hears the target's ICMP errors as 'error' events: counted, never fatal.
  socket.on('error', onError ?? (() => undefined));
  return socket;
}

/** A packet whose human-readable form is decoded only when someone reads `packet`. */
class DescribedPacket implements EncodedPacket {
  private described: SentPacket | undefined;
  constructor(readonly buffer: Buffer) {}
  get packet(): SentPacket {
    this.described ??= describePacket(this.buffer);
    return this.described;
  }
}

/**
 * An OSC datagram decoded for people (`cvlab send`, the console): addresses, type tags and
 * values. Reads the forms this output writes: messages with f/i arguments, and bundles of them.
 */
export function describePacket(buffer: Buffer): SentPacket {
  const messages: { address: string; typeTags: string; values: number[] }[] = [];
  const bundle = buffer.length >= 8 && buffer.toString('latin1', 0, 8) === '#bundle\0';
  if (bundle) {
    let offset = 16;
    while (offset + 4 <= buffer.length) {
      const size = buffer.readInt32BE(offset);
      messages.push(readMessage(buffer.subarray(offset + 4, offset + 4 + size)));
      offset += 4 + size;
    }
  } else {
    messages.push(readMessage(buffer));
  }
  return { bundle, messages, bytes: buffer.length };
}

function readMessage(buffer: Buffer): { address: string; typeTags: string; values: number[] } {
  const readString = (start: number): [string, number] => {
    const end = buffer.indexOf(0, start);
    const stop = end < 0 ? buffer.length : end;
    // OSC strings are NUL-terminated and padded to a multiple of four bytes.
    return [buffer.toString('utf8', start, stop), (stop + 4) & ~3];
  };
  const [address, afterAddress] = readString(0);
  const [tags, afterTags] = readString(afterAddress);
  const typeTags = tags.startsWith(',') ? tags.slice(1) : tags;
  const values: number[] = [];
  let offset = afterTags;
  for (const tag of typeTags) {
    if (offset + 4 > buffer.length) break;
    values.push(tag === 'i' ? buffer.readInt32BE(offset) : buffer.readFloatBE(offset));
    offset += 4;
  }
  return { address, typeTags, values };
}

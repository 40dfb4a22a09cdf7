import { createHash } from 'node:crypto';
import type { ChatLogFormat } from '../../../../shared/chat-log';
import { detachedCopy } from '../../common/chat-log/chat-log-sink';
import { grownFloat64 } from '../../common/chat-log/chat-log-times';
import { readChatLog, type ChatLogReading } from '../../common/chat-log/read-chat-log';
import type { RecordedTimes } from '../../common/arrival-plan';
import type { GeneratedMessage } from './traffic-generator';

/** Texts are kept as UTF-8 in buffers of this size: off the JavaScript heap, so the collector never walks them. */
const TEXT_CHUNK_BYTES = 16 * 1024 * 1024;

function grownUint32(array: Uint32Array<ArrayBuffer>, needed: number): Uint32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Uint32Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

/** A stable stand-in for a viewer's name: the same name gives the same hash in every run and log. */
export function hashedViewerName(name: string): string {
  return `v_${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 12)}`;
}

/**
 * A chat log loaded for replay on the engine's thread, before the first message is due: each
 * message's time, its viewer (one name per viewer, hashed when asked) and its text as UTF-8 in
 * large buffers. Playing a message then reads memory only — no file, no parsing on the measured
 * thread while it runs — and costs one string for the text.
 */
export class RecordedChat implements RecordedTimes {
  private constructor(
    readonly times: Float64Array,
    readonly count: number,
    private readonly viewers: Uint32Array,
    private readonly chunkOf: Uint32Array,
    private readonly startOf: Uint32Array,
    private readonly lengthOf: Uint32Array,
    private readonly names: readonly string[],
    private readonly chunks: readonly Buffer[],
    readonly reading: ChatLogReading,
  ) {}

  /** Reads the whole log (ValidationError when it cannot be read or holds no message). */
  static async load(path: string, format: ChatLogFormat | 'auto', users: 'as-recorded' | 'hashed'): Promise<RecordedChat> {
    let times = new Float64Array(4096);
    let viewers = new Uint32Array(4096);
    let chunkOf = new Uint32Array(4096);
    let startOf = new Uint32Array(4096);
    let lengthOf = new Uint32Array(4096);
    const names: string[] = [];
    const viewerIndex = new Map<string, number>();
    const chunks: Buffer[] = [Buffer.allocUnsafe(TEXT_CHUNK_BYTES)];
    let chunk = chunks[0] as Buffer;
    let used = 0;
    let count = 0;
    const reading = await readChatLog(path, { format }, (timeMs, user, text) => {
      if (count === times.length) {
        const needed = count + 1;
        times = grownFloat64(times, needed);
        viewers = grownUint32(viewers, needed);
        chunkOf = grownUint32(chunkOf, needed);
        startOf = grownUint32(startOf, needed);
        lengthOf = grownUint32(lengthOf, needed);
      }
      let viewer = viewerIndex.get(user);
      if (viewer === undefined) {
        viewer = names.length;
        const name = detachedCopy(user);
        viewerIndex.set(name, viewer);
        names.push(users === 'hashed' ? hashedViewerName(name) : name);
      }
      // At most 3 bytes of UTF-8 per UTF-16 unit: a text that might not fit starts a new buffer.
      if (used + text.length * 3 > chunk.length) {
        chunk = Buffer.allocUnsafe(Math.max(TEXT_CHUNK_BYTES, text.length * 3));
        chunks.push(chunk);
        used = 0;
      }
      const written = chunk.write(text, used, 'utf8');
      times[count] = timeMs;
      viewers[count] = viewer;
      chunkOf[count] = chunks.length - 1;
      startOf[count] = used;
      lengthOf[count] = written;
      used += written;
      count++;
    });
    return new RecordedChat(times, count, viewers, chunkOf, startOf, lengthOf, names, chunks, reading);
  }

  /** Distinct viewers in the log. */
  get viewerCount(): number {
    return this.names.length;
  }

  /** The message at `ordinal` (its place in the file), as recorded. */
  message(ordinal: number): GeneratedMessage {
    const chunk = this.chunks[this.chunkOf[ordinal] as number] as Buffer;
    const start = this.startOf[ordinal] as number;
    return {
      user: this.names[this.viewers[ordinal] as number] as string,
      text: chunk.toString('utf8', start, start + (this.lengthOf[ordinal] as number)),
      kind: 'recorded',
    };
  }
}

import type { AppliedChange, Outcome, SentPacket, StageTimings } from '../../../shared/message';
import { VALIDATION_CODES, type RejectionCode } from '../../../shared/rejection';
import type { RigConfig } from '../../../shared/rig';
import { MessageValidator } from './message-validator';
import type { OutcomeRecord } from './outcome-record';
import { oscTypeTag, scaleToOutput } from './output-scale';
import { FAILED_CODE_INDEX, OUTCOME_CODES } from './engine-protocol';

/**
 * One interval's audit rows in compact raw form: numbers in a Float64Array, the messages' text
 * as UTF-8 in one byte array. The engine thread fills it with plain copies (no row objects, no
 * JSON) and transfers its buffers; the host decodes it into OutcomeRecords for the sink.
 */
export interface AuditBatch {
  readonly count: number;
  /** RECORD_FIELDS numbers per message. */
  readonly records: Float64Array<ArrayBuffer>;
  /** CHANGE_FIELDS numbers per applied change. */
  readonly changes: Float64Array<ArrayBuffer>;
  /** user, text and detail of each message, back to back (lengths in `records`). */
  readonly text: Uint8Array<ArrayBuffer>;
  /** Change writers first seen in this batch, in index order after those of earlier batches. */
  readonly newWriters: readonly string[];
}

const TIMED = ['validate', 'limit', 'store', 'encode', 'send', 'e2e'] as const satisfies readonly (keyof StageTimings)[];
// Record layout: completedAtNs, status, code index, six timings, change count, byte lengths of user/text/detail, packet bytes.
const AT = 0;
const STATUS = 1;
const CODE = 2;
const TIMINGS = 3;
const CHANGE_COUNT = TIMINGS + TIMED.length;
const USER_BYTES = CHANGE_COUNT + 1;
const TEXT_BYTES = USER_BYTES + 1;
const DETAIL_BYTES = TEXT_BYTES + 1;
const PACKET_BYTES = DETAIL_BYTES + 1;
const RECORD_FIELDS = PACKET_BYTES + 1;
const CHANGE_FIELDS = 4;
const ACCEPTED = 0;
const REJECTED = 1;
const FAILED = 2;

const codeIndex = new Map<string, number>(OUTCOME_CODES.map((code, index) => [code, index]));
/** Decided by the grammar alone: the host rewrites their detail from the text, so the engine never writes that prose. */
const GRAMMAR_CODES: ReadonlySet<string> = new Set(VALIDATION_CODES);

/** Engine side: appends each outcome's raw fields; take() hands the interval's batch over. */
export class AuditBatchWriter {
  private records: Float64Array<ArrayBuffer> = new Float64Array(RECORD_FIELDS * 1024);
  private changes: Float64Array<ArrayBuffer> = new Float64Array(CHANGE_FIELDS * 1024);
  private text: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);
  private count = 0;
  private changeCount = 0;
  private textBytes = 0;
  private readonly variableIndex: ReadonlyMap<string, number>;
  private readonly writers = new Map<string, number>();
  private newWriters: string[] = [];
  private readonly encoder = new TextEncoder();

  constructor(rig: RigConfig) {
    this.variableIndex = new Map(rig.variables.map((variable, index) => [variable.name, index]));
  }

  /** Copies one outcome's fields; `completedAtNs` on the monotonic clock. */
  add(user: string, text: string, outcome: Outcome, completedAtNs: number): void {
    if ((this.count + 1) * RECORD_FIELDS > this.records.length) this.records = grow(this.records, this.records.length * 2);
    const base = this.count++ * RECORD_FIELDS;
    const records = this.records;
    records[base + AT] = completedAtNs;
    const timings = outcome.timings;
    for (let index = 0; index < TIMED.length; index++) records[base + TIMINGS + index] = timings[TIMED[index]!] ?? Number.NaN;
    records[base + USER_BYTES] = this.appendText(user);
    records[base + TEXT_BYTES] = this.appendText(text);
    let changeCount = 0;
    let packetBytes = 0;
    if (outcome.status === 'accepted') {
      records[base + STATUS] = ACCEPTED;
      records[base + CODE] = -1;
      records[base + DETAIL_BYTES] = 0;
      // The pipeline may carry the datagram and decode `packet` only when read: take the length, not the decoding.
      packetBytes = (outcome as { readonly datagram?: Uint8Array }).datagram?.length ?? outcome.packet.bytes;
      for (const change of outcome.changes) this.addChange(change);
      changeCount = outcome.changes.length;
    } else if (outcome.status === 'rejected') {
      records[base + STATUS] = REJECTED;
      const code = outcome.rejection.code;
      records[base + CODE] = codeIndex.get(code) ?? -1;
      records[base + DETAIL_BYTES] = GRAMMAR_CODES.has(code) ? 0 : this.appendText(outcome.rejection.detail);
    } else {
      records[base + STATUS] = FAILED;
      records[base + CODE] = FAILED_CODE_INDEX;
      records[base + DETAIL_BYTES] = this.appendText(outcome.error);
    }
    records[base + CHANGE_COUNT] = changeCount;
    records[base + PACKET_BYTES] = packetBytes;
  }

  get size(): number {
    return this.count;
  }

  /** The batch so far (its buffers are the batch's own: transfer them); the writer starts afresh. */
  take(): AuditBatch {
    const batch: AuditBatch = {
      count: this.count,
      records: this.records.slice(0, this.count * RECORD_FIELDS),
      changes: this.changes.slice(0, this.changeCount * CHANGE_FIELDS),
      text: this.text.slice(0, this.textBytes),
      newWriters: this.newWriters,
    };
    this.count = 0;
    this.changeCount = 0;
    this.textBytes = 0;
    this.newWriters = [];
    return batch;
  }

  private addChange(change: AppliedChange): void {
    if ((this.changeCount + 1) * CHANGE_FIELDS > this.changes.length) this.changes = grow(this.changes, this.changes.length * 2);
    let writer = this.writers.get(change.writer);
    if (writer === undefined) {
      writer = this.writers.size;
      this.writers.set(change.writer, writer);
      this.newWriters.push(change.writer);
    }
    const base = this.changeCount++ * CHANGE_FIELDS;
    this.changes[base] = this.variableIndex.get(change.variable) ?? -1;
    this.changes[base + 1] = change.value;
    this.changes[base + 2] = change.version;
    this.changes[base + 3] = writer;
  }

  /** UTF-8 bytes written (at most three per UTF-16 unit, so the room check is exact enough). */
  private appendText(value: string): number {
    const room = value.length * 3;
    if (this.textBytes + room > this.text.length) {
      const bigger = new Uint8Array(Math.max(this.text.length * 2, this.textBytes + room));
      bigger.set(this.text.subarray(0, this.textBytes));
      this.text = bigger;
    }
    const { written } = this.encoder.encodeInto(value, this.text.subarray(this.textBytes));
    this.textBytes += written;
    return written;
  }
}

function grow(array: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(length);
  bigger.set(array);
  return bigger;
}

/** Host side: turns batches back into OutcomeRecords, keeping the writer names seen so far. */
export class AuditBatchReader {
  private readonly writers: string[] = [];
  private readonly decoder = new TextDecoder();
  private readonly validator: MessageValidator;

  /**
   * @param rig the run's rig (variable names and output scaling, to rebuild each packet)
   * @param wallClockOffsetMs Date.now() − monotonic ms, measured once on the host
   */
  constructor(
    private readonly rig: RigConfig,
    private readonly wallClockOffsetMs: number,
  ) {
    this.validator = new MessageValidator(rig);
  }

  /** Calls `each` with every record of the batch, in completion order. */
  read(batch: AuditBatch, each: (record: OutcomeRecord) => void): void {
    this.writers.push(...batch.newWriters);
    const { records, changes, text } = batch;
    let textAt = 0;
    let changeAt = 0;
    const slice = (bytes: number): string => {
      const value = this.decoder.decode(text.subarray(textAt, textAt + bytes));
      textAt += bytes;
      return value;
    };
    for (let index = 0; index < batch.count; index++) {
      const base = index * RECORD_FIELDS;
      const timings: StageTimings = {};
      for (let stage = 0; stage < TIMED.length; stage++) {
        const value = records[base + TIMINGS + stage]!;
        if (!Number.isNaN(value)) timings[TIMED[stage]!] = value;
      }
      const user = slice(records[base + USER_BYTES]!);
      const messageText = slice(records[base + TEXT_BYTES]!);
      const detail = slice(records[base + DETAIL_BYTES]!);
      const status = records[base + STATUS];
      let outcome: Outcome;
      if (status === ACCEPTED) {
        const applied: AppliedChange[] = [];
        const count = records[base + CHANGE_COUNT]!;
        for (let change = 0; change < count; change++, changeAt += CHANGE_FIELDS) {
          const variable = this.rig.variables[changes[changeAt]!];
          applied.push({ variable: variable?.name ?? '?', value: changes[changeAt + 1]!, version: changes[changeAt + 2]!, writer: this.writers[changes[changeAt + 3]!] ?? '' });
        }
        outcome = { status: 'accepted', changes: applied, packet: this.packetOf(applied, records[base + PACKET_BYTES]!), timings };
      } else if (status === REJECTED) {
        const code = (OUTCOME_CODES[records[base + CODE]!] ?? 'bad_value') as RejectionCode;
        outcome = { status: 'rejected', rejection: { code, detail: GRAMMAR_CODES.has(code) ? this.grammarDetail(messageText, code) : detail }, timings };
      } else {
        outcome = { status: 'failed', error: detail, timings };
      }
      each({ user, text: messageText, atMs: this.wallClockOffsetMs + records[base + AT]! / 1e6, outcome });
    }
  }

  /** The validator is a pure function of text and rig: it says here what it said in the engine. */
  private grammarDetail(text: string, code: RejectionCode): string {
    const validation = this.validator.validate(text);
    return !validation.ok && validation.rejection.code === code ? validation.rejection.detail : `${code} (the validator here judged the text otherwise)`;
  }

  /** The packet as sent, rebuilt from the changes (the same scaling the output applied). */
  private packetOf(changes: readonly AppliedChange[], bytes: number): SentPacket {
    const messages = changes.map((change) => {
      const variable = this.rig.variables.find((candidate) => candidate.name === change.variable);
      return variable
        ? { address: variable.address, typeTags: oscTypeTag(variable), values: [scaleToOutput(variable, change.value)] }
        : { address: '', typeTags: 'f', values: [change.value] };
    });
    return { bundle: messages.length > 1, messages, bytes };
  }
}

import type { ChatMessage, Outcome } from '../../../../shared/message';
import { monotonicNs } from '../../common/monotonic-clock';
import type { ArrivalPlan, Arrival } from '../../common/arrival-plan';
import type { GeneratedMessage } from './traffic-generator';

export interface SchedulerOptions {
  readonly plan: ArrivalPlan;
  /** Makes the message for an arrival (the traffic generator). */
  readonly compose: (arrival: Arrival) => GeneratedMessage;
  /** Hands one message to the system under test; must not throw (a throw counts as failed). */
  readonly send: (message: ChatMessage) => Promise<Outcome>;
  /**
   * The callback form, preferred when given: `done` may be called at once (no Promise per
   * message) with an outcome that is only valid during the call; onOutcome reads it then.
   */
  readonly sendWith?: (message: ChatMessage, done: (outcome: Outcome) => void) => void;
  /** Called when a message starts: how late it started (actual − due, ns) and its due offset. */
  readonly onStart?: (slipNs: number, dueOffsetNs: number) => void;
  /** Called with each outcome and the message's due offset (ns after the run started). */
  readonly onOutcome: (outcome: Outcome, dueOffsetNs: number, message: GeneratedMessage) => void;
  /** A start later than this counts as not sent on time. Default 1 ms. */
  readonly slipToleranceNs?: number;
  /** Most messages started in one turn of the event loop before yielding. Default 256. */
  readonly batchSize?: number;
}

/**
 * One message on its way. Slots are pooled and their two handlers made once per slot, so a
 * message in flight costs no closure of its own.
 */
class InFlightSlot {
  dueOffsetNs = 0;
  message: GeneratedMessage | undefined;
  /** Its send threw before answering: a late answer must find it empty, so it is never reused. */
  retired = false;
  readonly resolved: (outcome: Outcome) => void;
  readonly rejected: (error: unknown) => void;

  constructor(scheduler: OpenModelScheduler) {
    this.resolved = (outcome) => scheduler.complete(this, outcome);
    this.rejected = (error) => scheduler.complete(this, { status: 'failed', error: `the pipeline threw: ${String(error)}`, timings: {} });
  }
}

/**
 * Open-model scheduling: every message is started when it is due, whether or not earlier ones
 * have finished (no coordinated omission), and its due time travels with it so end-to-end
 * latency counts any queueing. Batches of due messages go out per event-loop turn, yielding
 * with setImmediate in between; a setTimeout sleeps when the next message is far ahead.
 */
export class OpenModelScheduler {
  sent = 0;
  completed = 0;
  late = 0;
  private startNs = 0;
  private pending: Arrival | undefined;
  private stopped = false;
  private finished = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private resolveDone: (() => void) | undefined;
  private readonly done: Promise<void>;
  private readonly slipToleranceNs: number;
  private readonly batchSize: number;
  private readonly freeSlots: InFlightSlot[] = [];

  constructor(private readonly options: SchedulerOptions) {
    this.slipToleranceNs = options.slipToleranceNs ?? 1_000_000;
    this.batchSize = options.batchSize ?? 256;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get inFlight(): number {
    return this.sent - this.completed;
  }

  /** The run's time zero, process.hrtime ns. */
  get startedAtNs(): number {
    return this.startNs;
  }

  /** Starts sending; resolves when every planned message has an outcome (or after stop()). */
  run(startNs: number = monotonicNs()): Promise<void> {
    this.startNs = startNs;
    this.pending = this.options.plan.next();
    this.tick();
    return this.done;
  }

  /** Sends nothing more; resolves when the messages already sent have their outcomes. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    this.maybeFinish();
    return this.done;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped) return this.maybeFinish();
    const nowNs = monotonicNs();
    let started = 0;
    while (this.pending && started < this.batchSize) {
      const dueNs = this.startNs + this.pending.atNs;
      if (dueNs > nowNs) break;
      this.start(this.pending, dueNs);
      started++;
      this.pending = this.options.plan.next();
    }
    if (!this.pending) return this.maybeFinish();
    const waitNs = this.startNs + this.pending.atNs - monotonicNs();
    // Timers fire a millisecond late or more; only sleep on one when the next message is far off.
    if (started < this.batchSize && waitNs > 2_000_000) this.timer = setTimeout(this.tick, Math.floor(waitNs / 1e6) - 1);
    else this.timer = setImmediate(this.tick);
  };

  private start(arrival: Arrival, dueNs: number): void {
    const message = this.options.compose(arrival);
    const slipNs = monotonicNs() - dueNs;
    if (slipNs > this.slipToleranceNs) this.late++;
    this.sent++;
    this.options.onStart?.(slipNs, arrival.atNs);
    const slot = this.freeSlots.pop() ?? new InFlightSlot(this);
    slot.dueOffsetNs = arrival.atNs;
    slot.message = message;
    const chat: ChatMessage = { user: message.user, text: message.text, dueAtNs: dueNs };
    const sendWith = this.options.sendWith;
    if (sendWith) {
      try {
        sendWith(chat, slot.resolved);
      } catch (error) {
        if (slot.message !== undefined) {
          slot.retired = true;
          slot.rejected(error);
        }
      }
      return;
    }
    let promise: Promise<Outcome>;
    try {
      promise = this.options.send(chat);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(slot.resolved, slot.rejected);
  }

  /** A message's outcome is back (called by its slot). */
  complete(slot: InFlightSlot, outcome: Outcome): void {
    // Answered already (a callback send that threw after calling back): count it once.
    if (slot.message === undefined) return;
    const message = slot.message;
    const dueOffsetNs = slot.dueOffsetNs;
    slot.message = undefined;
    if (!slot.retired) this.freeSlots.push(slot);
    this.completed++;
    try {
      this.options.onOutcome(outcome, dueOffsetNs, message);
    } finally {
      this.maybeFinish();
    }
  }

  private maybeFinish(): void {
    if (this.finished || this.inFlight > 0) return;
    if (this.pending && !this.stopped) return;
    this.finished = true;
    this.resolveDone?.();
  }
}

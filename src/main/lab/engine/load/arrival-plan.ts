import { ValidationError } from '../../../../shared/format-issues';
import type { CapacitySearch, Executor, ReplayExecutor, ThinkTime } from '../../../../shared/scenario';
import { SeededRandom } from './seeded-random';

/** One planned message: when it is due (ns after the run starts) and, optionally, who sends it. */
export interface Arrival {
  readonly atNs: number;
  readonly user?: number;
  /** A probe viewer's message (chat → CV): its index among them. */
  readonly probe?: number;
}

/** The due times of a run, in order. Pulled one at a time so memory stays flat for any length. */
export interface ArrivalPlan {
  /** Messages the plan holds (an expected value for virtual users). */
  readonly plannedMessages: number;
  readonly plannedDurationMs: number;
  /** Capacity search: the step a due time belongs to, and each step's rate. */
  readonly steps?: { readonly durationNs: number; readonly rates: readonly number[] };
  next(): Arrival | undefined;
}

/** A stretch of time whose rate changes linearly from startRate to endRate (messages per second). */
export interface RateSegment {
  readonly startRate: number;
  readonly endRate: number;
  readonly durationMs: number;
}

/**
 * Arrivals of a piecewise-linear rate: the i-th message is due when the expected count
 * ∫rate reaches i, so a constant rate gives evenly spaced messages (as k6's arrival-rate
 * executors do) and a ramp gives exactly the planned count.
 */
export class SegmentedArrivals implements ArrivalPlan {
  readonly plannedMessages: number;
  readonly plannedDurationMs: number;
  private readonly starts: number[] = [];
  private readonly counts: number[] = [];
  private segment = 0;
  private index = 0;

  constructor(
    private readonly segments: readonly RateSegment[],
    readonly steps?: ArrivalPlan['steps'],
  ) {
    let cumulative = 0;
    let time = 0;
    for (const segment of segments) {
      this.starts.push(cumulative);
      cumulative += ((segment.startRate + segment.endRate) / 2) * (segment.durationMs / 1000);
      this.counts.push(cumulative);
      time += segment.durationMs;
    }
    // Round to absorb floating error (3000.0000000004 must plan 3000 messages, not 3001).
    this.plannedMessages = Math.ceil(Number(cumulative.toFixed(6)));
    this.plannedDurationMs = time;
  }

  next(): Arrival | undefined {
    if (this.index >= this.plannedMessages) return undefined;
    const target = this.index;
    while (this.segment < this.segments.length && target >= (this.counts[this.segment] ?? 0) - 1e-9) this.segment++;
    const segment = this.segments[this.segment];
    if (!segment) return undefined;
    let offsetMs = 0;
    for (let i = 0; i < this.segment; i++) offsetMs += this.segments[i]?.durationMs ?? 0;
    const n = target - (this.starts[this.segment] ?? 0);
    const seconds = segment.durationMs / 1000;
    const a = (segment.endRate - segment.startRate) / (2 * seconds);
    const b = segment.startRate;
    // Root of a·t² + b·t − n = 0, in the form that stays exact when a is 0.
    const root = Math.sqrt(Math.max(0, b * b + 4 * a * n));
    const t = n <= 0 ? 0 : 2 * n / (b + root);
    this.index++;
    return { atNs: Math.round((offsetMs + t * 1000) * 1e6) };
  }
}

/** Simulated viewers, each typing on their own clock (open model: nobody waits for the synth). */
export class VirtualUserArrivals implements ArrivalPlan {
  readonly plannedMessages: number;
  readonly plannedDurationMs: number;
  private readonly random: SeededRandom;
  /** Min-heap of (next due, user) over the users still in the room. */
  private readonly heapTimes: Float64Array;
  private readonly heapUsers: Int32Array;
  private heapSize = 0;
  private readonly leaveNs: Float64Array;

  constructor(
    private readonly users: number,
    private readonly thinkTime: ThinkTime,
    durationMs: number,
    rampUpMs: number,
    rampDownMs: number,
    seed: number,
  ) {
    this.random = new SeededRandom(seed ^ 0x5eed1);
    this.plannedDurationMs = durationMs;
    this.heapTimes = new Float64Array(users);
    this.heapUsers = new Int32Array(users);
    this.leaveNs = new Float64Array(users);
    let expected = 0;
    const mean = this.meanThinkMs();
    for (let user = 0; user < users; user++) {
      const joinMs = (rampUpMs * user) / users;
      const leaveMs = durationMs - (rampDownMs * user) / users;
      this.leaveNs[user] = leaveMs * 1e6;
      expected += Math.max(0, leaveMs - joinMs) / mean;
      this.push(joinMs * 1e6 + this.think() * 1e6, user);
    }
    this.plannedMessages = Math.round(expected);
  }

  next(): Arrival | undefined {
    while (this.heapSize > 0) {
      const atNs = this.heapTimes[0] as number;
      const user = this.heapUsers[0] as number;
      this.pop();
      if (atNs >= (this.leaveNs[user] as number)) continue;
      this.push(atNs + this.think() * 1e6, user);
      return { atNs: Math.round(atNs), user };
    }
    return undefined;
  }

  private meanThinkMs(): number {
    const think = this.thinkTime;
    if (think.distribution === 'uniform') return (think.minMs + (think.maxMs ?? think.meanMs * 2)) / 2;
    if (think.distribution === 'constant') return think.meanMs;
    return Math.max(think.minMs, think.meanMs);
  }

  private think(): number {
    const think = this.thinkTime;
    let value: number;
    if (think.distribution === 'constant') value = think.meanMs;
    else if (think.distribution === 'uniform') value = this.random.between(think.minMs, think.maxMs ?? think.meanMs * 2);
    else value = think.minMs + this.random.exponential(Math.max(1e-3, think.meanMs - think.minMs));
    return think.maxMs !== undefined ? Math.min(value, think.maxMs) : value;
  }

  private push(time: number, user: number): void {
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.heapTimes[parent] as number) <= time) break;
      this.heapTimes[i] = this.heapTimes[parent] as number;
      this.heapUsers[i] = this.heapUsers[parent] as number;
      i = parent;
    }
    this.heapTimes[i] = time;
    this.heapUsers[i] = user;
  }

  private pop(): void {
    const size = --this.heapSize;
    if (size === 0) return;
    const time = this.heapTimes[size] as number;
    const user = this.heapUsers[size] as number;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && (this.heapTimes[right] as number) < (this.heapTimes[left] as number) ? right : left;
      if ((this.heapTimes[child] as number) >= time) break;
      this.heapTimes[i] = this.heapTimes[child] as number;
      this.heapUsers[i] = this.heapUsers[child] as number;
      i = child;
    }
    this.heapTimes[i] = time;
    this.heapUsers[i] = user;
  }
}

/** K messages from M users, due uniformly at random inside a window. */
export class BurstArrivals implements ArrivalPlan {
  readonly plannedMessages: number;
  readonly plannedDurationMs: number;
  private readonly times: Float64Array;
  private readonly senders: Int32Array;
  private index = 0;

  constructor(messages: number, users: number, windowMs: number, seed: number) {
    const random = new SeededRandom(seed ^ 0xb0a51);
    this.plannedMessages = messages;
    this.plannedDurationMs = windowMs;
    this.times = new Float64Array(messages);
    for (let i = 0; i < messages; i++) this.times[i] = Math.round(random.next() * windowMs * 1e6);
    this.times.sort();
    this.senders = new Int32Array(messages);
    // Every one of the M users speaks at least once when K ≥ M; the rest are random.
    for (let i = 0; i < messages; i++) this.senders[i] = i < users ? i : random.int(users);
    for (let i = messages - 1; i > 0; i--) {
      const j = random.int(i + 1);
      const swap = this.senders[i] as number;
      this.senders[i] = this.senders[j] as number;
      this.senders[j] = swap;
    }
  }

  next(): Arrival | undefined {
    if (this.index >= this.plannedMessages) return undefined;
    const i = this.index++;
    return { atNs: this.times[i] as number, user: this.senders[i] as number };
  }
}

/** A chat log's message times in file order (ms, the log's own origin): what a replay plan is built from. */
export interface RecordedTimes {
  /** At least `count` long (a buffer may have room to spare). */
  readonly times: Float64Array;
  readonly count: number;
}

/** `3m 12.5s` for people (the plan's errors name offsets as the scenario writes them). */
function formatOffset(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const seconds = (ms - minutes * 60_000) / 1000;
  return minutes > 0 ? `${minutes}m ${Number(seconds.toFixed(1))}s` : `${Number(seconds.toFixed(3))}s`;
}

/**
 * A recorded chat log played back: each message of the window [from, to) is due at its offset
 * from `from` divided by `speed`; with `loop` the window starts again right after it ends until
 * `duration`. The arrival's `user` is the message's place in the file (the replay source looks
 * up who wrote what). Holds the order of the log's times and the window's offsets, never texts:
 * the host builds the same plan to know its count and duration before the run.
 */
export class ReplayArrivals implements ArrivalPlan {
  readonly plannedMessages: number;
  readonly plannedDurationMs: number;
  /** The window, ms after the log's first message. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Messages in one pass of the window. */
  readonly windowMessages: number;
  /** How long one pass of the window lasts in the log's time (the loop's period). */
  readonly windowLengthMs: number;
  private readonly order: Uint32Array;
  private readonly offsets: Float64Array;
  private readonly speed: number;
  private index = 0;

  constructor(recorded: RecordedTimes, executor: ReplayExecutor) {
    const { times, count } = recorded;
    if (count === 0) throw new ValidationError('replay', ['the chat log holds no message']);
    const order = new Uint32Array(count);
    let sorted = true;
    for (let index = 0; index < count; index++) {
      order[index] = index;
      if (index > 0 && (times[index] as number) < (times[index - 1] as number)) sorted = false;
    }
    // Logs are nearly always in time order already; a stable sort puts the rest in order.
    if (!sorted) order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
    const origin = times[order[0] as number] as number;
    const lastOffset = (times[order[count - 1] as number] as number) - origin;
    const offsetAt = (index: number): number => (times[order[index] as number] as number) - origin;
    const lowerBound = (offset: number): number => {
      let low = 0;
      let high = count;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (offsetAt(middle) < offset) low = middle + 1;
        else high = middle;
      }
      return low;
    };
    this.speed = executor.speed;
    this.fromMs = executor.from ?? 0;
    const start = lowerBound(this.fromMs);
    const end = executor.to === undefined ? count : lowerBound(executor.to);
    this.windowMessages = end - start;
    if (this.windowMessages === 0) {
      throw new ValidationError('replay window', [
        `from ${formatOffset(this.fromMs)}${executor.to !== undefined ? ` to ${formatOffset(executor.to)}` : ''} holds no message: the log's messages lie from 0s to ${formatOffset(lastOffset)} after its first one`,
      ]);
    }
    // Without "to" the window ends at the next whole second after its last message, so a loop
    // never plays two messages at once where the recording had none.
    this.windowLengthMs = executor.to !== undefined ? executor.to - this.fromMs : (Math.floor((lastOffset - this.fromMs) / 1000) + 1) * 1000;
    this.toMs = this.fromMs + this.windowLengthMs;
    this.order = order.subarray(start, end);
    this.offsets = new Float64Array(this.windowMessages);
    for (let index = 0; index < this.windowMessages; index++) this.offsets[index] = offsetAt(start + index) - this.fromMs;

    const within = (logMs: number): number => {
      let low = 0;
      let high = this.windowMessages;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((this.offsets[middle] as number) < logMs) low = middle + 1;
        else high = middle;
      }
      return low;
    };
    const runLogMs = executor.duration !== undefined ? executor.duration * this.speed : undefined;
    if (executor.loop && runLogMs !== undefined) {
      const passes = Math.floor(runLogMs / this.windowLengthMs);
      this.plannedMessages = passes * this.windowMessages + within(runLogMs - passes * this.windowLengthMs);
      this.plannedDurationMs = executor.duration as number;
    } else {
      this.plannedMessages = runLogMs !== undefined ? within(runLogMs) : this.windowMessages;
      const lastDue = this.plannedMessages > 0 ? (this.offsets[this.plannedMessages - 1] as number) / this.speed : 0;
      this.plannedDurationMs = executor.duration ?? Math.max(1, Math.ceil(lastDue));
    }
  }

  next(): Arrival | undefined {
    if (this.index >= this.plannedMessages) return undefined;
    const pass = Math.floor(this.index / this.windowMessages);
    const position = this.index - pass * this.windowMessages;
    this.index++;
    const logMs = (this.offsets[position] as number) + pass * this.windowLengthMs;
    return { atNs: Math.round((logMs / this.speed) * 1e6), user: this.order[position] as number };
  }
}

/**
 * Messages a plan has due in each bucket of `bucketMs` from the run's start (the plan is used
 * up): the shape a run should follow, drawn beside what it did.
 */
export function dueCounts(plan: ArrivalPlan, bucketMs: number): number[] {
  const counts = new Array<number>(Math.max(1, Math.ceil(plan.plannedDurationMs / bucketMs))).fill(0);
  const bucketNs = bucketMs * 1e6;
  for (let arrival = plan.next(); arrival; arrival = plan.next()) {
    const index = Math.floor(arrival.atNs / bucketNs);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
}

/** The segments of a capacity search: hold startRate, then +stepRate each step, up to maxRate. */
export function capacitySegments(search: CapacitySearch, capDurationMs: number): { segments: RateSegment[]; rates: number[] } {
  const rates: number[] = [];
  for (let rate = search.startRate; rate <= search.maxRate + 1e-9; rate += search.stepRate) rates.push(rate);
  const fitting = Math.max(1, Math.min(rates.length, Math.floor(capDurationMs / search.stepDuration)));
  const kept = rates.slice(0, fitting);
  return { segments: kept.map((rate) => ({ startRate: rate, endRate: rate, durationMs: search.stepDuration })), rates: kept };
}

/**
 * Builds the arrival plan of an executor (and of a capacity search over it). A replay's plan is
 * built from its log's times, read beforehand (`recorded`).
 */
export function createArrivalPlan(executor: Executor, seed: number, capacitySearch?: CapacitySearch, recorded?: RecordedTimes): ArrivalPlan {
  switch (executor.type) {
    case 'constant-arrival-rate': {
      if (capacitySearch) {
        const { segments, rates } = capacitySegments(capacitySearch, Math.max(executor.duration, capacitySearch.stepDuration));
        return new SegmentedArrivals(segments, { durationNs: capacitySearch.stepDuration * 1e6, rates });
      }
      return new SegmentedArrivals([{ startRate: executor.rate, endRate: executor.rate, durationMs: executor.duration }]);
    }
    case 'ramping-arrival-rate': {
      let previous = executor.startRate;
      const segments = executor.stages.map((stage) => {
        const segment = { startRate: previous, endRate: stage.target, durationMs: stage.duration };
        previous = stage.target;
        return segment;
      });
      return new SegmentedArrivals(segments);
    }
    case 'virtual-users':
      return new VirtualUserArrivals(executor.users, executor.thinkTime, executor.duration, executor.rampUp ?? 0, executor.rampDown ?? 0, seed);
    case 'burst':
      return new BurstArrivals(executor.messages, executor.users, executor.window, seed);
    case 'replay':
      if (!recorded) throw new Error(`a replay plan is built from its chat log's times: read ${executor.file} first`);
      return new ReplayArrivals(recorded, executor);
  }
}

import type { CapacitySearch, Executor, ThinkTime } from '../../../../shared/scenario';
import { SeededRandom } from './seeded-random';

/** One planned message: when it is due (ns after the run starts) and, optionally, who sends it. */
export interface Arrival {
  readonly atNs: number;
  readonly user?: number;
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

/** The segments of a capacity search: hold startRate, then +stepRate each step, up to maxRate. */
export function capacitySegments(search: CapacitySearch, capDurationMs: number): { segments: RateSegment[]; rates: number[] } {
  const rates: number[] = [];
  for (let rate = search.startRate; rate <= search.maxRate + 1e-9; rate += search.stepRate) rates.push(rate);
  const fitting = Math.max(1, Math.min(rates.length, Math.floor(capDurationMs / search.stepDuration)));
  const kept = rates.slice(0, fitting);
  return { segments: kept.map((rate) => ({ startRate: rate, endRate: rate, durationMs: search.stepDuration })), rates: kept };
}

/** Builds the arrival plan of an executor (and of a capacity search over it). */
export function createArrivalPlan(executor: Executor, seed: number, capacitySearch?: CapacitySearch): ArrivalPlan {
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
  }
}

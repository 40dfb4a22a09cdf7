// What the fan-out server sends each subscriber, and the clock both ends stamp with (subscribers may be other processes).

export interface FanoutMessage {
  /** Variable, value, version, writer. */
  readonly variable: string;
  readonly value: number;
  readonly version: number;
  readonly writer: string;
  /** When the change was accepted: epoch ms with sub-ms precision (performance.timeOrigin + now()). */
  readonly acceptedAtMs: number;
}

/** High-resolution wall clock, comparable across processes on one machine. */
export const fanoutClock = (): number => performance.timeOrigin + performance.now();

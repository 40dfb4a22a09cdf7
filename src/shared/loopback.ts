import { z } from 'zod';

// The hardware loop-back contract (DESIGN.md, "Hardware loop-back"): the text lines a probe
// and the host exchange, the options of a loop-back run and the results it produces.
// Runtime-agnostic so the console, the engine, the CLI and the report all share one shape.

/** Longest line either side may send; anything longer is counted as oversized and dropped. */
export const PROBE_LINE_MAX = 120;
/** The word a probe names itself with in its HELLO line. */
export const PROBE_IDENTITY = 'cvlab-probe';

const seq = z.number().int().min(0).max(4_294_967_295);
/** Probe clock stamps: whole microseconds, non-negative, exact in a double (firmware widens micros() to 64 bits). */
const probeMicroseconds = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const channel = z.number().int().min(0).max(15);

export const EdgeDirectionSchema = z.enum(['rise', 'fall']);
export type EdgeDirection = z.output<typeof EdgeDirectionSchema>;

/**
 * How the probe's serial line reaches the host: `usb` a native-USB board (no baud on the wire),
 * `uart` a UART behind a USB bridge, where each byte spends 10 bit times on the wire.
 */
export const ProbeLinkSchema = z.enum(['uart', 'usb']);
export type ProbeLink = z.output<typeof ProbeLinkSchema>;

/** A line the probe sends to the host, parsed. */
export const ProbeLineSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('hello'),
    firmware: z.string().min(1).max(32),
    adcBits: z.number().int().min(1).max(24),
    /** Protocol 1.1: how the probe is attached; absent from a 1.0 probe. */
    link: ProbeLinkSchema.optional(),
  }),
  z.object({
    kind: z.literal('pong'),
    seq,
    /** When the PING's last byte was read, probe µs. */
    rxUs: probeMicroseconds,
    /** Right before the PONG's first byte was written, probe µs (a 1.0 probe's three-field PONG: rxUs). */
    txUs: probeMicroseconds,
  }),
  z.object({ kind: z.literal('ok'), command: z.literal('ARM') }),
  z.object({
    kind: z.literal('edge'),
    channel,
    direction: EdgeDirectionSchema,
    probeUs: probeMicroseconds,
    millivolts: z.number().int().min(-100_000).max(100_000),
  }),
]);
export type ProbeLine = z.output<typeof ProbeLineSchema>;

/** A line the host sends to the probe, parsed (the emulator and the firmware read these). */
export const HostLineSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ping'), seq }),
  z.object({ kind: z.literal('arm'), channel, thresholdMv: z.number().int().min(-100_000).max(100_000) }),
  z.object({ kind: z.literal('hello?') }),
]);
export type HostLine = z.output<typeof HostLineSchema>;

/** Why a received line was not used. */
export const LineProblemSchema = z.enum(['garbage', 'partial', 'oversized', 'outOfOrder']);
export type LineProblem = z.output<typeof LineProblemSchema>;

export const LineCountsSchema = z.object({
  /** Lines parsed and used. */
  good: z.number().int().min(0),
  /** Lines that are not protocol at all (noise, another device, wrong baud). */
  garbage: z.number().int().min(0),
  /** Lines that start like a protocol line but are cut short or have a bad field. */
  partial: z.number().int().min(0),
  /** Lines longer than PROBE_LINE_MAX characters. */
  oversized: z.number().int().min(0),
  /** EDGE stamps earlier than the previous EDGE, or PONGs for a PING already answered or never sent. */
  outOfOrder: z.number().int().min(0),
  /** Good lines carrying trailing fields this version does not know (a newer probe): used, and counted. */
  extraFields: z.number().int().min(0).default(0),
});
export type LineCounts = z.output<typeof LineCountsSchema>;

/** How a loop-back run is driven. Every field has a default, so `{}` is a valid request. */
export const LoopbackOptionsSchema = z.object({
  /** Number of edges (rise and fall each count one). */
  edges: z.number().int().min(2, 'expected at least 2 edges').max(1_000_000).default(200),
  /** Square-wave frequency in Hz: two edges per period. */
  rateHz: z.number().positive('expected a rate above 0 Hz').max(500, 'expected at most 500 Hz').default(20),
  /** Probe ADC channel to arm. */
  channel: channel.default(0),
  /** Threshold for the probe; absent: halfway between the test variable's out.min and out.max. */
  thresholdMv: z.number().int().min(-100_000).max(100_000).optional(),
  /** An edge not seen this long after its send is a miss. */
  timeoutMs: z.number().positive().max(10_000).default(250),
  /** PING/PONG exchange before the run starts (clock fit). */
  calibrationMs: z.number().int().min(100).max(60_000).default(1500),
  /** Time between PINGs while calibrating. */
  calibrationPingIntervalMs: z.number().positive().max(1000).default(10),
  /**
   * About the time between PINGs during the run, placed between the sends; they carry the clock
   * fit across the run, so each edge is mapped by interpolation, not extrapolation.
   */
  runPingIntervalMs: z.number().positive().max(10_000).default(20),
  /** Time the level is held low before ARM, so the probe starts from a known state. */
  settleMs: z.number().int().min(0).max(10_000).default(150),
  /** No line from the probe for this long during a run (it is PINGed throughout): it went silent, the run ends. */
  silenceTimeoutMs: z.number().int().min(100).max(60_000).default(1500),
  /** How long to wait for HELLO after opening the port. */
  helloTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
  /** Half-width of the time window of PING samples used to map one edge (drift is not perfectly linear over hours). */
  fitWindowS: z.number().positive().max(86_400).default(60),
});
export type LoopbackOptions = z.output<typeof LoopbackOptionsSchema>;
export type LoopbackOptionsInput = z.input<typeof LoopbackOptionsSchema>;

/** A fitted map from host to probe clock: probe_us = offset + (1 + drift) · host_us. */
export const ClockFitSchema = z.object({
  /** Probe clock minus host clock at the fit's reference instant, µs. */
  offsetUs: z.number(),
  /** Probe clock rate relative to the host, parts per million (+: the probe runs fast). */
  driftPpm: z.number(),
  /** Root-mean-square distance of the kept samples from the fitted line, µs. */
  residualUs: z.number().min(0),
  /** PING/PONG samples collected and kept after minimum-round-trip filtering. */
  samples: z.number().int().min(0),
  kept: z.number().int().min(0),
  /** Smallest and median round trip among all samples, µs. */
  minRoundTripUs: z.number().min(0),
  medianRoundTripUs: z.number().min(0),
  /** Time span the kept samples cover, s. */
  spanS: z.number().min(0),
  /**
   * The exchanges bound the offset to ±boundUs around the fit (plus any fixed asymmetry of the
   * link, which no round-trip method can see); 0 when the bounds were not usable.
   */
  boundUs: z.number().min(0),
  /**
   * Whether the link's timing fits the model: `fits`; `slow-link` when even the quickest round
   * trip is far above what the link should take (a USB-serial latency timer holding replies);
   * `faster-than-wire` when replies come back quicker than a UART at the stated baud could carry
   * them (the link is native USB, or the baud is wrong); `loose` when the exchanges leave a wide
   * bound. Absent from fits made before protocol 1.1.
   */
  linkFit: z.enum(['fits', 'slow-link', 'faster-than-wire', 'loose']).optional(),
  /** Shortest round trip the link could give (serialisation both ways + the probe's turnaround), µs. */
  expectedMinRoundTripUs: z.number().min(0).optional(),
  /** Median turnaround the probe reported (tx − rx), µs: 0 for a 1.0 probe. */
  medianTurnaroundUs: z.number().min(0).optional(),
});
export type ClockFit = z.output<typeof ClockFitSchema>;

/** Percentiles of a set of latencies, µs, with how many values they rest on. */
export const LatencyStatsSchema = z.object({
  count: z.number().int().min(0),
  minUs: z.number(),
  p50Us: z.number(),
  p95Us: z.number(),
  p99Us: z.number(),
  maxUs: z.number(),
  meanUs: z.number(),
  stddevUs: z.number().min(0),
  /** Jitter as p99 − p50 (robust to a single outlier; stddevUs is beside it). */
  jitterUs: z.number().min(0),
});
export type LatencyStats = z.output<typeof LatencyStatsSchema>;

/** One sent level change and what came back for it. */
export const LoopbackEdgeSchema = z.object({
  index: z.number().int().min(0),
  direction: EdgeDirectionSchema,
  /** Host monotonic time the datagram was handed to the socket, µs since the run started. */
  sentUs: z.number(),
  /** Latency through the clock model, µs (edge on the probe, mapped to host time, minus send). */
  latencyUs: z.number().nullable(),
  /** Latency by host arrival of the EDGE line, µs: includes the serial link's delay and jitter. */
  arrivalLatencyUs: z.number().nullable(),
  probeUs: z.number().nullable(),
  millivolts: z.number().nullable(),
  /** Time from send() to the socket's send callback, µs (kernel hand-off). */
  sendCallbackUs: z.number().nullable(),
  status: z.enum(['matched', 'missed', 'pending']),
});
export type LoopbackEdge = z.output<typeof LoopbackEdgeSchema>;

export const LoopbackResultSchema = z.object({
  /** Wall-clock start, ISO 8601. */
  startedAt: z.string(),
  /** Host monotonic clock (process.hrtime) in µs at the run's zero: sentUs + epochHostUs is an hrtime instant. */
  epochHostUs: z.number(),
  durationS: z.number().min(0),
  rig: z.string(),
  variable: z.string(),
  address: z.string(),
  port: z.string(),
  probe: z.object({ firmware: z.string(), adcBits: z.number().int(), link: ProbeLinkSchema.optional() }).nullable(),
  /** The link as the clock model used it (rig or HELLO), with the USB-serial latency timer when known. */
  link: z
    .object({
      kind: ProbeLinkSchema,
      /** Where the kind came from: the rig's serial section, the probe's HELLO, or assumed (1.0 probe, no rig entry). */
      source: z.enum(['rig', 'hello', 'assumed']),
      baud: z.number().int().positive(),
      /** Linux USB-serial latency timer of the adapter, ms; null when there is none or it cannot be read. */
      latencyTimerMs: z.number().nullable(),
    })
    .optional(),
  /** The rig's latency target and whether the clock-model p99 met it (null: no edge measured). */
  target: z.object({ latencyMs: z.number().positive(), passed: z.boolean().nullable() }).optional(),
  /** Why the run stopped early, as a code the hosts word: the probe went silent, the port closed, or a request. */
  stopKind: z.enum(['silent', 'closed', 'requested']).nullable().optional(),
  options: LoopbackOptionsSchema,
  thresholdMv: z.number().int(),
  /** true when every edge was sent and waited for; false when the run stopped early. */
  complete: z.boolean(),
  /** Plain-words reason the run stopped early, or null. */
  stopReason: z.string().nullable(),
  sent: z.number().int().min(0),
  matched: z.number().int().min(0),
  misses: z.number().int().min(0),
  spurious: z.number().int().min(0),
  clock: ClockFitSchema.nullable(),
  /** Through the clock model: the figure to trust. */
  latency: LatencyStatsSchema.nullable(),
  /** By host arrival: larger error (serial link delay and its jitter are included). */
  arrivalLatency: LatencyStatsSchema.nullable(),
  arrivalErrorNote: z.string(),
  lines: LineCountsSchema,
  edges: z.array(LoopbackEdgeSchema),
});
export type LoopbackResult = z.output<typeof LoopbackResultSchema>;

/** Progress of a run, emitted as it goes. */
export interface LoopbackProgress {
  phase: 'connecting' | 'calibrating' | 'settling' | 'running' | 'draining' | 'done';
  sent: number;
  matched: number;
  misses: number;
  spurious: number;
  total: number;
}

/** The latency promise when the rig names none: a chat message moves the picture in under 10 ms. */
export const DEFAULT_LATENCY_TARGET_MS = 10;

/** A probe port as the port picker lists it. */
export const ProbePortSchema = z.object({
  path: z.string(),
  /** A probe answered HELLO on this port. */
  probe: z.object({ firmware: z.string(), adcBits: z.number().int(), link: ProbeLinkSchema.optional() }).optional(),
  /** A running `cvlab probe-emulator` serves this port. */
  emulator: z.object({ pid: z.number().int() }).optional(),
  /** Linux USB-serial latency timer, ms, where the adapter has one. */
  latencyTimerMs: z.number().optional(),
  manufacturer: z.string().optional(),
  serialNumber: z.string().optional(),
  vendorId: z.string().optional(),
  productId: z.string().optional(),
});
export type ProbePort = z.output<typeof ProbePortSchema>;

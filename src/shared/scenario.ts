import { z } from 'zod';
import { AlertRulesSchema } from './alerts';
import { ChatLogFormatSchema } from './chat-log';
import { REJECTION_CODES } from './rejection';
import { strictObject } from './strict-object';

/**
 * Load scenarios: what traffic to send, how fast, for how long, and what counts as passing.
 * Executors are named as k6 names them. Runtime-agnostic: parsed here, run in src/main/lab/load.
 */

// ---------------------------------------------------------------------------------------------
// Durations: "30s", "250ms", "2m", "1h", or a plain number of milliseconds.

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(ms|s|m|h)\s*$/i;

/** The longest duration a scenario may ask for: a week (a soak longer than that is a typo). */
export const MAX_DURATION_MS = 7 * 24 * 3_600_000;
/** Longest free text (descriptions) and names in scenario and rig files. */
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_NAME_LENGTH = 100;

/** Parses "30s", "250ms", "2m", "1h" (or a number of ms) into milliseconds; undefined when malformed. */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION_PATTERN.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (DURATION_UNITS_MS[(match[2] ?? '').toLowerCase()] ?? Number.NaN);
}

/** A duration written as "30s", "250ms", "2m", "1h" or a number of milliseconds; parsed to ms. */
export const DurationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a positive duration like "30s", "250ms" or "2m", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `too long: at most ${MAX_DURATION_MS / 3_600_000}h (a week), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** An offset into something recorded: like a duration, but 0 is allowed ("0s", "3m", "1h"). */
export const OffsetSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms > MAX_DURATION_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an offset like "0s", "3m" or "1h" (at most a week), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

// ---------------------------------------------------------------------------------------------
// Thresholds: `{"e2e.p99": "<10ms", "errors.rate": "<1%"}` as in k6.

/**
 * Stages with a latency histogram (ns). `slip` is the scheduler's own lateness. Black-box runs add
 * `chatToOsc` (due time → the bot's datagram on the wire) and `botReply` (due time → the bot's chat reply).
 * With a probe connected, the probe viewers' messages add the CV edge: `cv` (due time → CV edge),
 * `chatToCv` (chat line written to the bot → CV edge) and `oscToCv` (datagram → CV edge).
 */
export const METRIC_STAGES = ['validate', 'limit', 'store', 'encode', 'send', 'e2e', 'tap', 'slip', 'chatToOsc', 'botReply', 'cv', 'chatToCv', 'oscToCv'] as const;
export type MetricStage = (typeof METRIC_STAGES)[number];

/** What a threshold measures, and in which unit its limit is written. */
export type ThresholdMetric =
  /** A latency statistic of a stage, in ns: `e2e.p99`, `validate.max`, `slip.p99.9`. */
  | { readonly kind: 'latency'; readonly stage: MetricStage; readonly statistic: 'min' | 'max' | 'mean' | number }
  /** Share of completed messages (0..1) or their count: `errors.rate`, `rejected.cooldown.rate`. */
  | {
      readonly kind: 'outcome';
      readonly outcome: 'errors' | 'accepted' | 'rejected' | 'late' | 'lost';
      readonly code?: string;
      readonly aggregate: 'rate' | 'count';
    }
  /** Completed messages per second over the run. */
  | { readonly kind: 'throughput' }
  /** Event-loop delay of the engine process, in ns: `eventloop.p99`, `eventloop.max`. */
  | { readonly kind: 'eventloop'; readonly statistic: 'p99' | 'max' }
  /** Messages the in-process limiter decided because Redis did not answer (degraded): `limiter.fallbacks`. */
  | { readonly kind: 'limiter' }
  /**
   * A black-box bot's own health: `bot.cpu.max` / `bot.cpu.mean` (share of one core, `<80%`),
   * `bot.rss.slope` (growth of its lowest RSS, `<16MiB/h`).
   */
  | { readonly kind: 'bot'; readonly figure: 'cpu.max' | 'cpu.mean' | 'rss.slope' };

export type ThresholdUnit = 'ns' | 'ratio' | 'count' | 'per_second' | 'bytes_per_hour';

export interface ThresholdCondition {
  readonly operator: '<' | '<=' | '>' | '>=';
  /** The limit in the metric's unit: ns for times, 0..1 for rates, a plain number otherwise. */
  readonly limit: number;
}

export interface CompiledThreshold {
  /** As written in the scenario: `e2e.p99`. */
  readonly key: string;
  /** As written in the scenario: `<10ms`. */
  readonly expression: string;
  readonly metric: ThresholdMetric;
  readonly unit: ThresholdUnit;
  readonly condition: ThresholdCondition;
}

const TIME_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };
const OUTCOME_NAMES = ['errors', 'accepted', 'rejected', 'late', 'lost'] as const;

/** Parses a threshold key such as `e2e.p99` or `rejected.rate_limited_user.rate`; a string is the error. */
export function parseThresholdMetric(key: string): { metric: ThresholdMetric; unit: ThresholdUnit } | string {
  const stageMatch = /^([a-z][a-zA-Z0-9]*)\.(min|max|mean|p(\d{1,2}(?:\.\d+)?|100))$/.exec(key);
  if (stageMatch && (METRIC_STAGES as readonly string[]).includes(stageMatch[1] ?? '')) {
    const stage = stageMatch[1] as MetricStage;
    const name = stageMatch[2] ?? '';
    const statistic = name === 'min' || name === 'max' || name === 'mean' ? name : Number(stageMatch[3]);
    return { metric: { kind: 'latency', stage, statistic }, unit: 'ns' };
  }
  if (key === 'throughput') return { metric: { kind: 'throughput' }, unit: 'per_second' };
  if (key === 'limiter.fallbacks') return { metric: { kind: 'limiter' }, unit: 'count' };
  if (key === 'bot.cpu.max' || key === 'bot.cpu.mean') return { metric: { kind: 'bot', figure: key === 'bot.cpu.max' ? 'cpu.max' : 'cpu.mean' }, unit: 'ratio' };
  if (key === 'bot.rss.slope') return { metric: { kind: 'bot', figure: 'rss.slope' }, unit: 'bytes_per_hour' };
  if (key === 'eventloop.p99' || key === 'eventloop.max') {
    return { metric: { kind: 'eventloop', statistic: key === 'eventloop.p99' ? 'p99' : 'max' }, unit: 'ns' };
  }
  const parts = key.split('.');
  const outcome = parts[0] as (typeof OUTCOME_NAMES)[number];
  const aggregate = parts[parts.length - 1];
  if (OUTCOME_NAMES.includes(outcome) && (aggregate === 'rate' || aggregate === 'count') && parts.length <= 3) {
    const code = parts.length === 3 ? parts[1] : undefined;
    if (code !== undefined && (outcome !== 'rejected' || !(REJECTION_CODES as readonly string[]).includes(code))) {
      return `unknown rejection code "${code}": expected rejected.<code>.rate with one of ${REJECTION_CODES.join(', ')}`;
    }
    if (outcome === 'lost' && aggregate === 'rate') return 'expected lost.count (lost messages are counted, not rated)';
    return {
      metric: { kind: 'outcome', outcome, aggregate, ...(code ? { code } : {}) },
      unit: aggregate === 'rate' ? 'ratio' : 'count',
    };
  }
  return (
    `unknown threshold metric "${key}": expected <stage>.p99|p95|pNN|max|min|mean (stages ${METRIC_STAGES.join(', ')}), ` +
    'errors.rate, rejected.rate, rejected.<code>.rate, accepted.rate, late.rate, lost.count, throughput, eventloop.p99, limiter.fallbacks, bot.cpu.max, bot.cpu.mean, bot.rss.slope'
  );
}

const SIZE_UNITS_BYTES: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 };
const PER_UNITS_HOURS: Record<string, number> = { s: 1 / 3600, min: 1 / 60, h: 1 };

/** `<16MiB/h`, `<=500KiB/min` → bytes per hour; a string is the error. */
function parseGrowthCondition(expression: string): ThresholdCondition | string {
  const match = /^\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|kB|MB|GB)\s*\/\s*(s|min|h)\s*$/i.exec(expression);
  if (!match) return `expected a growth like "<16MiB/h" or "<1MiB/min" (B, KiB, MiB, GiB per s, min or h), got "${expression}"`;
  const bytes = Number(match[2]) * (SIZE_UNITS_BYTES[(match[3] as string).toLowerCase()] ?? Number.NaN);
  return { operator: match[1] as ThresholdCondition['operator'], limit: bytes / (PER_UNITS_HOURS[(match[4] as string).toLowerCase()] ?? Number.NaN) };
}

/** Parses `<10ms`, `<=1%`, `>4500`, `<16MiB/h`, in the unit the metric needs; a string is the error. */
export function parseThresholdCondition(expression: string, unit: ThresholdUnit): ThresholdCondition | string {
  if (unit === 'bytes_per_hour') return parseGrowthCondition(expression);
  const match = /^\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(ns|us|µs|ms|s|%)?\s*$/i.exec(expression);
  if (!match) return `expected a condition like "<10ms", "<1%" or ">=4500", got "${expression}"`;
  const operator = match[1] as ThresholdCondition['operator'];
  const number = Number(match[2]);
  const suffix = match[3]?.toLowerCase();
  if (unit === 'ns') {
    if (!suffix || suffix === '%')
      return `expected a time with a unit (ns, us, ms, s) like "<10ms", got "${expression}"`;
    return { operator, limit: number * (TIME_UNITS_NS[suffix] ?? Number.NaN) };
  }
  if (unit === 'ratio') {
    if (suffix === '%') return { operator, limit: number / 100 };
    if (suffix) return `expected a rate as a percentage like "<1%" (or a fraction like "<0.01"), got "${expression}"`;
    if (number > 1) return `expected a fraction between 0 and 1 or a percentage like "<1%", got "${expression}"`;
    return { operator, limit: number };
  }
  if (suffix) return `expected a plain number like ">=4500" (no unit), got "${expression}"`;
  return { operator, limit: number };
}

/** Compiles one threshold entry; a string is the error. */
export function compileThreshold(key: string, expression: string): CompiledThreshold | string {
  const parsed = parseThresholdMetric(key);
  if (typeof parsed === 'string') return parsed;
  const condition = parseThresholdCondition(expression, parsed.unit);
  if (typeof condition === 'string') return condition;
  return { key, expression, metric: parsed.metric, unit: parsed.unit, condition };
}

/** Compiles every threshold of a (valid) scenario. */
export function compileThresholds(thresholds: Readonly<Record<string, string>>): CompiledThreshold[] {
  const compiled: CompiledThreshold[] = [];
  for (const [key, expression] of Object.entries(thresholds)) {
    const result = compileThreshold(key, expression);
    if (typeof result === 'string') throw new Error(`threshold ${key}: ${result}`);
    compiled.push(result);
  }
  return compiled;
}

export const ThresholdsSchema = z
  .record(z.string().max(MAX_NAME_LENGTH), z.string().max(MAX_NAME_LENGTH))
  .superRefine((thresholds, ctx) => {
    for (const [key, expression] of Object.entries(thresholds)) {
      const result = compileThreshold(key, expression);
      if (typeof result === 'string') ctx.addIssue({ code: 'custom', path: [key], message: result });
    }
  });

// ---------------------------------------------------------------------------------------------
// Executors (k6 vocabulary).

const rate = () =>
  z
    .number()
    .positive('expected a rate above 0 messages per second')
    .max(1_000_000, 'expected at most 1,000,000 messages per second');

export const ConstantArrivalRateSchema = strictObject({
  type: z.literal('constant-arrival-rate'),
  /** Messages per second, evenly spaced. */
  rate: rate(),
  duration: DurationSchema,
});

export const RampingStageSchema = strictObject({
  /** Rate reached at the end of the stage, changing linearly from the previous one. */
  target: z.number().min(0, 'expected a target rate of 0 or more'),
  duration: DurationSchema,
});

export const RampingArrivalRateSchema = strictObject({
  type: z.literal('ramping-arrival-rate'),
  startRate: z.number().min(0).default(0),
  stages: z.array(RampingStageSchema).min(1, 'expected at least one stage {target, duration}'),
});

export const ThinkTimeSchema = strictObject({
  distribution: z.enum(['constant', 'uniform', 'exponential']).default('exponential'),
  /** constant: the think time; exponential: its mean. */
  meanMs: z.number().positive().default(1000),
  /** uniform: lower bound; exponential: a floor no think time goes under. */
  minMs: z.number().min(0).default(0),
  /** uniform: upper bound; exponential: a ceiling. */
  maxMs: z.number().positive().optional(),
}).refine((think) => think.maxMs === undefined || think.maxMs > think.minMs, {
  message: 'expected maxMs greater than minMs',
  path: ['maxMs'],
});

export const VirtualUsersSchema = strictObject({
  type: z.literal('virtual-users'),
  /** Simulated viewers, each typing on their own clock (they do not wait for the synth). */
  users: z.number().int().min(1).max(100_000),
  thinkTime: ThinkTimeSchema.default(ThinkTimeSchema.parse({})),
  /** Users join evenly over rampUp and leave evenly over rampDown, inside `duration`. */
  rampUp: DurationSchema.optional(),
  rampDown: DurationSchema.optional(),
  duration: DurationSchema,
});

export const BurstSchema = strictObject({
  type: z.literal('burst'),
  /** K messages … */
  messages: z.number().int().min(1).max(1_000_000),
  /** … from M users … */
  users: z.number().int().min(1).max(100_000),
  /** … within T (due times uniformly random inside the window). */
  window: DurationSchema,
});

/**
 * A recorded chat log played back: each message at its recorded offset divided by `speed`, with
 * the recorded viewer name (or a stable hash of it) and the recorded text unchanged.
 */
export const ReplaySchema = strictObject({
  type: z.literal('replay'),
  /**
   * The chat log. A relative name is looked up next to the scenario file, then in the data
   * folder's chat/, then among the shipped samples (resources/chat-logs).
   */
  file: z.string().min(1, 'expected the chat log\'s file name').max(4096, 'too long: at most 4096 characters'),
  /** `auto`: told apart from the content. */
  format: ChatLogFormatSchema.default('auto'),
  /** Recorded time ÷ speed: 10 plays ten minutes of chat in one; 0.5 plays it at half speed. */
  speed: z.number().positive('expected a speed above 0 (1 plays at the recorded pace)').max(100_000, 'expected a speed of at most 100000').default(1),
  /** Where the window starts and ends, measured from the log's first message (default: all of it). */
  from: OffsetSchema.optional(),
  to: OffsetSchema.optional(),
  /** Play the window again and again until `duration` (needed with loop). */
  loop: z.boolean().default(false),
  /** How long the run lasts: with loop, the window repeats until then; without, a longer window is cut there. */
  duration: DurationSchema.optional(),
  /** `as-recorded`: the viewers' own names; `hashed`: a stable hash of each name (same name, same hash). */
  users: z.enum(['as-recorded', 'hashed']).default('as-recorded'),
});

export const ExecutorSchema = z.discriminatedUnion('type', [
  ConstantArrivalRateSchema,
  RampingArrivalRateSchema,
  VirtualUsersSchema,
  BurstSchema,
  ReplaySchema,
]);

// ---------------------------------------------------------------------------------------------
// Traffic model.

/** What a generated message is meant to be: valid, multi-assignment, each invalid form, or spam. */
export const MESSAGE_KINDS = [
  'valid',
  'multi',
  'spam',
  'empty',
  'too_long',
  'too_many',
  'bad_char',
  'unknown_variable',
  'bad_value',
  'out_of_range',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const DEFAULT_MIX: Readonly<Record<MessageKind, number>> = {
  valid: 80,
  multi: 8,
  spam: 4,
  empty: 1,
  too_long: 1,
  too_many: 1,
  bad_char: 1,
  unknown_variable: 1,
  bad_value: 1,
  out_of_range: 2,
};

export const TrafficSchema = strictObject({
  /** Viewer population the generator draws senders from (virtual-users and burst bring their own). */
  users: z.number().int().min(1).max(1_000_000).default(1000),
  /** Zipf exponent of viewer activity: 0 = everyone equally chatty, 1 ≈ a few viewers dominate. */
  userSkew: z.number().min(0).max(4).default(1),
  /** Zipf exponent of variable popularity in the rig's order (first variable most popular). */
  variableSkew: z.number().min(0).max(4).default(0.8),
  /** Relative weights of message kinds; missing kinds weigh 0 when `mix` is given. */
  mix: z
    .partialRecord(z.enum(MESSAGE_KINDS), z.number().min(0, 'expected a weight of 0 or more'))
    .default({ ...DEFAULT_MIX })
    .refine((mix) => Object.values(mix).some((weight) => (weight ?? 0) > 0), {
      message: 'expected at least one message kind with a weight above 0',
    }),
  /** Spam messages come from this many dedicated spammer accounts, so they trip the per-user limiter. */
  spammers: z.number().int().min(1).max(1000).default(5),
  /** Most assignments a multi-assignment message carries (at least 2). */
  maxAssignments: z.number().int().min(2).max(8).default(4),
  /**
   * Absolute numbers and percents carry enough digits to be distinct at float32 precision, so a
   * black-box run can tell which chat message an OSC value came from. Same forms, same mix.
   */
  distinctValues: z.boolean().optional(),
});

// ---------------------------------------------------------------------------------------------
// Stress (capacity search) and soak (leak detection).

export const CapacitySearchSchema = strictObject({
  startRate: rate(),
  /** Added each step. */
  stepRate: rate(),
  maxRate: rate(),
  /** How long each rate is held before its thresholds are judged. */
  stepDuration: DurationSchema,
  /** The run fails when the knee is below this rate. */
  minKnee: z.number().min(0).optional(),
}).refine((search) => search.maxRate >= search.startRate, {
  message: 'expected maxRate at or above startRate',
  path: ['maxRate'],
});

export const LeakDetectionSchema = strictObject({
  /** Heap samples: one per window (after a forced GC when --expose-gc, else the window's minimum). */
  window: DurationSchema.default(10_000),
  /** Growth of post-GC heap tolerated, in MiB per hour. */
  toleranceMiBPerHour: z.number().min(0).default(16),
});

// ---------------------------------------------------------------------------------------------
// Multi-instance runs, WebSocket fan-out, and the system under test.

/** Network conditions added on each local instance's Redis link. */
export const NetworkConditionsSchema = strictObject({
  delayMs: z.number().min(0, 'expected a delay of 0 ms or more').max(10_000, 'too long: at most 10000 ms').default(0),
  jitterMs: z.number().min(0, 'expected a jitter of 0 ms or more').max(10_000, 'too long: at most 10000 ms').default(0),
});

/** `multiInstance`: how many engine instances share the Redis, who sends OSC, their network. */
export const MultiInstanceSchema = strictObject({
  instances: z
    .number()
    .int()
    .min(1, 'expected at least 1 instance')
    .max(64, 'expected at most 64 instances')
    .default(3),
  /** Instances started here as child processes; the rest are `cvlab agent`s joining over Redis. Default: all. */
  localInstances: z.number().int().min(0).optional(),
  /** `one`: only the first instance sends OSC to the converter (another takes over if it dies); `all`: every instance does. */
  oscFrom: z.enum(['one', 'all']).default('one'),
  network: NetworkConditionsSchema.default({ delayMs: 0, jitterMs: 0 }),
  /** How long the run waits for every instance to join. */
  joinTimeout: DurationSchema.default(30_000),
  /** An instance silent for this long (no heartbeat, no result) is reported lost. */
  heartbeatTimeout: DurationSchema.default(3_000),
  /** Gap between the assignment and the common start (Redis time), for every instance to be ready. */
  startDelay: DurationSchema.default(1_000),
});

/** `fanout` (the `websocket-scaling` scenario): accepted changes pushed to simulated overlays. */
export const FanoutSchema = strictObject({
  /** Simulated subscribers (stream overlays) connected on loopback. */
  subscribers: z.number().int().min(1).max(20_000).default(1_000),
  /** Connections past this are refused with a plain reason. */
  maxClients: z.number().int().min(1).max(100_000).default(5_000),
  maxBufferedBytes: z
    .number()
    .int()
    .min(1_024)
    .max(256 * 1024 * 1024)
    .default(64 * 1024),
  slowPolicy: z.enum(['coalesce', 'drop']).default('coalesce'),
  /** Subscribers that stop reading, to show they never hold up the others. */
  stalledSubscribers: z.number().int().min(0).default(0),
  /** Every accepted change also goes out as it would to a real overlay. */
  remote: z.boolean().default(false),
});

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** "host:port" with a port between 1 and 65535. */
const HostPortSchema = z
  .string()
  .max(300)
  .refine((text) => {
    const match = HOST_PORT.exec(text);
    const port = Number(match?.[2]);
    return match !== null && port >= 1 && port <= 65535;
  }, 'expected host:port like "127.0.0.1:9000" (port 1–65535)');

/**
 * What the load is sent to: cvlab's own pipeline (default), or a chat bot run as a black box
 * (its chat endpoint fed with messages, its OSC output listened to).
 */
export const TargetSchema = z.discriminatedUnion('kind', [
  strictObject({ kind: z.literal('pipeline') }),
  strictObject({
    kind: z.literal('bot'),
    /** Shell command that starts the bot; absent: the bot is already running. */
    command: z.string().min(1).max(2000, 'too long: at most 2000 characters').optional(),
    /** The folder the command runs in; absent: where cvlab was started. */
    cwd: z.string().min(1).max(4096, 'too long: at most 4096 characters').optional(),
    /** Wait for the bot to connect before the run starts. */
    wait: z.boolean().optional(),
    /** TCP port of the chat endpoint the bot connects to (IRC-like, on loopback). */
    chatPort: z
      .number()
      .int()
      .min(1, 'expected a port between 1 and 65535')
      .max(65535, 'expected a port between 1 and 65535')
      .optional(),
    /** Where cvlab listens for the bot's OSC output, host:port. */
    oscListen: HostPortSchema.optional(),
    /** Where the bot's OSC is forwarded on to (the converter), host:port. */
    forward: HostPortSchema.optional(),
    /** Chat channel the bot joins. */
    channel: z.string().min(1).max(MAX_NAME_LENGTH, `too long: at most ${MAX_NAME_LENGTH} characters`).optional(),
  }),
]);

/**
 * Chat → CV: while a probe is connected during a run, the rig's test variable is reserved for
 * probe viewers, who move it across the probe's threshold (low, high, low, …) mixed into the load.
 */
export const ProbeLoadSchema = strictObject({
  /** Probe messages per second, all viewers together; a few Hz keeps each viewer under a bot's per-viewer limit. */
  rateHz: z.number().positive('expected a rate above 0 Hz').max(50, 'expected at most 50 Hz: each message must leave the CV time to settle').default(2),
  /** Names the probe messages rotate through (probe-1 … probe-N). */
  viewers: z.number().int().min(1, 'expected at least 1 probe viewer').max(1000, 'expected at most 1000 probe viewers').default(8),
  /** The probe's threshold, mV; absent: halfway between the test variable's out.min and out.max. */
  thresholdMv: z.number().int().min(-100_000).max(100_000).optional(),
  /** An edge not seen this long after its datagram is missed. */
  timeoutMs: z.number().positive().max(10_000).default(1000),
});
export type ProbeLoad = z.output<typeof ProbeLoadSchema>;

/** Probe messages in a run of `durationMs` at `rateHz`: one each period, the first half a period in. */
export function probeMessageCount(durationMs: number, rateHz: number): number {
  return Math.max(0, Math.floor((durationMs / 1000) * rateHz + 0.5));
}

// ---------------------------------------------------------------------------------------------
// The scenario.

export const ScenarioSchema = strictObject({
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}$/,
      'expected a short lower-case name like "sustained" (letters, digits, - and _; at most 64)',
    ),
  description: z
    .string()
    .max(MAX_DESCRIPTION_LENGTH, `too long: at most ${MAX_DESCRIPTION_LENGTH} characters`)
    .default(''),
  executor: ExecutorSchema,
  traffic: TrafficSchema.default(TrafficSchema.parse({})),
  thresholds: ThresholdsSchema.default({}),
  /** Stop the run as soon as a threshold breaks (judged on the cumulative figures every interval). */
  abortOnFail: z.boolean().default(false),
  /** No abort is judged before this much of the run has passed (percentiles need samples). */
  abortGrace: DurationSchema.default(1000),
  /** Same seed, same messages. Absent: a seed is picked and reported. */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  /** Length of an interval frame. */
  interval: DurationSchema.default(100).refine((ms) => ms >= 10 && ms <= 60_000, {
    message: 'expected an interval between 10ms and 60s',
  }),
  /** A message later than this (actual send − due) counts as not sent on time. */
  slipTolerance: DurationSchema.default(1),
  capacitySearch: CapacitySearchSchema.optional(),
  leakDetection: LeakDetectionSchema.optional(),
  /** Several engine instances sharing one Redis. */
  multiInstance: MultiInstanceSchema.optional(),
  /** The fan-out stage to simulated WebSocket subscribers. */
  fanout: FanoutSchema.optional(),
  /** The scenario's own alert rules; absent: the default rules watch the run. */
  alerts: AlertRulesSchema.max(100, 'expected at most 100 alert rules').optional(),
  /** What the load is sent to. */
  target: TargetSchema.default({ kind: 'pipeline' }),
  /** Chat → CV probe viewers, used when a probe is connected for the run (defaults apply when absent). */
  probe: ProbeLoadSchema.optional(),
}).superRefine((scenario, ctx) => {
  if (scenario.capacitySearch && scenario.executor.type !== 'constant-arrival-rate') {
    ctx.addIssue({
      code: 'custom',
      path: ['capacitySearch'],
      message: 'a capacity search steps a constant-arrival-rate executor; use executor.type "constant-arrival-rate"',
    });
  }
  if (scenario.capacitySearch && Object.keys(scenario.thresholds).length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['thresholds'],
      message: 'a capacity search needs at least one threshold to find where the rate breaks',
    });
  }
  if (scenario.executor.type === 'virtual-users') {
    const { rampUp = 0, rampDown = 0, duration } = scenario.executor;
    if (rampUp + rampDown > duration) {
      ctx.addIssue({
        code: 'custom',
        path: ['executor', 'rampUp'],
        message: `expected rampUp + rampDown (${rampUp + rampDown} ms) within duration (${duration} ms)`,
      });
    }
  }
  if (scenario.executor.type === 'replay') {
    const { from, to, loop, duration } = scenario.executor;
    if (from !== undefined && to !== undefined && to <= from) {
      ctx.addIssue({ code: 'custom', path: ['executor', 'to'], message: `expected "to" after "from" (${from} ms), got ${to} ms` });
    }
    if (loop && duration === undefined) {
      ctx.addIssue({ code: 'custom', path: ['executor', 'duration'], message: 'a looped replay needs a duration (how long to keep repeating the window), like "10m"' });
    }
    if (scenario.multiInstance) {
      ctx.addIssue({ code: 'custom', path: ['multiInstance'], message: 'a replay plays one log through one engine: remove "multiInstance"' });
    }
  }
  if (scenario.multiInstance && scenario.fanout) {
    ctx.addIssue({
      code: 'custom',
      path: ['fanout'],
      message: 'a scenario is either multi-instance or fan-out, not both: remove one of "multiInstance" and "fanout"',
    });
  }
  if (scenario.multiInstance && scenario.target.kind === 'bot') {
    ctx.addIssue({
      code: 'custom',
      path: ['target'],
      message:
        'a multi-instance run drives cvlab\'s own pipeline: use target {"kind": "pipeline"} or remove "multiInstance"',
    });
  }
  const local = scenario.multiInstance?.localInstances;
  if (scenario.multiInstance && local !== undefined && local > scenario.multiInstance.instances) {
    ctx.addIssue({
      code: 'custom',
      path: ['multiInstance', 'localInstances'],
      message: `expected at most instances (${scenario.multiInstance.instances})`,
    });
  }
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Executor = z.output<typeof ExecutorSchema>;
export type ReplayExecutor = z.output<typeof ReplaySchema>;
export type TrafficModel = z.output<typeof TrafficSchema>;
export type ThinkTime = z.output<typeof ThinkTimeSchema>;
export type CapacitySearch = z.output<typeof CapacitySearchSchema>;
export type LeakDetection = z.output<typeof LeakDetectionSchema>;
export type MultiInstanceConfig = z.output<typeof MultiInstanceSchema>;
export type FanoutConfig = z.output<typeof FanoutSchema>;
export type NetworkConditions = z.output<typeof NetworkConditionsSchema>;
export type RunTarget = z.output<typeof TargetSchema>;

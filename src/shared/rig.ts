import { z } from 'zod';
import { strictObject } from './strict-object';

/** A variable's name as typed in chat: lower case, starts with a letter. */
export const VARIABLE_NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** An OSC address: starts with '/', no spaces and none of OSC's pattern characters. */
export const OSC_ADDRESS = /^\/[^\s#*,?[\]{}]*$/;

const finite = () => z.number().refine(Number.isFinite, 'expected a finite number');

const port = z
  .number()
  .int('expected a whole port number')
  .min(1, 'expected a UDP/TCP port between 1 and 65535')
  .max(65535, 'expected a UDP/TCP port between 1 and 65535');

export const OutputScaleSchema = strictObject({
  min: finite(),
  max: finite(),
  unit: z.enum(['V', 'norm']),
}).refine((out) => out.min !== out.max, { message: 'out.min and out.max must differ' });

export const VariableSchema = strictObject({
  name: z.string().regex(VARIABLE_NAME, 'expected a lower-case name like "hue" (letters, digits, _; max 32)'),
  address: z
    .string()
    .max(200, 'too long: at most 200 characters')
    .regex(OSC_ADDRESS, 'expected an OSC address like "/lzx/hue"'),
  kind: z.enum(['float', 'int', 'bool', 'enum']),
  /** What it moves on the rack, in the technician's words ("colorizer hue CV: the picture's colours"). */
  drives: z.string().max(200, 'too long: at most 200 characters').optional(),
  /** Range in the variable's own units (chat values are checked against it). */
  min: finite().default(0),
  max: finite().default(1),
  default: z.union([finite(), z.string()]).optional(),
  /** Enum variables: the names a viewer may type; sent as their index scaled to `out`. */
  values: z
    .array(z.string().regex(VARIABLE_NAME, 'expected a lower-case value name'))
    .min(2)
    .max(256, 'expected at most 256 values')
    .optional(),
  /** How the value is sent: scaled linearly from [min, max] to [out.min, out.max]. */
  out: OutputScaleSchema,
  /** true: out-of-range values are clamped to the range; false: rejected with `out_of_range`. */
  clamp: z.boolean().default(false),
  /** Minimum time between two accepted changes of this variable, whoever sends them. */
  cooldownMs: z.number().int().min(0).default(0),
  /** This variable drives the loop-back probe's square wave. */
  test: z.boolean().optional(),
}).superRefine((variable, ctx) => {
  if (variable.kind === 'enum') {
    if (!variable.values) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: 'an enum variable needs "values": a list of at least 2 names',
      });
      return;
    }
  } else if (variable.values) {
    ctx.addIssue({
      code: 'custom',
      path: ['values'],
      message: `"values" is only for enum variables, this one is ${variable.kind}`,
    });
  }
  if (variable.kind === 'float' || variable.kind === 'int') {
    if (!(variable.min < variable.max)) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `expected max above min (${variable.min}): the range runs from min up to max` });
      // The default is judged against a range once the range itself reads right.
      return;
    }
    if (variable.kind === 'int' && (!Number.isInteger(variable.min) || !Number.isInteger(variable.max))) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'an int variable needs whole-number min and max' });
    }
  }
  if (variable.default !== undefined) {
    const isName = typeof variable.default === 'string';
    if (variable.kind === 'enum' && isName && !variable.values?.includes(variable.default as string)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `expected one of ${variable.values?.join(', ')}` });
    } else if (variable.kind !== 'enum' && isName) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'expected a number' });
    } else if (!isName && (variable.kind === 'float' || variable.kind === 'int')) {
      const value = variable.default as number;
      if (value < variable.min || value > variable.max) {
        ctx.addIssue({
          code: 'custom',
          path: ['default'],
          message: `expected a value from ${variable.min} to ${variable.max} (the variable's range)`,
        });
      }
    }
  }
});

export const LimiterSchema = strictObject({
  /** Per-user token bucket: sustained messages per second and burst size. */
  userRate: z.number().positive().default(2),
  userBurst: z.number().int().min(1).default(5),
  /** Global cap across every instance sharing the Redis: accepted changes per second and burst. */
  globalRate: z.number().positive().default(2000),
  globalBurst: z.number().int().min(1).default(200),
});

/** Host names that are this machine: the OSC tap always listens here. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::']);

/** A Redis URL cvlab accepts: one server (redis://, rediss://) or a Cluster's seeds (redis+cluster://h:p,h:p). */
export const REDIS_URL_PATTERN = /^rediss?(\+cluster)?:\/\//;

/** What a Redis URL may be, for error messages. */
export const REDIS_URL_EXPECTED = 'a redis:// or rediss:// URL, or redis+cluster://host:port[,host:port…] for a Redis Cluster';

export const RigSchema = strictObject({
  name: z.string().min(1, 'expected a rig name').max(100, 'too long: at most 100 characters'),
  description: z.string().max(2000, 'too long: at most 2000 characters').optional(),
  osc: strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port,
    /** Optional UDP port where cvlab listens for its own datagrams to time them on the wire. */
    tapPort: port.optional(),
    /** OSC bundle time tag is "immediately"; bundle only when a message sets several variables. */
  }),
  /** redis://… (one server, or a Cluster node: detected), redis+cluster://host:port[,host:port…]; absent: an in-process memory store and limiter. */
  redisUrl: z.string().max(2000, 'too long: at most 2000 characters').regex(REDIS_URL_PATTERN, `expected ${REDIS_URL_EXPECTED}`).optional(),
  /** postgres://… ; absent: embedded database in the data folder. */
  databaseUrl: z
    .string()
    .max(2000, 'too long: at most 2000 characters')
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  serial: strictObject({
    path: z.string().min(1).max(1000, 'too long: at most 1000 characters'),
    baud: z.number().int().positive().default(115200),
    /** How the probe is attached (overrides its HELLO): `uart` behind a USB bridge, `usb` native. */
    link: z.enum(['uart', 'usb']).optional(),
    /** The hardware latency promise a loop-back run is judged against (p99), ms. */
    latencyTargetMs: z.number().positive().max(10_000).optional(),
  }).optional(),
  limiter: LimiterSchema.default(LimiterSchema.parse({})),
  variables: z
    .array(VariableSchema)
    .min(1, 'expected at least one variable')
    .max(1000, 'expected at most 1000 variables'),
}).superRefine((rig, ctx) => {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  rig.variables.forEach((variable, index) => {
    const first = names.get(variable.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['variables', index, 'name'],
        message: `"${variable.name}" is already variables[${first}]`,
      });
    } else names.set(variable.name, index);
    // Two variables on one address would drive one CV output from two chat names.
    const sameAddress = addresses.get(variable.address);
    if (sameAddress !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['variables', index, 'address'],
        message: `OSC address "${variable.address}" is already used by variables[${sameAddress}] ("${rig.variables[sameAddress]?.name}"): each variable needs its own address`,
      });
    } else addresses.set(variable.address, index);
  });
  if (rig.osc.tapPort !== undefined && rig.osc.tapPort === rig.osc.port && LOOPBACK_HOSTS.has(rig.osc.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['osc', 'tapPort'],
      message: `the tap port must differ from the OSC target's port (${rig.osc.port}) on the same host ${rig.osc.host}: the tap would swallow the converter's datagrams`,
    });
  }
});

export type RigConfig = z.output<typeof RigSchema>;
export type RigInput = z.input<typeof RigSchema>;
export type VariableConfig = z.output<typeof VariableSchema>;
export type LimiterConfig = z.output<typeof LimiterSchema>;

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseOrThrow } from '../../../shared/format-issues';
import { DurationSchema } from '../../../shared/scenario';

/**
 * The `multiInstance` block of a scenario file: how many engine instances share the Redis,
 * who sends OSC, and the network conditions added on each instance's Redis link.
 */
export const MultiInstanceConfigSchema = z.object({
  instances: z.number().int().min(1, 'expected at least 1 instance').max(64, 'expected at most 64 instances').default(3),
  /** Instances started here as child processes; the rest are `cvlab agent`s joining over Redis. Default: all. */
  localInstances: z.number().int().min(0).optional(),
  /** `one`: only the first instance sends OSC to the converter; `all`: every instance does. */
  oscFrom: z.enum(['one', 'all']).default('one'),
  network: z
    .object({
      delayMs: z.number().min(0, 'expected a delay of 0 ms or more').default(0),
      jitterMs: z.number().min(0, 'expected a jitter of 0 ms or more').default(0),
    })
    .default({ delayMs: 0, jitterMs: 0 }),
  /** How long the console waits for every instance to join. */
  joinTimeout: DurationSchema.default(30_000),
  /** An instance silent for this long (no heartbeat, no result) is reported lost. */
  heartbeatTimeout: DurationSchema.default(3_000),
  /** Gap between the assignment and the common start (Redis time), for every instance to be ready. */
  startDelay: DurationSchema.default(1_000),
});
export type MultiInstanceConfig = z.output<typeof MultiInstanceConfigSchema>;

/** The `multiInstance` block of a scenario file, or undefined when the scenario has none. */
export async function readMultiInstanceConfig(path: string): Promise<MultiInstanceConfig | undefined> {
  const data = JSON.parse(await readFile(path, 'utf8')) as { multiInstance?: unknown };
  if (data.multiInstance === undefined) return undefined;
  return parseOrThrow(MultiInstanceConfigSchema, data.multiInstance, `scenario file ${path}: multiInstance`);
}

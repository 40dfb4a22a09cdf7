import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseOrThrow } from '../../../shared/format-issues';

/** The `fanout` block of a scenario file (the `websocket-scaling` scenario). */
export const FanoutScalingConfigSchema = z.object({
  /** Simulated subscribers (stream overlays) connected on loopback. */
  subscribers: z.number().int().min(1).max(20_000).default(1_000),
  /** Connections past this are refused with a plain reason. */
  maxClients: z.number().int().min(1).default(5_000),
  maxBufferedBytes: z.number().int().min(1_024).default(64 * 1024),
  slowPolicy: z.enum(['coalesce', 'drop']).default('coalesce'),
  /** Subscribers that stop reading, to show they never hold up the others. */
  stalledSubscribers: z.number().int().min(0).default(0),
  /** Every accepted change also goes out as it would to a real overlay. */
  remote: z.boolean().default(false),
});
export type FanoutScalingConfig = z.output<typeof FanoutScalingConfigSchema>;

/** The `fanout` block of a scenario file, or undefined when the scenario has none. */
export async function readFanoutScalingConfig(path: string): Promise<FanoutScalingConfig | undefined> {
  const data = JSON.parse(await readFile(path, 'utf8')) as { fanout?: unknown };
  if (data.fanout === undefined) return undefined;
  return parseOrThrow(FanoutScalingConfigSchema, data.fanout, `scenario file ${path}: fanout`);
}

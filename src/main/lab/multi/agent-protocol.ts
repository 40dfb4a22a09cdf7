import { z } from 'zod';
import type { RunFrame, RunSummary } from '../../../shared/run';

/**
 * How a console and its agents talk over Redis pub/sub. Announcements go on one well-known
 * channel; everything about one run goes on that run's own channel, named with the run's
 * hash tag so it sits with the run's keys on one Cluster slot. Channels hold no data: nothing
 * is left in Redis when a run ends.
 */
export const ANNOUNCE_CHANNEL = 'cvlab:{agents}:announce';

/** The control channel of one run's namespace. */
export function controlChannel(namespace: string): string {
  return `cvlab:{${namespace}}:control`;
}

const ShareSchema = z.object({
  agentId: z.string(),
  index: z.number().int().min(0),
  count: z.number().int().min(1),
  /** This instance sends OSC to the rig's converter; the others send to a local sink. */
  sendsOsc: z.boolean(),
});
export type InstanceShare = z.output<typeof ShareSchema>;

export const AgentMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('announce'),
    runId: z.string(),
    namespace: z.string(),
    /** Scenario and rig as the console parsed them (plain JSON). */
    scenario: z.unknown(),
    rig: z.unknown(),
    seed: z.number().int(),
    /** Agents wanted; further joins are told they have no share. */
    instances: z.number().int().min(1),
    oscFrom: z.enum(['one', 'all']),
    network: z.object({ delayMs: z.number(), jitterMs: z.number() }),
  }),
  z.object({ type: z.literal('join'), runId: z.string(), agentId: z.string(), host: z.string(), pid: z.number() }),
  z.object({
    type: z.literal('assign'),
    runId: z.string(),
    shares: z.array(ShareSchema),
  }),
  /** An assigned instance is prepared (its engine warmed up, subscribed to the others' changes). */
  z.object({ type: z.literal('ready'), runId: z.string(), agentId: z.string() }),
  /** Every instance is ready: Redis TIME, epoch ms, at which each starts its share. */
  z.object({ type: z.literal('start'), runId: z.string(), startAtMs: z.number() }),
  z.object({
    type: z.literal('heartbeat'),
    runId: z.string(),
    agentId: z.string(),
    sent: z.number(),
    completed: z.number(),
    /** The latest interval frame of this instance (absent before the first). */
    frame: z.custom<RunFrame>().optional(),
    /** Every frame since the last heartbeat, oldest first (the run's frames are merged from these). */
    frames: z.array(z.custom<RunFrame>()).optional(),
    /** Propagation seen by this instance so far, ns (the console shows it live; the histogram comes with the result). */
    propagation: z.object({ count: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() }).optional(),
  }),
  z.object({
    type: z.literal('result'),
    runId: z.string(),
    agentId: z.string(),
    summary: z.custom<RunSummary>((value) => typeof value === 'object' && value !== null && 'histograms' in value, 'expected a run summary'),
    /** Propagation (publish on another instance → seen here), ns, compressed base64. */
    propagation: z.string().optional(),
    /** How far this instance's clock was from Redis TIME, and how well that was known. */
    clock: z.object({ offsetMs: z.number(), roundTripMs: z.number() }),
    remoteChanges: z.number(),
  }),
  z.object({ type: z.literal('failed'), runId: z.string(), agentId: z.string(), error: z.string() }),
  z.object({ type: z.literal('abort'), runId: z.string(), reason: z.string() }),
  /** The instance that sent OSC was lost: this one forwards its datagrams to the converter from now on. */
  z.object({ type: z.literal('osc-takeover'), runId: z.string(), agentId: z.string() }),
]);
export type AgentMessage = z.output<typeof AgentMessageSchema>;
export type AgentMessageOf<Type extends AgentMessage['type']> = Extract<AgentMessage, { type: Type }>;

/** Reads one message from a channel; undefined when it is not one of ours. */
export function parseAgentMessage(text: string): AgentMessage | undefined {
  try {
    const result = AgentMessageSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

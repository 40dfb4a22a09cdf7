import { z } from 'zod';
import { parseOrThrow } from './format-issues';
import { AlertEventSchema } from './alerts';
import { ChatLogPathSchema, type ChatLogStats } from './chat-log';
import {
  ClockFitSchema,
  LoopbackOptionsSchema,
  ProbePortSchema,
  type LoopbackEdge,
  type LoopbackProgress,
  type LoopbackResult,
} from './loopback';
import {
  RunFilterSchema,
  TrendRequestSchema,
  type RunComparison,
  type LoopbackListEntry,
  type LabNote,
  NoteTagSchema,
  NoteTextSchema,
  type RunListEntry,
  type RunReport,
  type TrendPoint,
} from './report';
import { RigSchema } from './rig';
import { RunStartOptionsSchema, type BotAwaited, type RunFrame, type RunInfo, type RunProgress, type RunSummary } from './run';
import { ScenarioSchema } from './scenario';

// The one contract between the console and the engine. Every command and event is declared
// here once, as data, with its zod schemas. The Electron IPC binding, the preload's window.lab,
// the WebSocket bridge and its browser client are all derived from these two lists, so adding
// a method is one edit here; the compiler then asks `Lab` (src/main/lab/lab.ts) to serve it.

/** A rig or scenario file the console can open. */
export const LabFileSchema = z.object({
  path: z.string(),
  name: z.string(),
  /** Shipped with cvlab (read-only); else the user's own, in the data folder. */
  builtIn: z.boolean(),
});
export type LabFile = z.output<typeof LabFileSchema>;

/** A plain file name the console saves under the user's data folder: no folders, no dots first. */
export const FileNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/,
    'expected a file name of letters, digits, space, "_", "-" or "." (max 64), without folders',
  );

export const JsonPathSchema = z
  .string()
  .min(1, 'expected a file path')
  .regex(/\.json$/i, 'expected a path to a .json file');

export const DoctorCheckSchema = z.object({
  name: z.enum(['Redis', 'PostgreSQL', 'OSC target', 'OSC tap', 'Serial', 'Electron']),
  ok: z.boolean(),
  detail: z.string(),
});
export type DoctorCheckResult = z.output<typeof DoctorCheckSchema>;

export const AboutSchema = z.object({
  version: z.string(),
  /** Where the engine runs: inside Electron's main process, `cvlab serve`, or a `cvlab` command. */
  host: z.enum(['electron', 'serve', 'cli']),
  node: z.string(),
  platform: z.string(),
  resourcesDir: z.string(),
  dataDir: z.string(),
  /**
   * Whether a run may start a bot's shell command on this machine. Absent: it may (Electron, a
   * console on loopback). `cvlab serve` on an address beyond loopback refuses it unless started
   * with --allow-bot-commands; `reason` says why, for the Scenarios page.
   */
  botCommands: z.object({ allowed: z.boolean(), reason: z.string().optional() }).optional(),
});
export type About = z.output<typeof AboutSchema>;

/** A scenario that would make the engine start a shell command: a bot target with a command. */
export function startsBotCommand(scenario: unknown): boolean {
  const target = (scenario as { target?: { kind?: unknown; command?: unknown } } | null)?.target;
  return target?.kind === 'bot' && typeof target.command === 'string' && target.command.length > 0;
}

/** A rig as opened: where it came from, and the parsed configuration. */
export const OpenedRigSchema = z.object({ file: LabFileSchema.nullable(), rig: RigSchema });
export type OpenedRig = z.output<typeof OpenedRigSchema>;

/** A raw JSON file as read: the console validates it against the matching schema to show errors inline. */
export const OpenedDocumentSchema = z.object({ file: LabFileSchema, content: z.unknown() });
export type OpenedDocument = z.output<typeof OpenedDocumentSchema>;

// The engine's own result types are plain interfaces (src/shared/run.ts); they cross from the
// trusted engine only, so they are carried as named opaque values rather than re-parsed.
const RunInfoSchema = z.custom<RunInfo>().meta({ id: 'RunInfo' });
const RunProgressSchema = z.custom<RunProgress>().meta({ id: 'RunProgress' });
const RunFrameSchema = z.custom<RunFrame>().meta({ id: 'RunFrame' });
const RunSummarySchema = z.custom<RunSummary>().meta({ id: 'RunSummary' });
const BotAwaitedSchema = z.custom<BotAwaited>().meta({ id: 'BotAwaited' });
const RunListEntrySchema = z.custom<RunListEntry>().meta({ id: 'RunListEntry' });
const LoopbackListEntrySchema = z.custom<LoopbackListEntry>().meta({ id: 'LoopbackListEntry' });
const LabNoteSchema = z.custom<LabNote>().meta({ id: 'LabNote' });
const RunReportSchema = z.custom<RunReport>().meta({ id: 'RunReport' });
const RunComparisonSchema = z.custom<RunComparison>().meta({ id: 'RunComparison' });
const TrendPointSchema = z.custom<TrendPoint>().meta({ id: 'TrendPoint' });
const ChatLogStatsSchema = z.custom<ChatLogStats>().meta({ id: 'ChatLogStats' });

const LoopbackProgressSchema = z.custom<LoopbackProgress>().meta({ id: 'LoopbackProgress' });
const LoopbackEdgeSchema = z.custom<LoopbackEdge>().meta({ id: 'LoopbackEdge' });
const LoopbackResultSchema = z.custom<LoopbackResult>().meta({ id: 'LoopbackResult' });

/**
 * Matched clock-model latencies counted by the engine into log-spaced bins (equal ratios: a
 * 2 ms bulk and a 9 ms tail both get bars of their own), for the histogram. `boundsUs` has
 * one more entry than `counts`: bin i holds values in [boundsUs[i], boundsUs[i + 1]).
 */
export const LatencyHistogramSchema = z.object({ boundsUs: z.array(z.number()), counts: z.array(z.number().int().min(0)) });
export type LatencyHistogram = z.output<typeof LatencyHistogramSchema>;

/** The end of a loop-back run: its result and histogram, or why it failed. */
export const LoopbackOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), result: LoopbackResultSchema, histogram: LatencyHistogramSchema }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type LoopbackOutcome = z.output<typeof LoopbackOutcomeSchema>;

export const ProbeStateSchema = z.object({
  state: z.enum(['closed', 'connected', 'disconnected', 'reconnecting']),
  path: z.string().nullable(),
  detail: z.string(),
});
export type ProbeState = z.output<typeof ProbeStateSchema>;

/** What the loop-back side holds now: a console that opens (or reloads) starts from it. */
export const LoopbackStateSchema = z.object({
  probe: ProbeStateSchema,
  running: z.boolean(),
  /** The last run's outcome (kept until the next run ends), or null. */
  last: LoopbackOutcomeSchema.nullable(),
});
export type LoopbackState = z.output<typeof LoopbackStateSchema>;

/** A saved run's id as the store names it, or `latest`. */
export const RunIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected a run id like "20260101120000-a1b2c3" or "latest"');

export const ReportFormatSchema = z.enum(['html', 'json', 'csv']);

/** An export, ready to save: the console offers it as a download. */
export const ReportExportSchema = z.object({ fileName: z.string(), mimeType: z.string(), text: z.string() });
export type ReportExport = z.output<typeof ReportExportSchema>;

/** Most frames one runFrames call returns: each reply stays small, so the engine never stalls on one. */
export const MAX_FRAMES_PER_CALL = 100;

/** How many frame deliveries a second the console gets at most (DESIGN.md, Live data). */
export const MAX_FRAME_DELIVERIES_PER_SECOND = 20;

interface CommandSpec {
  readonly doc: string;
  readonly args: z.ZodTuple;
  readonly result: z.ZodType;
}

interface EventSpec {
  readonly doc: string;
  readonly payload: z.ZodType;
  /** Live data a slow client may miss (the next one supersedes it); never commands' replies. */
  readonly lossy?: boolean;
}

/** Every command the console may call. Arguments are parsed with `args` at each border. */
export const LAB_COMMANDS = {
  about: {
    doc: 'Versions and folders of the engine the console talks to.',
    args: z.tuple([]),
    result: AboutSchema,
  },
  listRigs: {
    doc: "Rig files: the built-in ones and the user's own.",
    args: z.tuple([]),
    result: z.array(LabFileSchema),
  },
  readRig: {
    doc: 'Reads a rig file as raw JSON, so the console can show every invalid field inline.',
    args: z.tuple([JsonPathSchema]),
    result: OpenedDocumentSchema,
  },
  saveRig: {
    doc: "Validates and saves a rig under the user's data folder; returns the file written.",
    args: z.tuple([FileNameSchema, RigSchema]),
    result: LabFileSchema,
  },
  useRig: {
    doc: 'Makes a validated rig the one runs and checks use.',
    args: z.tuple([RigSchema, LabFileSchema.nullable()]),
    result: OpenedRigSchema,
  },
  activeRig: {
    doc: 'The rig runs use now (the demo rig until another is chosen).',
    args: z.tuple([]),
    result: OpenedRigSchema,
  },
  checkRig: {
    doc: 'Doctor checks against the active rig: Redis, PostgreSQL, OSC target and tap, serial.',
    args: z.tuple([]),
    result: z.array(DoctorCheckSchema),
  },
  listScenarios: {
    doc: "Scenario files: the built-in ones and the user's own.",
    args: z.tuple([]),
    result: z.array(LabFileSchema),
  },
  readScenario: {
    doc: 'Reads a scenario file as raw JSON for the editor.',
    args: z.tuple([JsonPathSchema]),
    result: OpenedDocumentSchema,
  },
  saveScenario: {
    doc: "Validates and saves a scenario under the user's data folder; returns the file written.",
    args: z.tuple([FileNameSchema, ScenarioSchema]),
    result: LabFileSchema,
  },
  listChatLogs: {
    doc: "Chat logs a replay can play: the shipped samples and the user's own (the data folder's chat/).",
    args: z.tuple([]),
    result: z.array(LabFileSchema),
  },
  chatLogStats: {
    doc: "What is in one of those chat logs, judged by the active rig's grammar: span, messages, viewers, peaks, accepted share, top variables, longest burst, a rate timeline.",
    args: z.tuple([ChatLogPathSchema]),
    result: ChatLogStatsSchema,
  },
  startRun: {
    doc: 'Starts a load run of a scenario against a rig; fails when one is already running.',
    args: z.tuple([RunStartOptionsSchema]),
    result: RunInfoSchema,
  },
  stopRun: {
    doc: 'Stops the run now going on; resolves with its summary (null when nothing runs).',
    args: z.tuple([]),
    result: RunSummarySchema.nullable(),
  },
  currentRun: {
    doc: 'The run going on now, or null.',
    args: z.tuple([]),
    result: RunInfoSchema.nullable(),
  },
  runFrames: {
    doc: 'Frames of the run going on (else of the last finished run; frames carry runId) after a sequence number, oldest first, at most `count` (a console opened mid-run fills its scope in small pieces).',
    args: z.tuple([z.number().int().min(-1), z.number().int().min(1).max(MAX_FRAMES_PER_CALL)]),
    result: z.array(RunFrameSchema),
  },
  lastSummary: {
    doc: 'The summary of the last finished run, or null.',
    args: z.tuple([]),
    result: RunSummarySchema.nullable(),
  },
  listAlerts: {
    doc: 'Alert events (firing and resolved) of the last run and of the run going on, oldest first, kept by the engine.',
    args: z.tuple([]),
    result: z.array(AlertEventSchema),
  },
  listReports: {
    doc: 'Saved runs, newest first, filtered by rig, scenario, status or time.',
    args: z.tuple([RunFilterSchema]),
    result: z.array(RunListEntrySchema),
  },
  addNote: {
    doc: 'Adds a note of the lab notebook (what changed, with tags) to a saved run or loop-back measurement.',
    args: z.tuple([z.enum(['run', 'loopback']), z.string().min(1, 'expected a run or loop-back measurement id'), NoteTextSchema, z.array(NoteTagSchema).max(20, 'expected at most 20 tags')]),
    result: LabNoteSchema,
  },
  listLoopbackResults: {
    doc: 'Saved loop-back measurements, newest first, each with the load run it belongs to (null: on its own).',
    args: z.tuple([]),
    result: z.array(LoopbackListEntrySchema),
  },
  attachLoopback: {
    doc: 'Attaches a saved loop-back measurement to a saved run (null detaches it), so that run\'s report shows it.',
    args: z.tuple([z.string().min(1, 'expected a loop-back measurement id'), RunIdSchema.nullable()]),
    result: LoopbackListEntrySchema,
  },
  openReport: {
    doc: 'The report of one saved run: summary, stages, thresholds, intervals, histograms.',
    args: z.tuple([RunIdSchema]),
    result: RunReportSchema,
  },
  exportReport: {
    doc: 'A saved run as self-contained HTML, JSON or CSV text.',
    args: z.tuple([RunIdSchema, ReportFormatSchema]),
    result: ReportExportSchema,
  },
  markBaseline: {
    doc: 'Marks a saved run as the baseline of its rig and scenario.',
    args: z.tuple([RunIdSchema]),
    result: z.object({ runId: z.string(), rig: z.string(), scenario: z.string() }),
  },
  compareReports: {
    doc: 'Compares a run with another one, or with its baseline when the second id is null.',
    args: z.tuple([RunIdSchema, RunIdSchema.nullable()]),
    result: RunComparisonSchema,
  },
  reportTrend: {
    doc: 'One percentile of one stage over the last runs of a rig and scenario, oldest first.',
    args: z.tuple([TrendRequestSchema]),
    result: z.array(TrendPointSchema),
  },
  loopbackState: {
    doc: 'The probe connection, whether a loop-back run is going on, and the last outcome.',
    args: z.tuple([]),
    result: LoopbackStateSchema,
  },
  listProbePorts: {
    doc: 'Serial ports a loop-back probe may sit on, and running probe emulators; probes that answered HELLO first.',
    args: z.tuple([]),
    result: z.array(ProbePortSchema),
  },
  connectProbe: {
    doc: 'Opens the probe on a serial port and waits for its HELLO.',
    args: z.tuple([z.string().min(1, 'expected a serial port path')]),
    result: ProbeStateSchema,
  },
  disconnectProbe: {
    doc: "Closes the probe's serial port.",
    args: z.tuple([]),
    result: ProbeStateSchema,
  },
  calibrateProbe: {
    doc: 'Fits the probe clock to the host clock from PING/PONG exchanges.',
    args: z.tuple([]),
    result: ClockFitSchema,
  },
  startLoopback: {
    doc: "Starts the square wave on the rig's test variable; edges, progress and the outcome come as events.",
    args: z.tuple([LoopbackOptionsSchema]),
    result: z.object({ total: z.number() }),
  },
  stopLoopback: {
    doc: 'Stops the loop-back run going on (its outcome still comes).',
    args: z.tuple([]),
    result: z.void(),
  },
} as const satisfies Record<string, CommandSpec>;

/** Every event the engine pushes to the console. Names follow `onDid…`. */
export const LAB_EVENTS = {
  onDidStartRun: {
    doc: 'A run started, from this console or another one (every console then shows it, with Stop).',
    payload: RunInfoSchema,
  },
  onDidAwaitBot: {
    doc: "A bot run's chat endpoint and OSC catcher listen: the environment the bot needs, while cvlab waits for it to join (before the run starts).",
    payload: BotAwaitedSchema,
  },
  onDidRunProgress: {
    doc: 'How far the run is, a few times a second.',
    payload: RunProgressSchema,
  },
  onDidRunFrames: {
    doc: 'Interval frames of the run, batched so the console gets at most 20 deliveries a second.',
    payload: z.array(RunFrameSchema),
    lossy: true,
  },
  onDidFinishRun: {
    doc: 'The run ended: its summary and threshold verdicts.',
    payload: RunSummarySchema,
  },
  onDidChangeProbe: {
    doc: 'The probe connected, dropped, reconnected or was closed.',
    payload: ProbeStateSchema,
  },
  onDidLoopbackProgress: {
    doc: 'How far the loop-back run is.',
    payload: LoopbackProgressSchema,
  },
  onDidLoopbackEdges: {
    doc: 'Edges sent and matched, batched to at most 20 deliveries a second.',
    payload: z.array(LoopbackEdgeSchema),
    lossy: true,
  },
  onDidFinishLoopback: {
    doc: 'The loop-back run ended: result and histogram, or the reason it failed.',
    payload: LoopbackOutcomeSchema,
  },
  onDidAlert: {
    doc: 'An alert rule fired or resolved.',
    payload: AlertEventSchema,
  },
} as const satisfies Record<string, EventSpec>;

export type LabCommandName = keyof typeof LAB_COMMANDS;
export type LabEventName = keyof typeof LAB_EVENTS;

export const LAB_COMMAND_NAMES = Object.keys(LAB_COMMANDS) as LabCommandName[];
export const LAB_EVENT_NAMES = Object.keys(LAB_EVENTS) as LabEventName[];

export type LabCommandArgs<K extends LabCommandName> = z.output<(typeof LAB_COMMANDS)[K]['args']>;
export type LabCommandResult<K extends LabCommandName> = z.output<(typeof LAB_COMMANDS)[K]['result']>;
export type LabEventPayload<K extends LabEventName> = z.output<(typeof LAB_EVENTS)[K]['payload']>;

/** Ends a subscription. */
export type Unsubscribe = () => void;

/** The console's view of the engine: one async function per command, one subscriber per event. */
export type LabApi = {
  [K in LabCommandName]: (...args: LabCommandArgs<K>) => Promise<LabCommandResult<K>>;
} & {
  [K in LabEventName]: (listener: (payload: LabEventPayload<K>) => void) => Unsubscribe;
};

/** The IPC channel of a command or event: one namespace, greppable. */
export function labChannel(name: LabCommandName | LabEventName): string {
  return `lab:${name}`;
}

/** Type guard: `name` is a command of the contract (own property, never the prototype's). */
export function isLabCommand(name: unknown): name is LabCommandName {
  return typeof name === 'string' && Object.hasOwn(LAB_COMMANDS, name);
}

/** Type guard: `name` is an event of the contract. */
export function isLabEvent(name: unknown): name is LabEventName {
  return typeof name === 'string' && Object.hasOwn(LAB_EVENTS, name);
}

/**
 * Serves one call that crossed a border (IPC or WebSocket): checks the command exists,
 * parses the arguments with its schema, and calls the engine. Errors name the bad field.
 */
export async function dispatchCommand(api: LabApi, name: unknown, args: unknown): Promise<unknown> {
  if (!isLabCommand(name)) {
    throw new Error(`Unknown command ${JSON.stringify(name)}: expected one of ${LAB_COMMAND_NAMES.join(', ')}.`);
  }
  const spec: CommandSpec = LAB_COMMANDS[name];
  const parsed = parseOrThrow(spec.args, args, `The arguments of ${name}`) as unknown[];
  const method = api[name] as (...values: unknown[]) => Promise<unknown>;
  return method.apply(api, parsed);
}

/** How a proxy reaches the engine: Electron IPC in the preload, a WebSocket in a browser. */
export interface LabTransport {
  invoke(command: LabCommandName, args: unknown[]): Promise<unknown>;
  listen(event: LabEventName, listener: (payload: unknown) => void): Unsubscribe;
}

/** Builds a LabApi whose every command and event goes through `transport`. */
export function createLabProxy(transport: LabTransport): LabApi {
  const proxy: Record<string, unknown> = {};
  for (const name of LAB_COMMAND_NAMES) {
    proxy[name] = (...args: unknown[]) => transport.invoke(name, args);
  }
  for (const name of LAB_EVENT_NAMES) {
    proxy[name] = (listener: (payload: unknown) => void) => transport.listen(name, listener);
  }
  return proxy as LabApi;
}

/** The WebSocket frames between the browser console and `cvlab serve`. */
export const WireRequestSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('call'),
    id: z.number().int().nonnegative(),
    command: z.string(),
    args: z.array(z.unknown()),
  }),
  z.object({ type: z.literal('subscribe'), event: z.string() }),
  z.object({ type: z.literal('unsubscribe'), event: z.string() }),
]);
export type WireRequest = z.output<typeof WireRequestSchema>;

export type WireReply =
  | { type: 'result'; id: number; value: unknown }
  /** id null: the frame that caused it had no readable id (not JSON, or not a request). */
  | { type: 'error'; id: number | null; message: string }
  | { type: 'event'; event: LabEventName; payload: unknown };

/** The WebSocket path of the LabApi bridge. */
export const LAB_SOCKET_PATH = '/lab';

/** The close code `cvlab serve` ends a browser's socket with when its token is wrong or missing. */
export const TOKEN_REFUSED_CLOSE_CODE = 4401;

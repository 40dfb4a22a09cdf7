// The figures `npm run bench:all` keeps from each benchmark's JSON line: what each one means,
// which way is better, and the goal it is held to (the goals of the README's benchmark table).
// A ratio is a figure divided by a floor measured in the same run: it travels between machines;
// an absolute figure is compared only with a run on the same machine.

/** The benchmarks, in the order bench:all runs them (each is `bench/<name>.ts`). */
export const BENCH_NAMES = ['pipeline', 'load', 'audit', 'multi', 'engine', 'console', 'blackbox', 'loopback', 'cv', 'fuzz', 'chat-log'] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/** One benchmark's JSON line, as printed. */
export type BenchLine = Record<string, unknown>;

export interface Goal {
  readonly op: '<' | '≤' | '≥' | '=';
  readonly value: number;
}

export interface TrackedFigure {
  /** `<bench>.<name>`: the key in a results file. */
  readonly id: string;
  readonly bench: BenchName;
  /** In words, for the README's table. */
  readonly label: string;
  /** Shown after the number: '×', 'ms', 'µs', 'msg/s', 'B', '' … */
  readonly unit: string;
  readonly kind: 'ratio' | 'figure';
  readonly better: 'lower' | 'higher';
  readonly goal?: Goal;
  /** The figure from the bench's line; undefined when the line lacks it. */
  readonly read: (line: BenchLine) => number | undefined;
}

/** The number at a dotted path of a line, or undefined. */
export function numberAt(line: BenchLine, path: string): number | undefined {
  let value: unknown = line;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const at = (path: string) => (line: BenchLine) => numberAt(line, path);
const scaled = (path: string, factor: number) => (line: BenchLine) => {
  const value = numberAt(line, path);
  return value === undefined ? undefined : value * factor;
};
/** Two figures of a line made one (the worse of two, a sum); undefined when either is missing. */
const combined = (left: string, right: string, combine: (left: number, right: number) => number) => (line: BenchLine) => {
  const first = numberAt(line, left);
  const second = numberAt(line, right);
  return first === undefined || second === undefined ? undefined : combine(first, second);
};
const worstOfRows = (field: string) => (line: BenchLine) => {
  const rows = line['rows'];
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  const values = rows.map((row) => numberAt(row as BenchLine, field));
  return values.some((value) => value === undefined) ? undefined : Math.max(...(values as number[]));
};

const figure = (entry: Omit<TrackedFigure, 'id'> & { readonly name: string }): TrackedFigure => {
  const { name, ...rest } = entry;
  return { id: `${entry.bench}.${name}`, ...rest };
};

export const TRACKED_FIGURES: readonly TrackedFigure[] = [
  // Issue 20's table first: these are the README's goals.
  figure({ bench: 'pipeline', name: 'memoryTapP50OverUdpFloor', label: 'memory store e2e-to-tap p50 / UDP floor', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.5 }, read: at('ratios.memoryE2eTapP50VsUdpFloor') }),
  figure({ bench: 'pipeline', name: 'memoryThroughput', label: 'memory store throughput', unit: 'msg/s', kind: 'figure', better: 'higher', goal: { op: '≥', value: 100_000 }, read: at('memory.throughputPerSecond') }),
  figure({ bench: 'engine', name: 'engineLoopDelayP99', label: 'engine loop-delay p99 at 5,000 msg/s', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 1 }, read: at('engineThread.engineLoopDelayP99Ms') }),
  figure({ bench: 'console', name: 'attachedOverDetached', label: 'e2e p99, console attached / detached', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.1 }, read: at('engine.attachedOverDetached') }),
  figure({ bench: 'load', name: 'redisE2eP99', label: 'Redis store e2e p99, 1,000 users at 5,000 msg/s (`bench:load`)', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 2 }, read: at('redis.e2eP99Ms') }),
  figure({ bench: 'pipeline', name: 'redisOpenLoopE2eP99', label: 'Redis store e2e p99 at 5,000 msg/s (`bench:pipeline` open loop)', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 2 }, read: scaled('redis.openLoop.e2eUs.p99', 1e-3) }),
  figure({ bench: 'pipeline', name: 'redisTapP50OverFloor', label: 'Redis store closed-loop e2e p50 / (UDP floor + Redis round trip)', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.3 }, read: at('ratios.redisE2eTapP50VsUdpPlusRoundTrip') }),
  figure({ bench: 'pipeline', name: 'redisThroughput', label: 'Redis store throughput', unit: 'msg/s', kind: 'figure', better: 'higher', goal: { op: '≥', value: 30_000 }, read: at('redis.throughputPerSecond') }),
  figure({ bench: 'multi', name: 'propagationP50OverPubSub', label: 'multi-instance propagation p50 / raw pub/sub', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.2 }, read: at('propagation.ratioP50') }),
  figure({ bench: 'multi', name: 'fanoutP99OverRawWs', label: 'fan-out to 1,000 subscribers p99 / raw ws', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.2 }, read: at('fanout.ratioP99') }),
  figure({ bench: 'audit', name: 'p99OnOverOff', label: 'e2e p99, audit log on / off', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.1 }, read: at('p99RatioOn') }),
  figure({ bench: 'audit', name: 'p99LockedOverOff', label: 'e2e p99, audit table locked 5 s / audit off', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '≤', value: 1.1 }, read: at('p99RatioLocked') }),
  figure({ bench: 'audit', name: 'rowsLost', label: 'audit rows lost (recorded − in the table)', unit: '', kind: 'figure', better: 'lower', goal: { op: '=', value: 0 }, read: combined('audit.recorded', 'audit.rowsInTable', (recorded, stored) => recorded - stored) }),
  figure({ bench: 'engine', name: 'burstRunsUnder2ms', label: '`burst` runs with e2e p99 < 2 ms, of ten saved with PostgreSQL + audit', unit: '', kind: 'figure', better: 'higher', goal: { op: '≥', value: 10 }, read: at('burst.under2ms') }),
  figure({ bench: 'pipeline', name: 'bytesPerMessage', label: 'bytes allocated per message (memory store)', unit: 'B', kind: 'figure', better: 'lower', goal: { op: '≤', value: 500 }, read: at('allocation.bytesPerMessage') }),
  // The benchmarks' own targets.
  figure({ bench: 'load', name: 'memoryE2eP99', label: 'memory store e2e p99, 1,000 users at 5,000 msg/s', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 1 }, read: at('memory.e2eP99Ms') }),
  figure({ bench: 'load', name: 'slipP99', label: 'schedule slip p99, memory and Redis (worse of the two)', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 0.5 }, read: combined('memory.slipP99Ms', 'redis.slipP99Ms', Math.max) }),
  figure({ bench: 'load', name: 'unaccounted', label: 'messages unaccounted for, memory and Redis', unit: '', kind: 'figure', better: 'lower', goal: { op: '=', value: 0 }, read: combined('memory.unaccounted', 'redis.unaccounted', (memory, redis) => memory + redis) }),
  figure({ bench: 'audit', name: 'copyRowsPerSecond', label: 'audit COPY rows/s', unit: 'rows/s', kind: 'figure', better: 'higher', goal: { op: '≥', value: 50_000 }, read: at('copyRowsPerSecond') }),
  figure({ bench: 'multi', name: 'globalCapError', label: 'global cap error across 3 instances', unit: '', kind: 'figure', better: 'lower', goal: { op: '≤', value: 0.01 }, read: at('globalCap.error') }),
  figure({ bench: 'multi', name: 'fanoutP99', label: 'fan-out to 1,000 subscribers p99', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 10 }, read: at('fanout.cvlab.p99') }),
  figure({ bench: 'console', name: 'framesPerSecond', label: 'console frames/s while streaming', unit: 'frames/s', kind: 'figure', better: 'higher', goal: { op: '≥', value: 55 }, read: at('page.framesPerSecond') }),
  figure({ bench: 'console', name: 'longestFrame', label: 'console longest frame while streaming', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 50 }, read: at('page.longestFrameMs') }),
  figure({ bench: 'console', name: 'frameUpdatesPerSecond', label: 'frame updates on the wire', unit: 'updates/s', kind: 'figure', better: 'lower', goal: { op: '≤', value: 20 }, read: at('wire.frameUpdatesPerSecond') }),
  figure({ bench: 'blackbox', name: 'addedP50', label: "black box: cvlab's own share of chat → OSC p50", unit: 'µs', kind: 'figure', better: 'lower', goal: { op: '≤', value: 50 }, read: at('ownShare.addedP50Us') }),
  figure({ bench: 'blackbox', name: 'slipP99', label: 'black box: schedule slip p99, 1,000 viewers at 5,000 msg/s', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 0.5 }, read: at('load.slipP99Ms') }),
  figure({ bench: 'blackbox', name: 'matchedShare', label: "black box: the bot's OSC matched to its chat line", unit: '', kind: 'figure', better: 'higher', goal: { op: '≥', value: 0.99 }, read: at('load.matchedShare') }),
  figure({ bench: 'loopback', name: 'clockErrorP50', label: 'loop-back clock-model error p50, worst link', unit: 'µs', kind: 'figure', better: 'lower', goal: { op: '≤', value: 50 }, read: worstOfRows('clockErrorP50Us') }),
  figure({ bench: 'loopback', name: 'clockErrorP99', label: 'loop-back clock-model error p99, worst link', unit: 'µs', kind: 'figure', better: 'lower', goal: { op: '≤', value: 150 }, read: worstOfRows('clockErrorP99Us') }),
  figure({ bench: 'cv', name: 'cvOffP50', label: 'chat → CV: `cv` p50 off the emulator\'s truth, 1,000 viewers at 5,000 msg/s', unit: 'µs', kind: 'figure', better: 'lower', goal: { op: '≤', value: 100 }, read: at('cv.offUs') }),
  figure({ bench: 'cv', name: 'oscToCvOffP50', label: 'chat → CV: `oscToCv` p50 off the emulator\'s truth', unit: 'µs', kind: 'figure', better: 'lower', goal: { op: '≤', value: 100 }, read: at('oscToCv.offUs') }),
  figure({ bench: 'load', name: 'replayWorstSecond', label: "replay of a 1-hour log at speed 60: worst second's count off the log's", unit: '%', kind: 'figure', better: 'lower', goal: { op: '≤', value: 2 }, read: at('replay.worstSecondDeviationPercent') }),
  figure({ bench: 'load', name: 'replaySlipP99', label: 'replay schedule slip p99, up to 20,000 msg/s', unit: 'ms', kind: 'figure', better: 'lower', goal: { op: '<', value: 1 }, read: at('replay.slipP99Ms') }),
  figure({ bench: 'chat-log', name: 'ircLinesPerSecond', label: 'raw IRC chat log read (the slower of two sizes)', unit: 'lines/s', kind: 'figure', better: 'higher', goal: { op: '≥', value: 500_000 }, read: combined('irc.small.linesPerSecond', 'irc.large.linesPerSecond', Math.min) }),
  figure({ bench: 'chat-log', name: 'jsonLinesLinesPerSecond', label: 'JSON Lines chat log read (the slower of two sizes)', unit: 'lines/s', kind: 'figure', better: 'higher', goal: { op: '≥', value: 500_000 }, read: combined('jsonLines.small.linesPerSecond', 'jsonLines.large.linesPerSecond', Math.min) }),
  figure({ bench: 'chat-log', name: 'heapLargeOverSmall', label: 'heap peak reading a chat log 5× larger / smaller (worse format)', unit: '×', kind: 'ratio', better: 'lower', goal: { op: '<', value: 2 }, read: combined('ratios.ircHeapPeakLargeOverSmall', 'ratios.jsonLinesHeapPeakLargeOverSmall', Math.max) }),
  figure({ bench: 'fuzz', name: 'crashes', label: 'fuzz crashes (HTTP, WebSocket, files, chat, serial)', unit: '', kind: 'figure', better: 'lower', goal: { op: '=', value: 0 }, read: at('crashes') }),
  // Ratios without a goal: watched for regressions only.
  figure({ bench: 'pipeline', name: 'commitScriptMicroseconds', label: "commit script, Redis's own µs per call", unit: 'µs', kind: 'figure', better: 'lower', read: at('commitScript.after.usecPerCall') }),
  figure({ bench: 'pipeline', name: 'redisCommitNodeCpu', label: 'Redis store, cvlab CPU per message (256 in flight, commits written per turn)', unit: 'µs', kind: 'figure', better: 'lower', read: at('commitWrites.after.nodeUsPerMessage') }),
  figure({ bench: 'pipeline', name: 'commitWritesNodeCpuPerTurnOverPerCommand', label: 'Redis store CPU per message, commits written per turn / per command', unit: '×', kind: 'ratio', better: 'lower', read: at('commitWrites.ratios.nodeCpuAfterOverBefore') }),
  figure({ bench: 'audit', name: 'hostThreadCpuAuditOnOverOff', label: "host thread's CPU, audit log on (its own thread) / off", unit: '×', kind: 'ratio', better: 'lower', read: at('hostThreadCpuOnOverOff.thread') }),
  figure({ bench: 'load', name: 'redisOverMemoryE2eP99', label: 'e2e p99, Redis / memory store', unit: '×', kind: 'ratio', better: 'lower', read: at('ratios.redisOverMemoryE2eP99') }),
  figure({ bench: 'load', name: 'ceilingOverTargetRate', label: "generator's ceiling / 5,000 msg/s", unit: '×', kind: 'ratio', better: 'higher', read: at('ratios.ceilingOverTargetRate') }),
  figure({ bench: 'engine', name: 'onHostOverEngineThreadLoopP99', label: 'loop-delay p99, engine on the host thread / on its own', unit: '×', kind: 'ratio', better: 'higher', read: at('ratios.onHostOverEngineThreadLoopP99') }),
  figure({ bench: 'engine', name: 'burstWorstE2eP99', label: 'worst `burst` run e2e p99', unit: 'ms', kind: 'figure', better: 'lower', read: at('burst.worstMs') }),
  figure({ bench: 'multi', name: 'scalingFourInstances', label: 'throughput, 4 instances / 1', unit: '×', kind: 'ratio', better: 'higher', read: at('throughput.scaling4') }),
  figure({ bench: 'audit', name: 'copyOverSingleInsert', label: 'audit COPY / one INSERT per row', unit: '×', kind: 'ratio', better: 'higher', read: at('copyVsSingleInsert') }),
  figure({ bench: 'blackbox', name: 'cvlabOverRawP50', label: 'black box chat → OSC p50, cvlab / raw floor', unit: '×', kind: 'ratio', better: 'lower', read: combined('ownShare.cvlabP50Us', 'ownShare.rawP50Us', (cvlab, raw) => Math.round((cvlab / raw) * 1000) / 1000) }),
];

/** Whether a value meets a goal. */
export function meets(value: number, goal: Goal): boolean {
  switch (goal.op) {
    case '<':
      return value < goal.value;
    case '≤':
      return value <= goal.value;
    case '≥':
      return value >= goal.value;
    case '=':
      return value === goal.value;
  }
}

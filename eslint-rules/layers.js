// Which folder may import which: the one table behind docs/architecture.md's "Layers" section and
// the `cvlab/layers` lint rule. A folder is named from the repository's root; a file belongs to the
// longest folder that holds it; imports inside one folder are always allowed.

/**
 * @typedef {object} Layer
 * @property {string} folder      a folder or a single file, from the repository's root
 * @property {string} runs        where its code runs
 * @property {string[]} imports   folders it may import (besides its own)
 * @property {string[]} [types]   folders (with all below them) it may import types from: `import type` is erased, so it crosses no thread
 * @property {string} what        one line for the table
 */

const lab = 'src/main/lab';

/** @type {Layer[]} */
export const LAYERS = [
  { folder: 'src/shared', runs: 'any runtime (no `node:`, DOM or Electron)', imports: [], what: 'the contract: `LabApi`, rig, scenario, run, report, alerts, loop-back and chat-log schemas, exit codes; what the console and the HTML report share: the glossary, the layouts of their pictures' },
  { folder: `${lab}/common`, runs: 'either thread (Node)', imports: ['src/shared'], what: 'what both threads load: histograms and their transfer, the engine protocol, arrival plans (the host reads planned counts from them), the tap ring, the audit batch, the monotonic clock, the rig\'s grammar (validator, values, output scaling), IRC lines, chat-log readers, the UDP listener lookup, `spawnTied` (children that end with cvlab), Redis targets and clients (one server or a Redis Cluster)' },
  { folder: `${lab}/engine`, runs: 'the engine thread', imports: ['src/shared', `${lab}/common`, `${lab}/engine/load`, `${lab}/engine/pipeline`, `${lab}/engine/blackbox`, `${lab}/engine/fanout`], what: 'the measured engine: `engine-worker.ts` (the thread\'s entry), `measured-engine.ts`, `instance-stage.ts` (an instance\'s propagation stage and OSC relay), `send-once.ts` (`cvlab send`\'s one message)' },
  { folder: `${lab}/engine/load`, runs: 'the engine thread', imports: ['src/shared', `${lab}/common`, `${lab}/engine/pipeline`], what: 'the open-model scheduler, the seeded traffic generator, a replay\'s recorded chat, warm-up' },
  { folder: `${lab}/engine/pipeline`, runs: 'the engine thread', imports: ['src/shared', `${lab}/common`], what: 'the system under test: limiter, state stores (memory, Redis), OSC output' },
  { folder: `${lab}/engine/blackbox`, runs: 'the engine thread', imports: ['src/shared', `${lab}/common`, `${lab}/engine/pipeline`], what: 'the technician\'s bot as the system under test: chat endpoint, OSC catcher, matcher, bot runner' },
  { folder: `${lab}/engine/fanout`, runs: 'the engine thread', imports: ['src/shared', `${lab}/common`], types: [`${lab}/engine/pipeline`], what: 'the fan-out server the pipeline pushes accepted changes to, and the run\'s fan-out stage around it' },
  { folder: `${lab}/metrics`, runs: 'host', imports: ['src/shared', `${lab}/common`], what: 'a run\'s figures on the host: interval windows, thresholds, leak detector, resource sampler' },
  { folder: `${lab}/store`, runs: 'host (PGlite: a process of its own)', imports: ['src/shared', `${lab}/common`], what: 'PostgreSQL or embedded PGlite, migrations, repositories, the recorder and its journal' },
  { folder: `${lab}/audit`, runs: 'host (into PostgreSQL: a thread of its own)', imports: ['src/shared', `${lab}/common`, `${lab}/store`], what: 'the audit log: COPY batches, spool files, replay; its thread (`audit-worker.ts`) and the host\'s end of it (`audit-thread.ts`)' },
  { folder: `${lab}/alerts`, runs: 'host', imports: ['src/shared'], what: 'alert rules, evaluation, handlers' },
  { folder: `${lab}/server`, runs: 'host', imports: ['src/shared'], what: '`cvlab serve`: HTTP, the WebSocket bridge, CSP, the frame batcher' },
  { folder: `${lab}/metrics-export`, runs: 'host', imports: ['src/shared', `${lab}/common`, `${lab}/server`], what: 'Prometheus `/metrics` from frames' },
  { folder: `${lab}/loopback`, runs: 'host (the emulator: a process of its own)', imports: ['src/shared', `${lab}/common`, `${lab}/store`, `${lab}/server`], what: 'the probe: serial transport, clock model, edge matching, the emulator' },
  { folder: `${lab}/report`, runs: 'host', imports: ['src/shared', `${lab}/common`, `${lab}/store`, `${lab}/metrics`, `${lab}/loopback`], what: 'reports, exports, comparisons, trends' },
  { folder: `${lab}/files`, runs: 'host', imports: ['src/shared'], what: 'the user\'s files: rigs, scenarios, paths of resources and the data folder, where a replay\'s chat log is found' },
  { folder: `${lab}/chat`, runs: 'host', imports: ['src/shared', `${lab}/common`], what: 'recorded chat on the host: `cvlab chat record` (an IRC client) and a log\'s stats' },
  { folder: `${lab}/run`, runs: 'host', imports: ['src/shared', `${lab}/common`, `${lab}/metrics`], types: [`${lab}/engine`], what: 'the host\'s end of one measured run: `RunController` (built in one place, `createRunController`), the engine thread\'s link, the OSC tap' },
  { folder: `${lab}/multi`, runs: 'host (agents: processes of their own)', imports: ['src/shared', `${lab}/common`, `${lab}/metrics`, `${lab}/run`, `${lab}/metrics-export`, `${lab}/files`], types: [`${lab}/engine`], what: 'several instances over one Redis: the coordinator, agents, merging' },
  { folder: `${lab}/fanout`, runs: 'host (subscribers: processes of their own)', imports: ['src/shared', `${lab}/common`, `${lab}/metrics`, `${lab}/run`, `${lab}/multi`], types: [`${lab}/engine`], what: 'fan-out scaling runs: simulated WebSocket subscribers' },
  { folder: `${lab}/session`, runs: 'host', imports: ['src/shared', `${lab}/common`, `${lab}/metrics`, `${lab}/run`, `${lab}/multi`, `${lab}/fanout`, `${lab}/audit`, `${lab}/store`, `${lab}/alerts`, `${lab}/report`, `${lab}/metrics-export`, `${lab}/files`], types: [`${lab}/engine`], what: 'the one engine session (`RunService`): reads a run request, decides store, audit, target and kind; `cvlab send`\'s one message (`send-message.ts`)' },
  { folder: lab, runs: 'host', imports: ['src/shared', `${lab}/common`, `${lab}/session`, `${lab}/loopback`, `${lab}/report`, `${lab}/store`, `${lab}/server`, `${lab}/files`, `${lab}/metrics-export`, `${lab}/chat`], types: [`${lab}/engine`, `${lab}/run`], what: '`Lab` (`lab.ts`, the composition root and `LabApi`), `doctor.ts`, `probe-commands.ts` (the probe for the command line: a loop-back run, saving it as the console does, the emulator)' },
  { folder: 'src/main/cli', runs: 'host (`cvlab`)', imports: ['src/shared', lab, `${lab}/session`, `${lab}/files`, `${lab}/server`], what: 'the command line: flags in, formatted text out; `exit-status.ts` turns every outcome into its exit code, `on-stop-request.ts` stops long-running commands on Ctrl-C, SIGTERM, SIGHUP or their parent ending' },
  { folder: 'src/main/cli.ts', runs: 'host (`cvlab`)', imports: ['src/shared', 'src/main/cli'], what: 'the `cvlab` program: its commands, and the one place the exit code is set' },
  { folder: 'src/main/index.ts', runs: 'Electron main', imports: ['src/shared', 'src/main/ipc.ts', lab], what: 'the window' },
  { folder: 'src/main/ipc.ts', runs: 'Electron main', imports: ['src/shared'], what: 'one validating `handle()` per command' },
  { folder: 'src/preload', runs: 'Electron preload (sandboxed)', imports: ['src/shared'], what: '`window.lab`: named functions derived from `api.ts`' },
  { folder: 'src/renderer', runs: 'browser', imports: ['src/shared'], what: 'the React console; talks only to `LabApi`' },
];

/**
 * Imports that cross a line the table draws, each with the reason it stands and what removes it.
 * @type {{ from: string, to: string, why: string }[]}
 */
export const EXCEPTIONS = [
  { from: `${lab}/run/engine-thread.ts`, to: `${lab}/engine/in-thread-engine.ts`, why: 'a test\'s stage hook is a function, which cannot cross into a worker: the same engine then runs on the host\'s thread, and RunInfo.engineThreadId says so' },
];

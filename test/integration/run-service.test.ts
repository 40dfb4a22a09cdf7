// The one engine session as each host drives it: the console (Lab, and `cvlab serve` with a
// WebSocket client attached), `cvlab run`, and the engine alone.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { AlertEvent } from '../../src/shared/alerts';
import { LAB_SOCKET_PATH } from '../../src/shared/api';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { RunSummary } from '../../src/shared/run';
import { ScenarioSchema, type ScenarioInput } from '../../src/shared/scenario';
import { Lab } from '../../src/main/lab/lab';
import { RunController } from '../../src/main/lab/run/run-controller';
import type { MultiInstanceSummary } from '../../src/main/lab/multi/multi-instance-run';
import { LabServer } from '../../src/main/lab/server/lab-server';
import { freePort, redisUrl } from '../setup/services';

let folder: string;
let rig: RigConfig;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-run-service-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as { variables: Record<string, unknown>[] } & Record<string, unknown>;
  // No time-dependent rejections (limits and cooldowns out of reach): the same seed gives the same outcomes.
  rig = RigSchema.parse({
    ...demo,
    osc: { host: '127.0.0.1', port: await freePort() },
    limiter: { userRate: 1e6, userBurst: 1e6, globalRate: 1e6, globalBurst: 1e6 },
    variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
  });
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify(rig));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

const countsScenario: ScenarioInput = {
  name: 'same-counts',
  executor: { type: 'constant-arrival-rate', rate: 400, duration: '1s' },
  traffic: { users: 300, mix: { valid: 60, multi: 10, empty: 5, too_long: 5, bad_char: 5, unknown_variable: 5, bad_value: 5, out_of_range: 5 } },
  seed: 77,
};

/** What must read the same whichever host ran the scenario. */
const countsOf = (summary: RunSummary): Record<string, unknown> => ({ sent: summary.sent, accepted: summary.outcomes.accepted, rejected: summary.outcomes.rejected, failed: summary.outcomes.failed, byCode: summary.outcomes.byCode });

/** Calls and events over the console's WebSocket, as the browser client does. */
async function connect(server: LabServer): Promise<{ call(command: string, ...args: unknown[]): Promise<unknown>; next(event: string): Promise<unknown>; close(): void }> {
  const url = new URL(server.url);
  const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
  const socket = new WebSocket(`ws://${url.host}${LAB_SOCKET_PATH}?token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
  let id = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const waiting = new Map<string, ((payload: unknown) => void)[]>();
  socket.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString()) as { type: string; id?: number; value?: unknown; message?: string; event?: string; payload?: unknown };
    if (reply.type === 'result') pending.get(reply.id ?? -1)?.resolve(reply.value);
    else if (reply.type === 'error') pending.get(reply.id ?? -1)?.reject(new Error(reply.message));
    else if (reply.type === 'event') for (const resolve of waiting.get(reply.event ?? '')?.splice(0) ?? []) resolve(reply.payload);
  });
  return {
    call: (command, ...args) =>
      new Promise((resolve, reject) => {
        pending.set(++id, { resolve, reject });
        socket.send(JSON.stringify({ type: 'call', id, command, args }));
      }),
    next: (event) =>
      new Promise((resolve) => {
        waiting.set(event, [...(waiting.get(event) ?? []), resolve]);
        socket.send(JSON.stringify({ type: 'subscribe', event }));
      }),
    close: () => socket.close(),
  };
}

describe('one engine session for every host', () => {
  it('gives the same counts through cvlab run, through serve with a WebSocket client, and through the engine alone', async () => {
    // The engine alone.
    const engine = new RunController();
    await engine.start({ scenario: ScenarioSchema.parse(countsScenario), rig });
    const alone = await engine.finished();
    expect(alone).toBeDefined();

    // cvlab run, as a real process.
    const scenarioPath = join(folder, 'same-counts.json');
    const jsonPath = join(folder, 'same-counts-summary.json');
    await writeFile(scenarioPath, JSON.stringify(countsScenario));
    const cli = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'run', scenarioPath, '--rig', rigPath, '--no-save', '--json', jsonPath], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('close', resolve);
    });
    expect(cli).toBe(0);
    const throughCli = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;

    // cvlab serve: the Lab behind its WebSocket bridge, a client attached and following the frames.
    const lab = new Lab({ host: 'serve', dataDir: join(folder, 'serve'), stores: null });
    const server = await LabServer.start({ lab, rendererDir: folder, host: '127.0.0.1', port: 0 });
    const client = await connect(server);
    try {
      const finished = client.next('onDidFinishRun');
      void client.next('onDidRunFrames');
      await client.call('startRun', { scenario: countsScenario, rig });
      const throughServe = (await finished) as RunSummary;

      expect(alone && countsOf(alone)).toEqual(countsOf(throughCli));
      expect(countsOf(throughServe)).toEqual(countsOf(throughCli));
      expect(throughCli.sent).toBe(400);
      expect(Object.keys(throughCli.outcomes.byCode).length).toBeGreaterThan(3);
    } finally {
      client.close();
      await server.close();
      await lab.dispose();
    }
  }, 120_000);

  it('reads a bot scenario the same through the engine session, cvlab run --json and cvlab serve: the bot is run, on the engine thread, and the black-box sections agree', async () => {
    const botScenario: ScenarioInput = {
      name: 'same-bot',
      executor: { type: 'constant-arrival-rate', rate: 100, duration: '2s' },
      traffic: { users: 50, mix: { valid: 70, multi: 10, bad_value: 10, unknown_variable: 10 } },
      seed: 21,
      target: { kind: 'bot', command: 'node examples/tmi-bot/bot.js', chatPort: 0, joinTimeout: '30s', matchWindow: '5s' },
    };
    /** What must read the same whichever host ran the bot scenario. */
    const blackBoxOf = (summary: RunSummary | undefined): Record<string, unknown> => {
      const blackBox = summary?.blackBox;
      return {
        sent: summary?.sent,
        chatSent: blackBox?.chatSent,
        matched: blackBox?.matched,
        rejectedByModel: blackBox?.missing.rejectedByModel,
        acceptedButSilent: blackBox?.missing.acceptedButSilent,
        unmatchedOsc: blackBox?.unmatchedOsc,
        bot: { command: blackBox?.bot.command, transport: blackBox?.bot.transport, exitCode: blackBox?.bot.exitCode, exitedDuringRun: blackBox?.bot.exitedDuringRun },
        chatToOscSamples: summary?.stages.chatToOsc?.count,
      };
    };

    // The engine session alone, as every host drives it.
    const { RunService } = await import('../../src/main/lab/session/run-service');
    const service = new RunService({ stores: null, warmUpMessages: 0, log: () => undefined });
    const awaited: string[] = [];
    service.onDidAwaitBot((event) => awaited.push(event.environment['CVLAB_RIG'] ?? ''));
    let throughSession: RunSummary | undefined;
    try {
      const info = await service.start({ scenario: botScenario, rig, rigFile: rigPath });
      expect(info.bot?.joined).toBe(true);
      throughSession = (await service.finished())?.summary;
    } finally {
      await service.dispose();
    }
    expect(awaited).toEqual([rigPath]);

    // cvlab run, as a real process: the scenario's target, no flags.
    const scenarioPath = join(folder, 'same-bot.json');
    const jsonPath = join(folder, 'same-bot-summary.json');
    await writeFile(scenarioPath, JSON.stringify(botScenario));
    const cli = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'run', scenarioPath, '--rig', rigPath, '--no-save', '--json', jsonPath], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('close', resolve);
    });
    expect(cli).toBe(0);
    const throughCli = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;

    // cvlab serve: the console's WebSocket hands in the same scenario.
    const lab = new Lab({ host: 'serve', dataDir: join(folder, 'serve-bot'), stores: null, warmUpMessages: 0 });
    const server = await LabServer.start({ lab, rendererDir: folder, host: '127.0.0.1', port: 0 });
    const client = await connect(server);
    let throughServe: RunSummary;
    try {
      const finished = client.next('onDidFinishRun');
      await client.call('startRun', { scenario: botScenario, rig });
      throughServe = (await finished) as RunSummary;
    } finally {
      client.close();
      await server.close();
      await lab.dispose();
    }

    expect(throughSession?.blackBox).toBeDefined();
    expect(throughServe.blackBox).toBeDefined();
    expect(blackBoxOf(throughSession)).toEqual(blackBoxOf(throughCli));
    expect(blackBoxOf(throughServe)).toEqual(blackBoxOf(throughCli));
    expect(throughCli.sent).toBe(200);
    expect(throughCli.blackBox?.missing.acceptedButSilent).toBe(0);
    expect(throughCli.blackBox?.matched).toBeGreaterThan(100);
    // The chat endpoint, the OSC catcher and the bot ran on the engine's thread, not the host's (0: the main thread).
    for (const summary of [throughSession, throughCli, throughServe]) {
      expect(summary?.run.engineThreadId).toBeGreaterThan(0);
    }
  }, 240_000);

  it("fires the scenario's own alert rules through the console and keeps them for a reloaded console", async () => {
    const lab = new Lab({ host: 'serve', dataDir: join(folder, 'alerts'), stores: null });
    const seen: AlertEvent[] = [];
    lab.onDidAlert((event) => seen.push(event));
    try {
      const finished = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
      await lab.startRun({
        scenario: {
          ...countsScenario,
          name: 'own-alerts',
          alerts: [{ id: 'anything-sent', name: 'Messages are flowing', metric: 'throughput', comparison: '>=', threshold: 0, severity: 'info' }],
        },
        rig,
      });
      const summary = await finished;
      expect(seen.map((event) => event.ruleId)).toContain('anything-sent');
      // The default rules did not watch this run: the scenario named its own.
      expect(seen.every((event) => event.ruleId === 'anything-sent')).toBe(true);
      const kept = await lab.listAlerts();
      expect(kept.filter((event) => event.kind === 'firing').map((event) => event.ruleId)).toEqual(['anything-sent']);
      expect(kept.at(-1)?.kind).toBe('resolved');
      // The last run's frames stay with the engine after it ended.
      const frames = await lab.runFrames(-1, 100);
      expect(frames.length).toBeGreaterThan(0);
      expect(frames.every((frame) => frame.runId === summary.run.id)).toBe(true);
    } finally {
      await lab.dispose();
    }
  }, 60_000);

  it('starts three engines for a console-started multi-instance run, saves it, lists it in cvlab runs, and reports each instance', async () => {
    const dataDir = join(folder, 'multi');
    const lab = new Lab({ host: 'serve', dataDir });
    let summary: MultiInstanceSummary;
    try {
      const finished = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
      const info = await lab.startRun({
        scenario: { ...countsScenario, name: 'console-multi', multiInstance: { instances: 3, heartbeatTimeout: '5s' } },
        rig: { ...rig, redisUrl: redisUrl() },
      });
      expect(await lab.currentRun()).toMatchObject({ id: info.id, store: 'redis' });
      summary = (await finished) as MultiInstanceSummary;
      expect(summary.run.id).toBe(info.id);
      expect(summary.perInstance).toHaveLength(3);
      expect(new Set(summary.perInstance.map((instance) => instance.pid)).size).toBe(3);
      expect(summary.lost).toEqual([]);
      // Wait for the saving to end (the console's finish event comes before it).
      for (let waited = 0; waited < 30_000; waited += 100) {
        const list = await lab.listReports({});
        if (list.some((entry) => entry.id === info.id && entry.status !== 'running')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const html = (await lab.exportReport(info.id, 'html')).text;
      expect(html).toContain('<h2>Instances</h2>');
      for (const instance of summary.perInstance) expect(html).toContain(instance.agentId);
    } finally {
      await lab.dispose();
    }
    // The same store, read by the command line.
    const runs = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'runs', '--data-dir', join(dataDir, 'db')], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', reject);
      child.once('close', () => resolve(out));
    });
    expect(runs).toContain(summary.run.id);
    expect(runs).toContain('console-multi');
  }, 180_000);
});

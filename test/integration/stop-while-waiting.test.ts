// Stop ends a run at once while its engine still waits before the first message (a bot's JOIN,
// the fan-out's subscribers): the run ends within seconds, is kept and saved as stopped before it
// started, says what it waited for, and leaves no process behind.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnreachableError } from '../../src/shared/exit-codes';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { ScenarioInput } from '../../src/shared/scenario';
import { StoppedWhileWaitingError } from '../../src/main/lab/common/stopped-while-waiting';
import { FanoutServer } from '../../src/main/lab/engine/fanout/fanout-server';
import { RunService, RunStoppedBeforeStartError } from '../../src/main/lab/session/run-service';
import { RunStores } from '../../src/main/lab/session/run-stores';
import { spawnCvlab } from '../setup/cvlab-run';
import { databaseUrl, freePort, redisUrl } from '../setup/services';
import { waitFor } from '../setup/wait-for';

let folder: string;
let rig: RigConfig;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-stop-waits-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port: await freePort() } });
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify(rig));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** Process ids whose command line holds `marker` (a process cvlab started for this test). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker) && !/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) found.push(Number(entry));
    } catch {
      // gone while listing
    }
  }
  return found;
}

const botScenario = (target: Record<string, unknown>): ScenarioInput => ({
  name: 'stop-while-waiting',
  executor: { type: 'constant-arrival-rate', rate: 50, duration: '5s' },
  traffic: { users: 20, mix: { valid: 100 } },
  target: { kind: 'bot', chatPort: 0, joinTimeout: '2m', ...target },
});

describe('Stop while the engine waits', () => {
  it('a bot run nobody joins: stopped once the session says it waits, it ends within seconds, saved as stopped while waiting for the bot', async () => {
    const stores = RunStores.choose({ databaseUrl: databaseUrl() });
    const service = new RunService({ stores, warmUpMessages: 0, log: () => undefined });
    let awaited = false;
    service.onDidAwaitBot(() => (awaited = true));
    try {
      const starting = service.start({ scenario: botScenario({}), rig, rigFile: rigPath, audit: false });
      starting.catch(() => undefined);
      await waitFor(() => awaited, 'the session to say it waits for the bot', 60_000);
      expect(service.current()?.state).toBe('starting');
      const finished = service.finished();
      expect(finished).toBeDefined();
      const stoppedAt = Date.now();
      const stopped = await service.stop();
      const outcome = await finished;
      // Far below the two-minute join timeout; generous for a busy machine.
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      expect(stopped?.stopReason).toBe('stopped');
      const summary = outcome?.summary;
      expect(summary?.stopReason).toBe('stopped');
      expect(summary?.passed).toBe(false);
      expect(summary?.sent).toBe(0);
      expect(summary?.reason).toMatch(/^stopped while waiting for the bot to join #cvlab \(0 of 1 joined; the bot never connected to the chat endpoint\)/);
      const error = await starting.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(RunStoppedBeforeStartError);
      expect((error as Error).message).toBe(summary?.reason);
      expect(service.current()).toBeUndefined();
      // Saved, as stopped, with the words.
      expect(outcome?.saved).toBe(true);
      const report = await stores.reportsFor(rig).getReport(summary?.run.id ?? '');
      expect((report.summary.raw as { stopReason?: string; reason?: string } | null)?.stopReason).toBe('stopped');
      expect((report.summary.raw as { reason?: string } | null)?.reason).toBe(summary?.reason);
    } finally {
      await service.dispose();
      await stores.close();
    }
  }, 120_000);

  it('a bot command that never joins is stopped with the run: no bot process is left', async () => {
    const marker = `cvlab-never-joins-${randomBytes(4).toString('hex')}`;
    const service = new RunService({ stores: null, warmUpMessages: 0, log: () => undefined });
    let awaited = false;
    service.onDidAwaitBot(() => (awaited = true));
    try {
      const starting = service.start({ scenario: botScenario({ command: `node -e "setInterval(() => {}, 1000)" ${marker}` }), rig, rigFile: rigPath });
      starting.catch(() => undefined);
      await waitFor(() => awaited, 'the session to say it starts the bot', 60_000);
      await waitFor(() => processesWith(marker).length > 0, 'the bot process to run', 30_000);
      const stoppedAt = Date.now();
      const summary = await service.stop();
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      expect(summary?.stopReason).toBe('stopped');
      expect(summary?.reason).toMatch(/^stopped while waiting for the bot to join #cvlab \(0 of 1 joined; the bot never connected/);
      await expect(starting).rejects.toBeInstanceOf(RunStoppedBeforeStartError);
      await waitFor(() => processesWith(marker).length === 0, 'the bot process to end', 15_000);
    } finally {
      await service.dispose();
    }
  }, 120_000);

  it('a fan-out run stopped while its subscribers connect ends within seconds, stopped before it started, its subscriber process ended', async () => {
    const service = new RunService({ stores: null, warmUpMessages: 0, log: () => undefined });
    const scenario: ScenarioInput = {
      name: 'stop-fanout-while-waiting',
      executor: { type: 'constant-arrival-rate', rate: 50, duration: '5s' },
      traffic: { users: 20, mix: { valid: 100 } },
      // Thousands of subscribers from a process of their own: their connecting takes the machine a while.
      fanout: { subscribers: 4000, maxClients: 5000 },
    };
    try {
      const starting = service.start({ scenario, rig });
      starting.catch(() => undefined);
      // The subscribers' process is started once the fan-out server listens, that is while the engine waits for them.
      const subscriberProcesses = (): number[] => processesWith('fanout-subscriber-process').filter((pid) => isChildOf(pid, process.pid));
      await waitFor(() => subscriberProcesses().length > 0, 'the subscribers to be started', 60_000, 5);
      expect(service.current()?.state).toBe('starting');
      const stoppedAt = Date.now();
      const summary = await service.stop();
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      expect(summary?.stopReason).toBe('stopped');
      expect(summary?.sent).toBe(0);
      const connected = /^stopped while waiting for the fan-out's subscribers to connect \((\d+) of 4000 connected\)$/.exec(summary?.reason ?? '');
      expect(connected, summary?.reason).not.toBeNull();
      expect(Number(connected?.[1])).toBeLessThan(4000);
      await expect(starting).rejects.toBeInstanceOf(RunStoppedBeforeStartError);
      await waitFor(() => subscriberProcesses().length === 0, 'the subscriber process to end', 15_000);
    } finally {
      await service.dispose();
    }
  }, 120_000);

  it('a multi-instance run whose instances never join: stopped, it ends within seconds, kept as stopped while waiting for the instances, its local instances ended', async () => {
    const marker = `cvlab-instance-never-joins-${randomBytes(4).toString('hex')}`;
    // Local instances that start and never join the run (nothing listens for its announcement).
    const service = new RunService({ stores: null, log: () => undefined, instanceCommand: () => ({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)', marker] }) });
    const scenario: ScenarioInput = {
      name: 'stop-instances-while-waiting',
      executor: { type: 'constant-arrival-rate', rate: 50, duration: '5s' },
      traffic: { users: 20, mix: { valid: 100 } },
      multiInstance: { instances: 2, joinTimeout: '2m' },
    };
    try {
      await service.start({ scenario, rig: { ...rig, redisUrl: redisUrl() } });
      await waitFor(() => processesWith(marker).length === 2, 'the local instances to run', 30_000);
      const finished = service.finished();
      const stoppedAt = Date.now();
      const summary = await service.stop();
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      expect(summary?.stopReason).toBe('stopped');
      expect(summary?.reason).toBe('stopped while waiting for the instances to join (0 of 2 joined)');
      expect((await finished)?.summary.stopReason).toBe('stopped');
      await waitFor(() => processesWith(marker).length === 0, 'the local instances to end', 15_000);
    } finally {
      await service.dispose();
    }
  }, 120_000);

  it("the fan-out server's wait ends at once on a stop, and a wait that runs out names how many connected and the limit", async () => {
    const server = await FanoutServer.listen({ maxClients: 10 });
    try {
      const stopper = new AbortController();
      const waiting = server.waitForClients(3, 60_000, stopper.signal);
      stopper.abort();
      await expect(waiting).rejects.toBeInstanceOf(StoppedWhileWaitingError);
      await expect(waiting).rejects.toThrow("stopped while waiting for the fan-out's subscribers to connect (0 of 3 connected)");
      const late = server.waitForClients(2, 300);
      await expect(late).rejects.toBeInstanceOf(ServiceUnreachableError);
      await expect(late).rejects.toThrow("the fan-out's subscribers did not answer: only 0 of 2 connected within the 0.3 s limit");
    } finally {
      await server.close();
    }
  });

  it("cvlab run with the scenario's bot command: Ctrl-C while it waits for the JOIN exits promptly with the code of a stopped run, prints the summary, and leaves no bot process", async () => {
    const marker = `cvlab-cli-never-joins-${randomBytes(4).toString('hex')}`;
    const scenarioPath = join(folder, 'cli-bot.json');
    await writeFile(scenarioPath, JSON.stringify(botScenario({ command: `node -e "setInterval(() => {}, 1000)" ${marker}` })));
    const jsonPath = join(folder, 'cli-bot-summary.json');
    const cvlab = spawnCvlab(['run', scenarioPath, '--rig', rigPath, '--no-save', '--json', jsonPath]);
    await waitFor(() => /waiting for it to join/.test(cvlab.stderr()), 'cvlab to say it waits for the bot', 60_000);
    await waitFor(() => processesWith(marker).length > 0, 'the bot process to run', 30_000);
    const interruptedAt = Date.now();
    cvlab.child.kill('SIGINT');
    const result = await cvlab.exited;
    expect(Date.now() - interruptedAt).toBeLessThan(15_000);
    // A stopped run that measured nothing passes nothing: exit 1, as for any run that did not pass.
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/stopped: stopped while waiting for the bot to join #cvlab \(0 of 1 joined/);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as { stopReason: string; sent: number };
    expect(summary).toMatchObject({ stopReason: 'stopped', sent: 0 });
    await waitFor(() => processesWith(marker).length === 0, 'the bot process to end', 15_000);
  }, 120_000);
  it('cvlab run --bot-wait: Ctrl-C while nobody has joined exits promptly with the code of a stopped run and says what it waited for', async () => {
    const scenarioPath = join(folder, 'cli-wait.json');
    await writeFile(scenarioPath, JSON.stringify({ name: 'stop-bot-wait', executor: { type: 'constant-arrival-rate', rate: 50, duration: '5s' }, traffic: { users: 20, mix: { valid: 100 } } }));
    const cvlab = spawnCvlab(['run', scenarioPath, '--rig', rigPath, '--no-save', '--bot-wait', '--chat-port', '0']);
    await waitFor(() => /waiting for a bot to join/.test(cvlab.stderr()), 'cvlab to say it waits for a bot', 60_000);
    const interruptedAt = Date.now();
    cvlab.child.kill('SIGINT');
    const result = await cvlab.exited;
    expect(Date.now() - interruptedAt).toBeLessThan(15_000);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/stopped: stopped while waiting for the bot to join #cvlab \(0 of 1 joined; the bot never connected to the chat endpoint\)/);
  }, 120_000);
});

/** Whether `pid`'s chain of parents leads to `ancestor`. */
function isChildOf(pid: number, ancestor: number): boolean {
  for (let current = pid, hops = 0; current > 1 && hops < 64; hops++) {
    try {
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
      current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
    if (current === ancestor) return true;
  }
  return false;
}

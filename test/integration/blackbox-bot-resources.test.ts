import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { ScenarioInput } from '../../src/shared/scenario';
import { createBlackBoxPipeline, type BlackBoxOptions } from '../../src/main/lab/engine/blackbox/black-box-pipeline';
import { RunController } from '../../src/main/lab/run/run-controller';
import { findSocketOwner } from '../../src/main/lab/metrics/socket-owner';
import { ProcessTreeSampler } from '../../src/main/lab/metrics/process-tree-sampler';
import { waitFor } from '../setup/wait-for';

let folder: string;
let rig: RigConfig;
let rigPath: string;
let wrapperPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-bot-resources-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify(demo));
  rig = RigSchema.parse(demo);
  // A launcher as bots are often started: a shell script that starts node (npm start, a venv's bin/).
  wrapperPath = join(folder, 'start-bot.sh');
  await writeFile(wrapperPath, `#!/bin/sh\nnode ${join(process.cwd(), 'examples/tmi-bot/bot.js')} "$@"\necho "bot ended"\n`);
});
afterAll(() => rm(folder, { recursive: true, force: true }));

// 1 s windows over 8 s: the first points (a young process growing) are left out of the fit. The
// tolerance, 120 MiB/min, sits far above a Node bot's own settling and far below the test leak.
const scenario: ScenarioInput = {
  name: 'bot-health',
  executor: { type: 'constant-arrival-rate', rate: 40, duration: '8s' },
  traffic: { users: 40 },
  leakDetection: { window: '1s', toleranceMiBPerHour: 120 * 60 },
  thresholds: { 'bot.cpu.max': '<400%' },
  seed: 21,
};

async function runAgainstBot(blackBox: BlackBoxOptions, input: ScenarioInput = scenario) {
  const controller = new RunController({
    warmUpMessages: 0,
    createPipeline: (runRig, options) => createBlackBoxPipeline(runRig, { ...options, blackBox }),
  });
  const frames: number[] = [];
  controller.onDidRunFrame((frame) => {
    if (frame.bot) frames.push(frame.bot.rssBytes);
  });
  await controller.start({ scenario: input, rig });
  const summary = await controller.finished();
  return { summary, frames };
}

describe("the bot's own health in a black-box run", () => {
  it('calls the reference bot leaking when it leaks, through a shell wrapper, every process of the tree counted', async () => {
    const { summary, frames } = await runAgainstBot({ chatPort: 0, command: `sh ${wrapperPath} --test-leak 900`, rigPath, joinTimeoutMs: 20_000 });
    const resources = summary?.blackBox?.resources;
    expect(resources?.unavailable).toBeUndefined();
    expect(resources?.foundBy).toBe('command');
    // The shell the command started and the node it started in turn.
    expect(resources?.processes.map((process) => process.name)).toEqual(['sh', 'node']);
    expect(resources?.leak?.leaking).toBe(true);
    expect(resources?.leak?.slopeBytesPerHour).toBeGreaterThan(300 * 1024 * 1024 * 60);
    expect(resources?.rss?.endBytes).toBeGreaterThan((resources?.rss?.startBytes ?? 0) + 40 * 1024 * 1024);
    expect(resources?.cpu?.meanPercent).toBeGreaterThan(0);
    expect(frames.length).toBeGreaterThan(20);
    // A leaking bot fails the run, whatever its latency.
    expect(summary?.passed).toBe(false);
    expect(summary?.thresholds.find((verdict) => verdict.key === 'bot.cpu.max')?.samples).toBeGreaterThan(20);
  });

  it('does not call the reference bot leaking without the leak', async () => {
    const { summary } = await runAgainstBot({ chatPort: 0, command: 'node examples/tmi-bot/bot.js', rigPath, joinTimeoutMs: 20_000 });
    const resources = summary?.blackBox?.resources;
    expect(resources?.processes.map((process) => process.name)).toEqual(['node']);
    expect(resources?.leak?.samples).toBeGreaterThanOrEqual(3);
    expect(resources?.leak?.leaking).toBe(false);
    expect(resources?.rss?.maxBytes).toBeGreaterThan(20 * 1024 * 1024);
  });

  it('finds a bot started elsewhere (--bot-wait) by its chat connection', async () => {
    let bot: ChildProcess | undefined;
    try {
      const { summary } = await runAgainstBot({
        chatPort: 0,
        rigPath,
        joinTimeoutMs: 20_000,
        onListening: (environment) => {
          bot = spawn(process.execPath, ['examples/tmi-bot/bot.js'], { env: { ...process.env, ...environment }, stdio: 'ignore' });
        },
      });
      const resources = summary?.blackBox?.resources;
      expect(resources?.unavailable).toBeUndefined();
      expect(resources?.foundBy).toBe('connection');
      expect(resources?.pid).toBe(bot?.pid);
      expect(resources?.rss?.maxBytes).toBeGreaterThan(20 * 1024 * 1024);
    } finally {
      bot?.kill('SIGTERM');
    }
  });
});

describe("a capacity search against a bot", () => {
  it("reports the rate where the bot's CPU broke, with its CPU per step", async () => {
    // A limit no running bot keeps: the first step breaks on the bot's CPU, not on chat → OSC.
    const stress: ScenarioInput = {
      name: 'bot-capacity',
      executor: { type: 'constant-arrival-rate', rate: 20, duration: '6s' },
      traffic: { users: 40 },
      capacitySearch: { startRate: 20, stepRate: 20, maxRate: 60, stepDuration: '2s' },
      thresholds: { 'chatToOsc.p99': '<30s', 'bot.cpu.max': '<0.001%' },
      seed: 22,
    };
    const { summary } = await runAgainstBot({ chatPort: 0, command: 'node examples/tmi-bot/bot.js', rigPath, joinTimeoutMs: 20_000 }, stress);
    const capacity = summary?.capacity;
    expect(capacity?.knee).toBeUndefined();
    expect(capacity?.brokeAt).toBe(20);
    const step = capacity?.steps[0];
    expect(step?.botCpuPercentMax).toBeGreaterThan(0);
    expect(step?.thresholds.filter((verdict) => !verdict.passed).map((verdict) => verdict.key)).toEqual(['bot.cpu.max']);
    expect(summary?.passed).toBe(false);
  });
});

describe('finding a process by its connection', () => {
  it('names the owner of a loopback connection', async () => {
    // The far end is a child process, so the owner found is not this one.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const accepted = new Promise<{ host: string; port: number }>((resolve) => server.once('connection', (socket) => resolve({ host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 })));
    const client = spawn(process.execPath, ['-e', `require('node:net').connect(${port}, '127.0.0.1'); setInterval(() => {}, 1000)`], { stdio: 'ignore' });
    try {
      const peer = await accepted;
      expect(await findSocketOwner(peer, port)).toEqual({ pid: client.pid });
    } finally {
      client.kill('SIGKILL');
      server.close();
    }
  });

  it('says plainly when no socket on this machine is the far end', async () => {
    const owner = await findSocketOwner({ host: '192.0.2.7', port: 1 }, 2);
    expect(owner).toEqual({ unavailable: expect.stringMatching(/no socket on this machine is the bot's end of the chat connection \(192\.0\.2\.7:1\): it runs on another machine/) });
  });

  it('does not take its own end of a connection for the peer', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const socket = connect(port, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      // Both ends are this process, which is never the answer: the bot is someone else.
      const owner = await findSocketOwner({ host: '127.0.0.1', port: socket.localPort ?? 0 }, port);
      expect(owner).toHaveProperty('unavailable');
    } finally {
      socket.destroy();
      server.close();
    }
  });
});

describe('the process tree sampler', () => {
  it('counts a descendant started after the watch began', async () => {
    // A shell that starts a busy child a moment later, then waits for it.
    const shell = spawn('sh', ['-c', `sleep 0.3; ${process.execPath} -e "const end = Date.now() + 1500; while (Date.now() < end) {}"; sleep 30`], { stdio: 'ignore' });
    const sampler = await ProcessTreeSampler.watch(shell.pid as number, { discoverEveryMs: 100 });
    try {
      let busy = 0;
      await waitFor(async () => {
        const reading = await sampler.read();
        if (reading && reading.processes >= 2 && reading.cpuPercent > 0) busy++;
        return busy >= 3;
      }, 'the busy child counted in the tree');
      expect(sampler.processes[0]?.name).toBe('sh');
      expect(sampler.processes.map((process) => process.name)).toContain('node');
    } finally {
      await sampler.close();
      shell.kill('SIGKILL');
    }
  });
});

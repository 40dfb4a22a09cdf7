import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { cvlabRun } from '../setup/cvlab-run';

let folder: string;
let scenarioPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-blackbox-cli-'));
  scenarioPath = join(folder, 'short.json');
  await writeFile(scenarioPath, JSON.stringify({ name: 'short', executor: { type: 'constant-arrival-rate', rate: 100, duration: '2s' }, traffic: { users: 50 }, thresholds: { 'chatToOsc.p99': '<10s' }, seed: 8 }));
});
afterAll(() => rm(folder, { recursive: true, force: true }));


describe('cvlab run --bot', () => {
  it('measures the reference bot: the chat → OSC stage, the match counts, and which bot it was', async () => {
    const jsonPath = join(folder, 'summary.json');
    const { code, stdout, stderr } = await cvlabRun([scenarioPath, '--bot', 'node examples/tmi-bot/bot.js', '--chat-port', '0', '--no-save', '--json', jsonPath]);
    expect(stderr).toMatch(/the bot joined #cvlab as cvlab_tmi_bot over IRC over WebSocket/);
    expect(stdout).toMatch(/^chatToOsc\s+\d+/m);
    expect(stdout).toMatch(/black box: bot "node examples\/tmi-bot\/bot\.js" \(cvlab tmi-bot \d+\.\d+\.\d+/);
    expect(stdout).toMatch(/matched \d+ chat messages/);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    const blackBox = summary.blackBox;
    expect(blackBox?.chatSent).toBe(summary.sent);
    expect(blackBox?.matched).toBeGreaterThan(0);
    expect(blackBox?.bot).toMatchObject({ command: 'node examples/tmi-bot/bot.js', exitCode: 0, exitedDuringRun: false });
    expect(summary.stages.chatToOsc?.count).toBe(blackBox?.matched);
    // The bot's own CPU and memory, printed beside cvlab's and in --json.
    expect(stdout).toMatch(/^bot \(pid \d+: node\): CPU mean \d+% \(max \d+% over 1 s\) of one core; RSS [\d.]+ MiB → [\d.]+ MiB/m);
    expect(blackBox?.resources).toMatchObject({ foundBy: 'command', processes: [{ name: 'node' }] });
    expect(blackBox?.resources?.rss?.maxBytes).toBeGreaterThan(0);
    // The threshold is on the bot's own stage; whatever it measured, the exit code says the verdict.
    expect(code).toBe(summary.passed ? 0 : 1);
  });

  it('exits 3 with a plain error when the bot never joins', async () => {
    const { code, stderr } = await cvlabRun([scenarioPath, '--bot', `node -e "console.log('idle bot v0.1.0'); setInterval(() => {}, 1000)"`, '--chat-port', '0', '--no-save']);
    expect(code).toBe(3);
    expect(stderr).toMatch(/the bot never connected to the chat endpoint within 10 s/);
  });

  it('exits 2 on black-box flags that make no sense', async () => {
    const { code, stderr } = await cvlabRun([scenarioPath, '--bot', 'node x.js', '--bot-wait', '--osc-listen', 'nowhere', '--no-save']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--bot and --bot-wait: give one/);
    expect(stderr).toMatch(/--osc-listen: expected host:port like 127\.0\.0\.1:9000, got "nowhere"/);
  });
});

describe('cvlab run --bot-wait', () => {
  it('prints where to point a bot started elsewhere, and measures it once it joins', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'run', scenarioPath, '--bot-wait', '--chat-port', '0', '--no-save'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let started = false;
    // The printed environment is all a bot needs: start the reference bot with exactly that.
    const bot = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const line = /^ {2}(CVLAB_CHAT_HOST=.*) <your bot>$/m.exec(stderr);
        if (!line || started) return;
        started = true;
        const env = Object.fromEntries((line[1] as string).split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
        const botProcess = spawn(process.execPath, ['examples/tmi-bot/bot.js'], { env: { ...process.env, ...env }, stdio: 'ignore' });
        botProcess.once('error', reject);
        child.once('close', () => {
          botProcess.kill('SIGTERM');
          resolve();
        });
      });
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    await bot;
    expect(stderr).toMatch(/black box: waiting for a bot to join/);
    expect(stdout).toMatch(/black box: bot a bot started elsewhere \(printed no version line\) as cvlab_tmi_bot/);
    expect(stdout).toMatch(/^chatToOsc\s+\d+/m);
    // Found by its chat connection, though cvlab did not start it.
    expect(stdout).toMatch(/^bot \(pid \d+: node, found by its chat connection\): CPU mean/m);
    expect(code === 0 || code === 1).toBe(true);
  });
});

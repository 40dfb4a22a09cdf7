import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import type { RigInput } from '../../src/shared/rig';
import type { ScenarioInput } from '../../src/shared/scenario';
import { EmulatorChild } from '../../src/main/lab/loopback/emulator-child';
import { Lab } from '../../src/main/lab/lab';
import { cvlabRun } from '../setup/cvlab-run';
import { databaseUrl, freePort } from '../setup/services';

// Chat → CV end to end: `cvlab run --serial` against the probe emulator (a process of its own,
// on a real pseudo-terminal, with native-USB polling jitter), once through cvlab's own pipeline
// and once through the reference bot with its OSC forwarded to the emulated converter. Counts,
// order and generous bounds only: the accuracy target lives in bench/cv.ts.

const RATE_HZ = 4;
const DURATION_S = 5;
const PROBE_MESSAGES = RATE_HZ * DURATION_S;

let folder: string;
let scenarioPath: string;
let rigPath: string;
let emulator: EmulatorChild;
let oscPort: number;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-chat-to-cv-'));
  oscPort = await freePort();
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rigPath = join(folder, 'rig.json');
  // The demo rig on a port of this test's own, with no tap.
  await writeFile(rigPath, JSON.stringify({ ...demo, name: 'chat-to-cv', osc: { host: '127.0.0.1', port: oscPort } }));
  scenarioPath = join(folder, 'scenario.json');
  await writeFile(
    scenarioPath,
    JSON.stringify({ name: 'chat-to-cv', executor: { type: 'constant-arrival-rate', rate: 100, duration: `${DURATION_S}s` }, traffic: { users: 200 }, probe: { rateHz: RATE_HZ, timeoutMs: 2000 }, seed: 17 }),
  );
  emulator = await EmulatorChild.start({ oscPort, address: '/lzx/proc/invert', link: join(folder, 'probe'), delayMs: 3, serialJitterMs: 1 });
});

afterAll(async () => {
  await emulator?.close();
  await rm(folder, { recursive: true, force: true });
});

/** The checks both targets share: every probe message accounted for, edges matched in order, stages on the matched edges. */
function expectChatToCv(summary: RunSummary): NonNullable<RunSummary['chatToCv']> {
  const cv = summary.chatToCv;
  expect(cv).toBeDefined();
  if (!cv) throw new Error('no chat → CV section');
  expect(cv.variable).toBe('invert');
  expect(cv.sent).toBe(PROBE_MESSAGES);
  expect(cv.passedOn + cv.notPassedOn).toBe(cv.sent);
  // Low, high, low …: every message after the first moves the CV; a busy host may lose one or two.
  expect(cv.matched).toBeGreaterThanOrEqual(PROBE_MESSAGES - 3);
  expect(cv.expectedEdges).toBe(cv.matched + cv.missed);
  expect(cv.unexplained).toBeLessThanOrEqual(1);
  expect(summary.stages.cv?.count).toBe(cv.matched);
  expect(summary.stages.oscToCv?.count).toBe(cv.matched);
  expect(cv.clock).not.toBeNull();
  // The converter's 3 ms delay is in every CV figure; a loaded machine may add tens of ms, not seconds.
  expect(summary.stages.oscToCv?.p50).toBeGreaterThan(2_000_000);
  expect(summary.stages.oscToCv?.p50).toBeLessThan(500_000_000);
  expect(summary.stages.cv?.p50).toBeGreaterThanOrEqual(summary.stages.oscToCv?.p50 ?? 0);
  return cv;
}

describe('chat → CV with a probe connected (cvlab run --serial)', () => {
  it('follows the probe viewers through cvlab\'s own pipeline to the CV edge, and keeps it in the saved report', async () => {
    const before = emulator.truths.length;
    const jsonPath = join(folder, 'pipeline.json');
    const htmlPath = join(folder, 'pipeline.html');
    const { code, stdout, stderr } = await cvlabRun([scenarioPath, '--rig', rigPath, '--serial', emulator.hostPath, '--database-url', databaseUrl(), '--report', htmlPath, '--json', jsonPath]);
    expect(stderr).toMatch(/chat → CV: probe on .* \(emulator-1\.1, 12-bit ADC\)/);
    expect(stdout).toMatch(/^cv\s+\d+/m);
    // The live line counts the edges as they come.
    expect(stderr).toMatch(/CV edges \d+ matched, \d+ missed/);
    expect(stdout).toMatch(/chat → CV: probe on .* watching invert \(\/lzx\/proc\/invert\) at 500 mV; 8 probe viewers at 4 Hz/);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(code).toBe(summary.passed ? 0 : 1);
    const cv = expectChatToCv(summary);
    // The load's viewers never send the test variable: every edge the converter made is a probe viewer's.
    const edges = emulator.truths.length - before;
    expect(edges).toBeLessThanOrEqual(PROBE_MESSAGES);
    expect(edges).toBeGreaterThanOrEqual(cv.matched);
    expect(summary.run.plannedMessages).toBe(100 * DURATION_S + PROBE_MESSAGES);
    // The saved run's report has the section and the stages.
    const html = await readFile(htmlPath, 'utf8');
    expect(html).toContain('<h2>Chat → CV</h2>');
    expect(html).toMatch(/<code>cv<\/code><\/td><td>due → CV edge/);
    expect(html).toContain(`<td>edges matched</td><td>${cv.matched}</td>`);
  });

  it('follows them through the reference bot, its OSC forwarded to the converter (black box)', async () => {
    const jsonPath = join(folder, 'bot.json');
    const { code, stdout } = await cvlabRun([
      scenarioPath,
      '--rig',
      rigPath,
      '--bot',
      'node examples/tmi-bot/bot.js',
      '--chat-port',
      '0',
      '--forward',
      `127.0.0.1:${oscPort}`,
      '--serial',
      emulator.hostPath,
      '--no-save',
      '--json',
      jsonPath,
    ]);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(code).toBe(summary.passed ? 0 : 1);
    expect(summary.blackBox?.forwarded).toBeGreaterThan(0);
    const cv = expectChatToCv(summary);
    expect(summary.stages.chatToCv?.count).toBe(cv.matched);
    // The chat line is written after its due time, and the bot's datagram after the line.
    expect(summary.stages.chatToCv?.p50).toBeLessThanOrEqual(summary.stages.cv?.p50 ?? 0);
    expect(cv.decomposition.chatToOscP50).toBeGreaterThan(0);
    expect(stdout).toMatch(/path at p50: chat → OSC .* \+ OSC → CV .* ≈ chat → CV/);
    expect(stdout).toMatch(/each leg at p99: chat → OSC \S+ \S+, OSC → CV \S+ \S+, chat → CV \S+ \S+/);
    expect(cv.decomposition.oscToCvP99).toBeGreaterThanOrEqual(cv.decomposition.oscToCvP50 ?? 0);
  });
});

describe('chat → CV in the console (Lab)', () => {
  it('uses the probe connected on the Loop-back page for a run, unless the request says not to', async () => {
    const lab = new Lab({ host: 'serve', dataDir: join(folder, 'lab'), stores: null });
    try {
      await lab.connectProbe(emulator.hostPath);
      const rig = JSON.parse(await readFile(rigPath, 'utf8')) as RigInput;
      const scenario = JSON.parse(await readFile(scenarioPath, 'utf8')) as ScenarioInput;
      const withProbe = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
      await lab.startRun({ scenario, rig });
      expectChatToCv(await withProbe);
      const without = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
      await lab.startRun({ scenario: { ...scenario, executor: { type: 'constant-arrival-rate', rate: 100, duration: '1s' } }, rig, useProbe: false });
      const plain = await without;
      expect(plain.chatToCv).toBeUndefined();
      expect(plain.stages.cv).toBeUndefined();
      expect(plain.sent).toBe(100);
    } finally {
      await lab.dispose();
    }
  });
});

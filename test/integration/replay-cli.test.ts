import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { cvlabRun } from '../setup/cvlab-run';
import { freePort } from '../setup/services';

let folder: string;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-replay-cli-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify({ ...demo, osc: { host: '127.0.0.1', port: await freePort(), tapPort: await freePort() } }));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

describe('cvlab run with a replay', () => {
  it('plays the shipped sample and says how many recorded lines were played and how many the rig accepted', async () => {
    const jsonPath = join(folder, 'replay-sample.json');
    const result = await cvlabRun(['resources/scenarios/replay-sample.json', '--rig', rigPath, '--no-save', '--json', jsonPath]);
    // Passing its latency threshold depends on the machine; playing every line does not.
    expect([0, 1]).toContain(result.code);
    expect(result.stderr).toMatch(/replay of sample-irc\.log: irc \(raw Twitch IRC\), 578 messages over 4m 54\.5s, sha256 9955f9ba3f596df2…; at speed 30/);
    const played = /replay of sample-irc\.log \(sha256 [0-9a-f]{16}…\): played (\d+) of 578 recorded lines planned at speed 30; the rig accepted (\d+) \([\d.]+%\), rejected (\d+)/.exec(result.stdout);
    expect(played).not.toBeNull();
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(Number(played?.[1])).toBe(578);
    expect(summary.sent).toBe(578);
    expect(summary.unaccounted).toBe(0);
    expect(Number(played?.[2])).toBe(summary.outcomes.accepted);
    expect(Number(played?.[3])).toBe(summary.outcomes.rejected);
    // Chat is mostly not commands; the grammar accepts a little over half of this sample and the limiter takes a few.
    expect(summary.outcomes.byCode['bad_value']).toBe(255);
    expect(summary.outcomes.accepted).toBeGreaterThan(250);
    expect(summary.run.replay?.log).toMatchObject({ fileName: 'sample-irc.log', format: 'irc', messages: 578, sha256: '9955f9ba3f596df204742b164dbcc991d22ba89b0c3ef46b478c5152ce75c7fd' });
    expect(summary.run.plannedMessages).toBe(578);
  }, 90_000);

  it('finds a relative log next to the scenario first, and plays only the window asked for', async () => {
    await copyFile('resources/chat-logs/sample.jsonl', join(folder, 'friday.jsonl'));
    const scenarioPath = join(folder, 'friday.json');
    await writeFile(scenarioPath, JSON.stringify({ name: 'friday', executor: { type: 'replay', file: 'friday.jsonl', from: '60s', to: '76s', speed: 8, users: 'hashed' } }));
    const jsonPath = join(folder, 'friday-summary.json');
    const result = await cvlabRun([scenarioPath, '--rig', rigPath, '--no-save', '--json', jsonPath]);
    expect([0, 1]).toContain(result.code);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(summary.run.replay).toMatchObject({ fromMs: 60_000, toMs: 76_000, speed: 8, users: 'hashed' });
    expect(summary.run.replay?.log.fileName).toBe('friday.jsonl');
    expect(summary.sent).toBe(summary.run.replay?.windowMessages);
    // The burst after the streamer asked for a hue: most of the window is hue commands.
    expect(summary.sent).toBeGreaterThan(100);
  }, 90_000);

  it('refuses --rate on a replay: it keeps its recorded pace (exit 2)', async () => {
    const result = await cvlabRun(['resources/scenarios/replay-sample.json', '--rig', rigPath, '--no-save', '--rate', '5000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--rate: a replay keeps its recorded pace and viewers; change its "speed" in the scenario/);
  }, 60_000);

  it('names where it looked for a log it cannot find (exit 2)', async () => {
    const scenarioPath = join(folder, 'missing.json');
    await writeFile(scenarioPath, JSON.stringify({ name: 'missing', executor: { type: 'replay', file: 'last-friday.log' } }));
    const result = await cvlabRun([scenarioPath, '--rig', rigPath, '--no-save']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/chat log "last-friday\.log" is not valid/);
    expect(result.stderr).toMatch(new RegExp(`not found: looked next to the scenario file \\(${folder.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\), then in the data folder's chat/ \\(.*\\), then among the shipped samples \\(.*resources/chat-logs\\)`));
  }, 60_000);
});

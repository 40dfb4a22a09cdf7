// Replaying a chat log from the console, in Debian's Chromium against a real `cvlab serve`: the
// Scenarios page lists the shipped samples and the user's own logs, shows what is in the chosen
// one and a timeline of its rate, and the run replays it with its recorded shape drawn beside the
// measured throughput. Screenshots go to artifacts/.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../setup/services';
import { openConsole, requireChromium, screenshotAfterPaint, useRig } from '../setup/chromium';
import { startCvlabServe } from '../setup/cvlab-serve';
import { waitFor } from '../setup/wait-for';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'artifacts');
const DATA = join(ARTIFACTS, 'e2e-replay-data');

let server: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let oscPort: number;

async function shoot(name: string): Promise<void> {
  await screenshotAfterPaint(page, join(ARTIFACTS, `${name}-1440x900.png`));
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(DATA, { recursive: true, force: true });
  // The user's own log, in the data folder's chat/, and a demo rig on free ports.
  mkdirSync(join(DATA, 'chat'), { recursive: true });
  copyFileSync(join(ROOT, 'resources/chat-logs/sample.jsonl'), join(DATA, 'chat', 'friday-raid.jsonl'));
  oscPort = await freePort();
  const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(join(DATA, 'rigs'), { recursive: true });
  writeFileSync(join(DATA, 'rigs', 'bench.json'), JSON.stringify({ ...demo, name: 'bench', osc: { host: '127.0.0.1', port: oscPort, tapPort: await freePort() } }));
  const { DATABASE_URL: _databaseUrl, ...environment } = process.env;
  const serve = startCvlabServe(await freePort(), DATA, environment);
  server = serve.child;
  const consoleUrl = await serve.url;
  ({ browser, page } = await openConsole(consoleUrl));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

describe('a replay from the console', () => {
  it('chooses a chat log, shows its stats and rate timeline, and replays it with its recorded shape on the Run page', async () => {
    await useRig(page, 'bench');

    await page.keyboard.press('Alt+2');
    const scenarios = page.locator('[data-page=scenarios]');
    await scenarios.getByRole('button', { name: /^replay-sample/ }).click();
    const choice = scenarios.getByLabel('chat log', { exact: true });
    // The shipped samples and the user's own log, each said which.
    const options = await choice.locator('option').allTextContents();
    expect(options).toContain('sample-irc.log (shipped sample)');
    expect(options).toContain('friday-raid.jsonl (yours)');
    await expect.poll(() => choice.inputValue()).toBe('sample-irc.log');
    const stats = scenarios.getByTestId('chat-log-stats');
    await expect.poll(() => stats.textContent(), { timeout: 20_000 }).toMatch(/sample-irc\.log · irc · 578 messages over 4 min 54 s · 32 viewers/);
    expect(await stats.textContent()).toMatch(/rig bench accepts 313 \(54\.\d+\s*%\)/);
    expect(await stats.textContent()).toMatch(/sets most hue 121, shape 81/);
    await expect.poll(() => scenarios.getByTestId('chat-log-timeline').locator('polyline').getAttribute('points')).toMatch(/^[\d.]+,[\d.]+( [\d.]+,[\d.]+){20,}$/);

    // The user's own log: the scenario becomes a replay of it, its stats follow.
    await choice.selectOption('friday-raid.jsonl');
    await expect.poll(() => stats.textContent(), { timeout: 20_000 }).toMatch(/friday-raid\.jsonl · json-lines · 578 messages/);
    await expect.poll(() => scenarios.getByTestId('scenario-modified').count()).toBe(1);
    await choice.selectOption('sample-irc.log');
    await expect.poll(() => stats.textContent(), { timeout: 20_000 }).toMatch(/sample-irc\.log/);
    await shoot('replay-scenarios');

    await scenarios.getByRole('button', { name: 'Start run' }).click();
    const run = page.locator('[data-page=run]');
    await expect.poll(() => run.getByTestId('run-title').textContent()).toBe('replay-sample');
    // The throughput panel draws the recorded shape beside the completed rate.
    // A busy machine may take a while to start the run (the log is read and the engine warmed up first).
    await waitFor(async () => /recorded/.test((await run.locator('.scope-grid').textContent()) ?? ''), 'the recorded trace on the Run page', 90_000);
    await waitFor(async () => (await run.getByTestId('replay-facts').count()) > 0, 'the summary of the replay', 90_000);
    expect(await run.getByTestId('replay-facts').textContent()).toMatch(/replayed sample-irc\.log \(sha256 9955f9ba3f59…\) at speed 30: 578 of 578 recorded lines played, the rig accepted \d+/);
    await shoot('replay-run');
    await run.locator('.scope-grid').screenshot({ path: join(ARTIFACTS, 'replay-run-scopes.png') });
  }, 240_000);
});

// The console runs the technician's bot, in Debian's Chromium against a real `cvlab serve`: the
// Scenarios page points a scenario at "start my bot" (the reference bot, examples/tmi-bot), the
// Run page shows the bot's state live and, after the run, the black-box section; the Reports
// page shows the same. Screenshots go to artifacts/.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../setup/services';
import { openConsole, requireChromium, screenshotAfterPaint, useRig } from '../setup/chromium';
import { startCvlabServe } from '../setup/cvlab-serve';
import { waitFor } from '../setup/wait-for';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'artifacts');
const DATA = join(ARTIFACTS, 'e2e-console-bot-data');

let server: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;

async function shoot(name: string): Promise<void> {
  await screenshotAfterPaint(page, join(ARTIFACTS, `${name}-1440x900.png`));
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(DATA, { recursive: true, force: true });
  // The demo rig on free ports with a generous limiter (every valid message should move the synth),
  // and a short, slow scenario of cvlab's own pipeline that the test turns into a bot run.
  const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(join(DATA, 'rigs'), { recursive: true });
  writeFileSync(
    join(DATA, 'rigs', 'bench.json'),
    JSON.stringify({
      ...demo,
      name: 'bench',
      osc: { host: '127.0.0.1', port: await freePort(), tapPort: await freePort() },
      limiter: { userRate: 1000, userBurst: 1000, globalRate: 100_000, globalBurst: 10_000 },
      variables: (demo['variables'] as Record<string, unknown>[]).map((variable) => ({ ...variable, cooldownMs: 0 })),
    }),
  );
  mkdirSync(join(DATA, 'scenarios'), { recursive: true });
  writeFileSync(
    join(DATA, 'scenarios', 'bot-check.json'),
    JSON.stringify({
      name: 'bot-check',
      description: 'A slow steady chat for a bot.',
      executor: { type: 'constant-arrival-rate', rate: 50, duration: '8s' },
      traffic: { users: 50, mix: { valid: 70, multi: 10, bad_value: 10, unknown_variable: 10 } },
      seed: 7,
    }),
  );
  const { DATABASE_URL: _databaseUrl, ...environment } = process.env;
  const serve = startCvlabServe(await freePort(), DATA, environment);
  server = serve.child;
  ({ browser, page } = await openConsole(await serve.url));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

describe('the console runs a bot', () => {
  it('starts the reference bot from the Scenarios page, follows it live and shows the black-box section after', async () => {
    await useRig(page, 'bench');

    await page.keyboard.press('Alt+2');
    const scenarios = page.locator('[data-page=scenarios]');
    await scenarios.getByRole('button', { name: /^bot-check/ }).click();
    await expect.poll(() => scenarios.locator('.editor-header h2').textContent()).toMatch(/^bot-check/);
    const target = scenarios.getByTestId('target-panel');
    expect(await target.getByRole('radio', { name: "cvlab's pipeline" }).isChecked()).toBe(true);

    // "wait for my bot" shows the environment to set; a bad port is named inline.
    await target.getByRole('radio', { name: 'wait for my bot' }).check();
    const environment = await target.getByTestId('bot-environment').textContent();
    expect(environment).toMatch(/CVLAB_CHAT_HOST=127\.0\.0\.1/);
    expect(environment).toMatch(/CVLAB_CHAT_PORT=6667/);
    expect(environment).toMatch(/CVLAB_OSC_PORT=\d+/);
    await target.locator('input[data-path="target.chatPort"]').fill('70000');
    await expect.poll(() => target.locator('.field-problem').first().textContent()).toMatch(/65535/);
    await shoot('console-bot-wait');

    // "start my bot": the reference bot, on a free chat port (another test may hold 6667).
    await target.getByRole('radio', { name: 'start my bot' }).check();
    await target.locator('input[data-path="target.command"]').fill('node examples/tmi-bot/bot.js');
    await target.locator('input[data-path="target.chatPort"]').fill(String(await freePort()));
    await target.locator('input[data-path="target.joinTimeout"]').fill('60s');
    expect(await target.locator('.field-problem').count()).toBe(0);
    await shoot('console-bot-start');
    await scenarios.getByRole('button', { name: 'Start run' }).click();

    const run = page.locator('[data-page=run]');
    const status = run.getByTestId('bot-status');
    await waitFor(async () => (await status.count()) > 0, 'the bot panel on the Run page', 60_000);
    // Live: joined, lines flowing, OSC caught and matched.
    await waitFor(async () => (await run.getByTestId('bot-state').textContent()) === 'joined', 'the bot to join', 90_000);
    await waitFor(async () => Number((await run.getByTestId('bot-osc-caught').textContent())?.replace(/\D/g, '') || 0) > 0, 'OSC caught from the bot', 60_000);
    await waitFor(async () => /% of \d+/.test((await run.getByTestId('bot-matched').textContent()) ?? ''), 'a matched share', 60_000);
    expect(await status.textContent()).toMatch(/node examples\/tmi-bot\/bot\.js/);
    await shoot('console-bot-live');

    // After the run: the black-box section, with matches, the no-OSC split, the stages and the bot's exit.
    const section = run.getByTestId('black-box-section');
    await waitFor(async () => (await section.count()) > 0, 'the black-box section after the run', 90_000);
    const matches = (await section.getByTestId('black-box-matches').textContent()) ?? '';
    expect(matches).toMatch(/chat lines sent\s*400/);
    expect(matches).toMatch(/matched to their chat message\s*[1-9]/);
    const noOsc = (await section.getByTestId('black-box-no-osc').textContent()) ?? '';
    expect(noOsc).toMatch(/the rig rejects it too\s*[1-9]/);
    expect(noOsc).toMatch(/the rig accepts it, the bot sent nothing\s*0/);
    expect(await section.locator('.stage-table').textContent()).toMatch(/chatToOsc/);
    expect(await section.getByTestId('bot-exit').textContent()).toMatch(/exit code|ended by SIGTERM/);
    await shoot('console-bot-after');

    // The Reports page shows the same section for the saved run.
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    await waitFor(async () => (await reports.getByText(/bot-check/).count()) > 0, 'the saved bot run in the list', 60_000);
    await reports.getByText(/bot-check/).first().click();
    const saved = reports.getByTestId('black-box-section');
    await waitFor(async () => (await saved.count()) > 0, 'the black-box section on the Reports page', 60_000);
    expect(await saved.getByTestId('black-box-matches').textContent()).toMatch(/chat lines sent\s*400/);
    await shoot('console-bot-report');
  }, 360_000);

  it('Stop on the Run page while the run waits for a bot ends the wait at once: the run is kept as stopped, saying what it waited for', async () => {
    await page.keyboard.press('Alt+2');
    const scenarios = page.locator('[data-page=scenarios]');
    const target = scenarios.getByTestId('target-panel');
    // Nobody will join: a free port, and a join timeout far longer than the test.
    await target.getByRole('radio', { name: 'wait for my bot' }).check();
    await target.locator('input[data-path="target.chatPort"]').fill(String(await freePort()));
    await target.locator('input[data-path="target.joinTimeout"]').fill('2m');
    await scenarios.getByRole('button', { name: 'Start run' }).click();

    await page.keyboard.press('Alt+3');
    const run = page.locator('[data-page=run]');
    const stop = run.getByRole('button', { name: 'Stop' });
    await waitFor(async () => (await stop.count()) > 0, 'Stop while the run waits for its bot', 60_000);
    const stoppedAt = Date.now();
    await stop.click();
    const summary = run.locator('section.summary');
    await waitFor(async () => /ended stopped — stopped while waiting for the bot to join #cvlab \(0 of 1 joined/.test((await summary.textContent().catch(() => '')) ?? ''), 'the stopped run\'s summary', 30_000);
    expect(await run.getByTestId('run-verdict').textContent()).toBe('FAILED');
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    await expect.poll(() => run.getByRole('button', { name: 'Start', exact: true }).count()).toBe(1);
    await shoot('console-bot-stopped-while-waiting');
  }, 120_000);
});

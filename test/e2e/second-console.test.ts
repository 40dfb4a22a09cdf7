// A second console on the same `cvlab serve`, in Debian's Chromium: one that was open when
// another started a run, and one opened mid-run, both show that run (its title, Stop, live
// traces), never the previous run's verdict; either can stop it. Screenshots go to artifacts/.
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
const DATA = join(ARTIFACTS, 'e2e-second-console-data');

let server: ChildProcess | undefined;
const browsers: Browser[] = [];
let consoleUrl: URL;

async function open(): Promise<Page> {
  const { browser, page } = await openConsole(consoleUrl);
  browsers.push(browser);
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  await screenshotAfterPaint(page, join(ARTIFACTS, `${name}-1440x900.png`));
}

/** The main scope's canvas as an image, to see whether the traces move. */
function scopeImage(page: Page): Promise<string> {
  return page
    .locator('[data-page=run] .scope-main canvas')
    .first()
    .evaluate((canvas) => (canvas as unknown as { toDataURL(): string }).toDataURL());
}

/** Opens a scenario on the Scenarios page and sets fields of its form (by their path). */
async function chooseScenario(page: Page, name: string, fields: Record<string, string>): Promise<void> {
  await page.keyboard.press('Alt+2');
  const scenarios = page.locator('[data-page=scenarios]');
  await scenarios.getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await expect.poll(() => scenarios.locator('.editor-header h2').textContent()).toMatch(new RegExp(`^${name}`));
  for (const [path, value] of Object.entries(fields)) await scenarios.locator(`input[data-path="${path}"]`).fill(value);
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(DATA, { recursive: true, force: true });
  // The demo rig on free ports, so nothing else on the machine receives its OSC.
  const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(join(DATA, 'rigs'), { recursive: true });
  writeFileSync(join(DATA, 'rigs', 'bench.json'), JSON.stringify({ ...demo, name: 'bench', osc: { host: '127.0.0.1', port: await freePort(), tapPort: await freePort() } }));
  const { DATABASE_URL: _databaseUrl, ...environment } = process.env;
  const serve = startCvlabServe(await freePort(), DATA, environment);
  server = serve.child;
  consoleUrl = await serve.url;
}, 120_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  server?.kill('SIGTERM');
});

describe('a second console', () => {
  it('shows the run another console started, and one opened mid-run does too; either stops it', async () => {
    const first = await open();
    await useRig(first, 'bench');

    // A finished run first: its verdict must not show over the next run in any console.
    await chooseScenario(first, 'burst', { 'executor.messages': '500', 'executor.window': '500ms' });
    await first.locator('[data-page=scenarios]').getByRole('button', { name: 'Start run' }).click();
    await waitFor(async () => (await first.locator('[data-page=run]').getByTestId('run-verdict').count()) > 0, 'the first run to finish', 90_000);

    // The second console is open when the first starts a long run.
    const second = await open();
    await second.keyboard.press('Alt+3');
    const secondRun = second.locator('[data-page=run]');
    await expect.poll(() => secondRun.getByTestId('run-verdict').count()).toBe(1);

    await chooseScenario(first, 'sustained', { 'executor.rate': '200', 'executor.duration': '120s' });
    await first.locator('[data-page=scenarios]').getByRole('button', { name: 'Start run' }).click();
    const firstRun = first.locator('[data-page=run]');
    await waitFor(async () => (await firstRun.getByRole('button', { name: 'Stop' }).count()) > 0, 'the run to start in the first console', 90_000);
    const title = await firstRun.getByTestId('run-title').textContent();
    expect(title).toBe('sustained-draft');

    // The console that was open: the run's title, Stop, no verdict of the run before.
    await waitFor(async () => (await secondRun.getByRole('button', { name: 'Stop' }).count()) > 0, 'Stop in the console that was open', 30_000);
    expect(await secondRun.getByTestId('run-title').textContent()).toBe(title);
    expect(await secondRun.getByTestId('run-verdict').count()).toBe(0);
    expect(await secondRun.locator('.run-title .label').textContent()).toBe('running');

    // A console opened mid-run: the same, and its traces move.
    const third = await open();
    await third.keyboard.press('Alt+3');
    const thirdRun = third.locator('[data-page=run]');
    await waitFor(async () => (await thirdRun.getByRole('button', { name: 'Stop' }).count()) > 0, 'Stop in the console opened mid-run', 30_000);
    expect(await thirdRun.getByTestId('run-title').textContent()).toBe(title);
    expect(await thirdRun.getByTestId('run-verdict').count()).toBe(0);
    const before = await scopeImage(third);
    await waitFor(async () => (await scopeImage(third)) !== before, 'the traces of the console opened mid-run to move', 30_000);
    await waitFor(async () => /\d+(\.\d+)? s \/ 120\.0 s/.test((await thirdRun.locator('.progress-text').textContent()) ?? ''), 'progress in the console opened mid-run', 30_000);
    await shoot(second, 'second-console-open-before');
    await shoot(third, 'second-console-opened-mid-run');

    // Stopped from the console opened last: every console shows the end of that run.
    await thirdRun.getByRole('button', { name: 'Stop' }).click();
    for (const page of [first, second, third]) {
      const run = page.locator('[data-page=run]');
      await waitFor(async () => (await run.getByTestId('run-verdict').count()) > 0, 'the verdict of the stopped run', 60_000);
      expect(await run.getByRole('button', { name: 'Start' }).count()).toBe(1);
      expect(await run.locator('.summary-facts').textContent()).toMatch(/scenario sustained-draft/);
      expect(await run.locator('.summary-facts').textContent()).toMatch(/ended stopped/);
    }
    await shoot(second, 'second-console-stopped');
  }, 300_000);
});

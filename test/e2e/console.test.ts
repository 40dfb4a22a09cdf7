// Drives the real console in Debian's Chromium against a real `cvlab serve` (built output,
// real engine, demo rig on loopback). Needs /usr/bin/chromium (apt-get install chromium).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../setup/services';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from '../setup/chromium';

const ROOT = join(import.meta.dirname, '..', '..');

let server: ChildProcess | undefined;
let emulator: ChildProcess | undefined;
let oscPort: number;
let tapPort: number;
const probeLink = `/tmp/cvlab-e2e-probe-${process.pid}`;
let browser: Browser | undefined;
let page: Page;
let consoleUrl: URL;

/** Starts `node out/main/cli.js serve` on a free port and resolves with the URL it prints. */
async function startServe(port: number): Promise<URL> {
  // Its own data folder and an embedded database (no DATABASE_URL), emptied before each test run.
  const dataDir = join(ROOT, 'artifacts', 'e2e-data');
  rmSync(dataDir, { recursive: true, force: true });
  const { DATABASE_URL: _databaseUrl, ...environment } = process.env;
  const child = spawn(process.execPath, [join(ROOT, 'out/main/cli.js'), 'serve', '--port', String(port)], {
    cwd: ROOT,
    env: { ...environment, CVLAB_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let output = '';
  // Everything the server says goes to a log beside the screenshot, for when a step fails.
  mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
  const log = join(ROOT, 'artifacts', 'e2e-serve.log');
  writeFileSync(log, '');
  child.stdout.on('data', (chunk: Buffer) => appendFileSync(log, chunk));
  child.stderr.on('data', (chunk: Buffer) => appendFileSync(log, chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cvlab serve printed no URL within 20 s:\n${output}`)), 20_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /cvlab console: (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(new URL(match[1]));
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`cvlab serve exited with ${code}:\n${output}`)));
  });
}

/** The main scope canvas as an image, to see whether the traces moved. */
function scopeImage(): Promise<string> {
  // The node project has no DOM types: describe the one method used.
  return page
    .locator('[data-page=run] .scope-main canvas')
    .first()
    .evaluate((canvas) => (canvas as unknown as { toDataURL(): string }).toDataURL());
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH).`);
  const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stdout}\n${build.stderr}`);
  consoleUrl = await startServe(await freePort());
  // The demo rig is pointed at free ports, where the probe emulator plays converter and probe.
  oscPort = await freePort();
  tapPort = await freePort();
  emulator = spawn(
    process.execPath,
    [
      join(ROOT, 'out/main/cli.js'),
      'probe-emulator',
      '--osc-port',
      String(oscPort),
      '--link',
      probeLink,
      '--jitter-ms',
      '0.3',
    ],
    {
      cwd: ROOT,
      // Its own words land beside the serve log, for a failure's post-mortem.
      stdio: [
        'ignore',
        openSync(join(ROOT, 'artifacts/e2e-emulator.log'), 'w'),
        openSync(join(ROOT, 'artifacts/e2e-emulator.log'), 'a'),
      ],
    },
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(consoleUrl.href);
  await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  emulator?.kill('SIGTERM');
});

describe('the console in a browser', () => {
  it('loads the demo rig and shows its connection status', async () => {
    await page.keyboard.press('Alt+1');
    const rigPage = page.locator('[data-page=rig]');
    await rigPage.getByRole('button', { name: /^demo/ }).click();
    await expect.poll(() => rigPage.locator('h2 .badge').first().textContent()).toBe('valid');
    await rigPage.locator('input[data-path="osc.port"]').fill('0');
    expect(await rigPage.locator('.form-field.invalid .field-problem').first().textContent()).toMatch(
      /port between 1 and 65535/,
    );
    expect(await rigPage.getByRole('button', { name: 'Use this rig' }).isDisabled()).toBe(true);
    await rigPage.locator('input[data-path="osc.port"]').fill(String(oscPort));
    await rigPage.locator('input[data-path="osc.tapPort"]').fill(String(tapPort));
    await rigPage.getByRole('button', { name: 'Use this rig' }).click();
    await expect.poll(() => rigPage.locator('.notice').textContent()).toContain('Runs now use rig "demo"');
    await expect.poll(() => rigPage.getByLabel('connection status').locator('li').count(), { timeout: 10_000 }).toBe(6);
    expect(await rigPage.getByLabel('connection status').textContent()).toContain('Redis');
  });

  it('shows an invalid scenario field inline and will not start it', async () => {
    await page.keyboard.press('Alt+2');
    const scenarios = page.locator('[data-page=scenarios]');
    await scenarios.getByRole('button', { name: /^burst/ }).click();
    const messages = scenarios.locator('input[data-path="executor.messages"]');
    await expect.poll(() => messages.inputValue()).not.toBe('');
    await messages.fill('-5');
    const field = scenarios.locator('.form-field.invalid', {
      has: page.locator('input[data-path="executor.messages"]'),
    });
    expect(await field.locator('.field-problem').textContent({ timeout: 5000 })).toMatch(
      />=\s*1|at least 1|too small/i,
    );
    expect(await scenarios.getByRole('button', { name: 'Start run' }).isDisabled()).toBe(true);
    await page.keyboard.press('Alt+3');
    expect(await page.locator('[data-page=run]').getByRole('button', { name: 'Start', exact: true }).isDisabled()).toBe(
      true,
    );
    await page.keyboard.press('Alt+2');
    // Long enough a burst to watch: 4000 messages spread over 12 s.
    await messages.fill('4000');
    await scenarios.locator('input[data-path="executor.window"]').fill('12s');
    expect(await scenarios.getByRole('button', { name: 'Start run' }).isEnabled()).toBe(true);
  }, 30_000);

  it('runs the burst scenario with a moving scope, pauses, resumes, stops and shows the summary', async () => {
    const run = page.locator('[data-page=run]');
    await page.locator('[data-page=scenarios]').getByRole('button', { name: 'Start run' }).click();
    // The first run opens the embedded database before it starts.
    await expect.poll(() => run.isVisible(), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => run.getByRole('progressbar').textContent(), { timeout: 20_000 }).toMatch(/sent/);

    const first = await scopeImage();
    await page.waitForTimeout(1500);
    expect(await scopeImage()).not.toBe(first);
    mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'artifacts', 'run-page.png') });

    await run.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => run.getByText('FROZEN').count()).toBe(1);
    await page.waitForTimeout(300);
    const frozen = await scopeImage();
    const progressBefore = await run.getByRole('progressbar').textContent();
    await page.waitForTimeout(1500);
    expect(await scopeImage()).toBe(frozen);
    expect(await run.getByRole('progressbar').textContent()).not.toBe(progressBefore); // the run went on

    await run.getByRole('button', { name: 'Resume' }).click();
    await page.waitForTimeout(800);
    expect(await scopeImage()).not.toBe(frozen);

    // Cursors from the keyboard: A on the newest frame, B a second later; the readout shows Δt.
    await page.keyboard.press('a');
    await page.waitForTimeout(1100);
    await page.keyboard.press('b');
    await expect.poll(() => run.getByTestId('cursor-readout').textContent()).toMatch(/Δt [1-9]\.\d\d s/);

    await run.getByRole('button', { name: 'Stop' }).click();
    const verdict = run.getByTestId('run-verdict');
    await expect.poll(() => verdict.count(), { timeout: 20_000 }).toBe(1);
    expect(await verdict.textContent()).toMatch(/PASSED|FAILED/);
    const summary = run.getByLabel('run summary');
    expect(await summary.textContent()).toContain('stopped');
    expect(await summary.getByRole('table').first().textContent()).toContain('e2e.p99');
  }, 90_000);

  it('lists the run on the Reports page, opens its report and marks it as the baseline', async () => {
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    const row = reports.getByLabel('saved runs').locator('tbody tr', { hasText: 'burst' }).first();
    // The run is saved as it goes; ask again until the list has it.
    await expect
      .poll(
        async () => {
          await reports.getByRole('button', { name: 'Refresh' }).click();
          return row.count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(1);
    await row.click();
    const report = reports.getByLabel('report');
    await report.getByRole('heading', { name: /burst on demo/ }).waitFor({ timeout: 10_000 });
    expect(await report.getByRole('table').first().textContent()).toContain('e2e');
    await report.getByRole('button', { name: 'Mark baseline' }).click();
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('baseline');
  }, 60_000);

  it('measures the loop-back through the probe emulator: connect, calibrate, run, histogram', async () => {
    await page.keyboard.press('Alt+4');
    const loopback = page.locator('[data-page=loopback]');
    // The page fills in the first port it finds once the list comes back; type after that.
    await loopback.locator('input[data-ports-listed="true"]').waitFor({ timeout: 10_000 });
    await loopback.getByLabel('probe serial port').fill(probeLink);
    await loopback.getByRole('button', { name: 'Connect' }).click();
    try {
      await expect
        .poll(() => loopback.getByTestId('probe-state').textContent(), { timeout: 10_000 })
        .toContain('connected: emulator');
    } catch (error) {
      throw new Error(`the probe never connected; the page said: ${await loopback.textContent()}`, { cause: error });
    }
    await loopback.getByRole('button', { name: 'Calibrate' }).click();
    await loopback.getByLabel('clock fit').waitFor({ timeout: 10_000 });
    await loopback.locator('label', { hasText: 'edges' }).locator('input').fill('60');
    await loopback.getByRole('button', { name: 'Run' }).click();
    await loopback.getByLabel('latency histogram').waitFor({ timeout: 30_000 });
    expect(await loopback.getByRole('progressbar').textContent()).toMatch(/60\/60 sent · 60 matched · 0 missed/);
    expect(await loopback.getByRole('table', { name: 'Latency' }).textContent()).toContain('clock model');
  }, 60_000);

  it('refuses a WebSocket without the token, in the browser and from a tool', async () => {
    // A string, so the browser's own WebSocket is used (not the ws import of this file).
    const opened = await page.evaluate(`new Promise((resolve) => {
      const socket = new WebSocket('ws://${consoleUrl.host}/lab');
      socket.onopen = () => resolve(true);
      socket.onclose = () => resolve(false);
    })`);
    expect(opened).toBe(false);
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`ws://${consoleUrl.host}/lab?token=wrong`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the socket opened with a wrong token')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });
});

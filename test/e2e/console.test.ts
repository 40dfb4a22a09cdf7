// Drives the real console in Debian's Chromium against a real `cvlab serve` (built output,
// real engine, demo rig on loopback). Needs /usr/bin/chromium (apt-get install chromium).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

/** Screenshots of the page shown now at both bench sizes, into artifacts/ (looked at by a person). */
async function screenshots(name: string): Promise<void> {
  mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(ROOT, 'artifacts', `${name}-${width}x${height}.png`) });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

const SIZES = [
  [1440, 900],
  [1024, 700],
] as const;

/** How far the shown page scrolls sideways at 1024×700 (0 when it fits), once the layout settled. */
async function sidewaysOverflow(): Promise<number> {
  await page.setViewportSize({ width: 1024, height: 700 });
  let overflow = -1;
  const measure = async (): Promise<number> =>
    (overflow = Number(
      await page.evaluate(`(() => {
        const scrollers = [document.scrollingElement, document.querySelector('main.content')];
        return Math.max(...scrollers.map((element) => element ? element.scrollWidth - element.clientWidth : 0));
      })()`),
    ));
  await expect
    .poll(measure, { timeout: 5000 })
    .toBe(0)
    .catch(() => undefined);
  await page.setViewportSize({ width: 1440, height: 900 });
  return overflow;
}

/** Frames the main scope holds and the run time of its oldest one. */
async function scopeHistory(): Promise<{ frames: number; firstSeconds: number }> {
  const canvas = page.locator('[data-page=run] .scope-main .scope-canvas');
  const frames = Number((await canvas.getAttribute('data-frames')) ?? 0);
  const firstSeconds = Number((await canvas.getAttribute('data-first-seconds')) || Number.NaN);
  return { frames, firstSeconds };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH).`);
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
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(consoleUrl.href);
  await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
}, 180_000);

// What the page showed when a step failed, beside the server's log.
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page)
    await page.screenshot({
      path: join(ROOT, 'artifacts', `failed-${task.name.slice(0, 40).replace(/\W+/g, '-')}.png`),
    });
});

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  emulator?.kill('SIGTERM');
});

describe('the console in a browser', () => {
  it('says so on the whole page when the token is wrong or missing', async () => {
    const other = await browser!.newPage({ viewport: { width: 1024, height: 700 } });
    try {
      await other.goto(`${consoleUrl.origin}/#token=wrong-token`);
      const refused = other.getByTestId('token-refused');
      await refused.waitFor({ timeout: 10_000 });
      expect(await refused.textContent()).toMatch(/token was refused.*cvlab serve/s);
      await other.screenshot({ path: join(ROOT, 'artifacts', 'token-refused-1024x700.png') });
      await other.goto(`${consoleUrl.origin}/`);
      await other.reload();
      await expect
        .poll(() => other.getByTestId('token-refused').textContent(), { timeout: 10_000 })
        .toMatch(/no access token/);
    } finally {
      await other.close();
    }
  });

  it('loads the demo rig and shows its connection status', async () => {
    await page.keyboard.press('Alt+1');
    const rigPage = page.locator('[data-page=rig]');
    await rigPage.getByRole('button', { name: /^demo/ }).click();
    await expect.poll(() => rigPage.locator('h2 .badge').first().textContent()).toBe('valid');
    await rigPage.locator('input[data-path="osc.port"]').fill('0');
    expect(await rigPage.locator('.form-field.invalid .field-problem').first().textContent()).toMatch(
      /port between 1 and 65535/,
    );
    await expect.poll(() => rigPage.getByRole('button', { name: 'Use this rig' }).isDisabled()).toBe(true);
    await rigPage.locator('input[data-path="osc.port"]').fill(String(oscPort));
    await rigPage.locator('input[data-path="osc.tapPort"]').fill(String(tapPort));
    // A tight global cap: most of the burst is refused, so the "global cap" alert fires for certain.
    await rigPage.locator('input[data-path="limiter.globalRate"]').fill('100');
    await rigPage.locator('input[data-path="limiter.globalBurst"]').fill('20');
    await expect.poll(() => rigPage.getByTestId('rig-not-in-use').count()).toBe(1);
    await rigPage.getByRole('button', { name: 'Use this rig' }).click();
    await expect.poll(() => rigPage.getByTestId('rig-message').textContent()).toContain('Runs now use rig "demo"');
    await expect.poll(() => rigPage.getByTestId('rig-not-in-use').count()).toBe(0);
    await expect.poll(() => rigPage.getByLabel('connection status').locator('li').count(), { timeout: 10_000 }).toBe(6);
    expect(await rigPage.getByLabel('connection status').textContent()).toContain('Redis');
    await screenshots('rig');

    // The variables read as a patch sheet: numbered from 1, each saying what it drives on the rack.
    const first = rigPage.getByRole('listitem', { name: 'variable 1', exact: true });
    expect(await first.locator('input[data-path="variables[0].name"]').inputValue()).toBe('hue');
    expect(await first.locator('input[data-path="variables[0].drives"]').inputValue()).toMatch(/colorizer hue/);
    expect(await first.locator('label', { hasText: 'OSC address' }).getAttribute('title')).toMatch(/converter listens/);
    // An enum shows its values, not a 0…1 range; a bool shows what off and on send.
    const shape = rigPage.getByRole('listitem', { name: 'variable 7', exact: true });
    expect(await shape.locator('input[data-path="variables[6].min"]').count()).toBe(0);
    expect(await shape.locator('input[data-path="variables[6].values"]').inputValue()).toBe('ramp, triangle, sine, square');
    expect(await rigPage.getByRole('listitem', { name: 'variable 8', exact: true }).textContent()).toMatch(/off sends.*on sends/);
    // A range error names the row as the sheet numbers it, and reads forwards.
    await first.locator('input[data-path="variables[0].max"]').fill('-5');
    const problemsText = await rigPage.getByLabel('problems', { exact: true }).textContent();
    expect(problemsText).toContain('variable 1 (hue), max: expected max above min (0)');
    expect(problemsText).not.toMatch(/variables\[0\]|between 0 and -5/);
    await first.locator('input[data-path="variables[0].max"]').fill('1');
    await expect.poll(() => rigPage.getByTestId('rig-not-in-use').count()).toBe(0);
    await rigPage.getByRole('list', { name: 'variables' }).scrollIntoViewIfNeeded();
    await screenshots('rig-patch-sheet');
    // Nothing on the page scrolls sideways at 1024 px, the variables included.
    await page.setViewportSize({ width: 1024, height: 700 });
    expect(
      await page.evaluate(`[...document.querySelectorAll('[data-page=rig] *')].filter((element) =>
        element.scrollWidth > element.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(element).overflowX)).length`),
    ).toBe(0);
    expect(await sidewaysOverflow()).toBe(0);
    await page.setViewportSize({ width: 1440, height: 900 });
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
    await expect.poll(() => scenarios.getByRole('button', { name: 'Start run' }).isDisabled()).toBe(true);
    await expect.poll(() => scenarios.getByTestId('scenario-modified').count()).toBe(1);
    await page.keyboard.press('Alt+3');
    const run = page.locator('[data-page=run]');
    await expect.poll(() => run.getByRole('button', { name: 'Start', exact: true }).isDisabled()).toBe(true);
    // Why, on the page itself.
    await expect.poll(() => run.getByTestId('start-blocked').textContent()).toMatch(/invalid fields/);
    await page.keyboard.press('Alt+2');
    // Long enough a burst to watch: 4000 messages spread over 12 s.
    await messages.fill('4000');
    await scenarios.locator('input[data-path="executor.window"]').fill('12s');
    await expect.poll(() => scenarios.getByRole('button', { name: 'Start run' }).isEnabled()).toBe(true);
    // A reload keeps the unsaved draft (per rig, in the browser's storage), still marked as edited.
    await page.reload();
    await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
    await expect.poll(() => messages.inputValue(), { timeout: 10_000 }).toBe('4000');
    expect(await scenarios.locator('input[data-path="executor.window"]').inputValue()).toBe('12s');
    await expect.poll(() => scenarios.getByTestId('scenario-modified').count()).toBe(1);
    // A built-in is read-only: Save offers a copy under a name of its own.
    expect(await scenarios.getByRole('button', { name: 'Save as…' }).isEnabled()).toBe(true);
    expect(await scenarios.getByLabel('save as file name').inputValue()).toBe('my-burst');
    await screenshots('scenarios');
    // The edited burst runs under its own name, apart from burst's trend and baseline.
    await page.keyboard.press('Alt+3');
    await expect.poll(() => page.locator('[data-page=run]').getByTestId('run-title').textContent()).toBe('burst-draft');
    await page.keyboard.press('Alt+2');
  }, 30_000);

  it('runs the burst scenario with a moving scope, pauses, resumes, stops and shows the summary', async () => {
    const run = page.locator('[data-page=run]');
    await page.locator('[data-page=scenarios]').getByRole('button', { name: 'Start run' }).click();
    // The first run opens the embedded database before it starts (slow on a busy machine).
    await expect.poll(() => run.isVisible(), { timeout: 90_000 }).toBe(true);
    await expect.poll(() => run.getByRole('progressbar').textContent(), { timeout: 20_000 }).toMatch(/sent/);
    // Keyboard focus follows Start to the run's Pause (Space there pauses, never stops), not to the page body.
    await expect.poll(() => page.evaluate('document.activeElement?.textContent')).toBe('Pause');
    expect(await run.getByTestId('legend-hint').textContent()).toMatch(/legend entry .* hide or show/);

    const first = await scopeImage();
    await expect.poll(scopeImage, { timeout: 10_000 }).not.toBe(first);
    await screenshots('run-page-running');
    expect(await sidewaysOverflow()).toBe(0);

    await run.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => run.getByText('FROZEN').count()).toBe(1);
    // Frozen: the picture settles and then stays while the run goes on underneath.
    let frozen = await scopeImage();
    await expect
      .poll(async () => {
        const now = await scopeImage();
        const same = now === frozen;
        frozen = now;
        return same;
      })
      .toBe(true);
    const progressBefore = await run.getByRole('progressbar').textContent();
    await expect.poll(() => run.getByRole('progressbar').textContent()).not.toBe(progressBefore); // the run went on
    expect(await scopeImage()).toBe(frozen);

    await run.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(scopeImage).not.toBe(frozen);

    // Cursors from the keyboard: A on the newest frame, B a second later; the readout shows Δt.
    await page.keyboard.press('a');
    await expect.poll(() => run.getByTestId('cursor-readout').textContent()).toMatch(/A \d+\.\d\d s/);
    const placedA = await run.getByRole('progressbar').textContent();
    await expect
      .poll(async () => {
        await page.keyboard.press('b');
        return run.getByTestId('cursor-readout').textContent();
      })
      .toMatch(/Δt [1-9]\.\d\d s/);
    expect(placedA).toBeTruthy();

    // A reload mid-run: the scope gets the run's history back, not only what comes after.
    const before = await scopeHistory();
    expect(before.frames).toBeGreaterThan(10);
    await page.reload();
    await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
    await expect
      .poll(
        async () => {
          const after = await scopeHistory();
          return after.frames >= before.frames && after.firstSeconds <= before.firstSeconds + 0.001;
        },
        { timeout: 10_000 },
      )
      .toBe(true);

    await run.getByRole('button', { name: 'Stop' }).click();
    const verdict = run.getByTestId('run-verdict');
    await expect.poll(() => verdict.count(), { timeout: 20_000 }).toBe(1);
    expect(await verdict.textContent()).toMatch(/PASSED|FAILED/);
    const summary = run.getByLabel('run summary');
    expect(await summary.textContent()).toContain('stopped');
    expect(await summary.getByRole('table').first().textContent()).toContain('e2e.p99');

    // After the run the tiles show the whole run, exactly as the summary's stage table does.
    const e2eRow = summary.locator('table.stage-table tbody tr', { hasText: /^e2e/ }).first();
    const cells = await e2eRow.locator('td').allTextContents();
    await expect.poll(() => run.getByTestId('numeral-e2eP50').textContent()).toBe(cells[1]);
    expect(await run.getByTestId('numeral-e2eP99').textContent()).toBe(cells[3]);
    expect(await run.getByTestId('numeral-e2eMax').textContent()).toBe(cells[5]);
    expect(await run.getByTestId('run-p99').textContent()).toBe(cells[4]);
    expect(await run.getByTestId('numerals-caption').textContent()).toMatch(/whole run/);
    expect(await run.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);
    await screenshots('run-page-finished');
    expect(await sidewaysOverflow()).toBe(0);
    // The scopes under the summary, and the glossary of stages opened.
    await run.getByText('What the stages measure').click();
    await run.getByTestId('scope').scrollIntoViewIfNeeded();
    await screenshots('run-page-scope');
    await run.locator('.glossary').scrollIntoViewIfNeeded();
    await screenshots('run-page-glossary');
    expect(await run.locator('.glossary').textContent()).toMatch(/tap.*above e2e/s);

    // A fresh load after the finish: summary, tiles and the whole trace are all there.
    const finished = await scopeHistory();
    await page.reload();
    await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
    await expect.poll(() => run.getByTestId('run-verdict').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => scopeHistory(), { timeout: 10_000 }).toEqual(finished);
    await expect.poll(() => run.getByTestId('numeral-e2eP99').textContent()).toBe(cells[3]);
    // The summary says whose it is, whatever scenario is open for the next run.
    expect(await run.getByTestId('summary-title').textContent()).toMatch(/^Result of the last run: burst-draft \(\d{8}/);
  }, 240_000);

  it('lists the alerts of the run, one row each with units, and keeps them across a reload', async () => {
    await page.keyboard.press('Alt+6');
    const alerts = page.locator('[data-page=alerts]');
    const rows = alerts.getByRole('table', { name: 'alerts' }).locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const text = await alerts.textContent();
    expect(text).toContain('global cap');
    expect(text).toMatch(/\d\d:\d\d:\d\d/); // a local 24-hour time, not Unix seconds
    expect(text).toMatch(/\d %/); // the rate with its unit
    // Each alert names its run, so two runs' alerts never mix.
    expect(await rows.first().locator('td').first().textContent()).toMatch(/^burst-draft\d{14}-/);
    expect(await alerts.getByTestId('alerts-vs-thresholds').textContent()).toMatch(/whole run once, at its end/);
    const count = await rows.count();
    await screenshots('alerts');
    // At 1024 px the table fits its panel: nothing of a row is cut off or scrolled to.
    await page.setViewportSize({ width: 1024, height: 700 });
    await expect
      .poll(() => page.evaluate(`(() => { const table = document.querySelector('[data-page=alerts] .table-scroll'); return table ? table.scrollWidth - table.clientWidth : -1; })()`))
      .toBe(0);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.reload();
    await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(count);
    // After the run every alert has resolved: none stays red.
    expect(await alerts.locator('tbody tr[data-alert-state=firing]').count()).toBe(0);
  }, 60_000);

  it('lists the run on the Reports page, opens its report and marks it as the baseline', async () => {
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    const row = reports.getByLabel('saved runs').locator('tbody tr', { hasText: 'burst-draft' }).first();
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
    await report.getByRole('heading', { name: /burst-draft on demo/ }).waitFor({ timeout: 10_000 });
    await expect.poll(() => report.getByRole('table').first().textContent()).toContain('e2e');
    await screenshots('reports');
    expect(await sidewaysOverflow()).toBe(0);
    // No baseline yet: the page offers the button, not a command to type.
    await report.getByRole('button', { name: 'Compare', exact: true }).click();
    await report.getByTestId('no-baseline').getByRole('button', { name: 'Mark this run as the baseline' }).click();
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('baseline');
    await expect.poll(() => report.getByRole('button', { name: 'Mark baseline' }).isDisabled()).toBe(true);
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
    await screenshots('loopback');
    // Found again on the Reports page, and attached to a run from there.
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    const saved = reports.getByRole('table', { name: 'saved loop-back measurements' }).locator('tbody tr[data-loopback-id]');
    await expect
      .poll(
        async () => {
          await reports.getByRole('button', { name: 'Refresh' }).click();
          return saved.count();
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toBeGreaterThan(0);
    await reports.getByLabel('saved runs').locator('tbody tr').first().click();
    await reports.getByLabel('report').waitFor({ timeout: 10_000 });
    const openedId = (await reports.getByLabel('saved runs').locator('tbody tr').first().getAttribute('data-run-id'))!;
    const first = saved.first();
    if ((await first.locator('td').nth(6).textContent()) === openedId) await first.getByRole('button', { name: 'Detach' }).click();
    await expect.poll(() => first.getByRole('button', { name: 'Attach to the opened run' }).count(), { timeout: 10_000 }).toBe(1);
    await first.getByRole('button', { name: 'Attach to the opened run' }).click();
    await expect.poll(() => first.locator('td').nth(6).textContent(), { timeout: 10_000 }).toBe(openedId);
    await reports.getByRole('region', { name: 'loop-back measurements' }).scrollIntoViewIfNeeded();
    await screenshots('reports-loopback');
  }, 60_000);

  it('compares a second, smaller run with the baseline: p, α, effect size and the set-up difference', async () => {
    await page.keyboard.press('Alt+2');
    const scenarios = page.locator('[data-page=scenarios]');
    await scenarios.getByRole('button', { name: /^mixed/ }).click();
    await scenarios.getByRole('button', { name: /^burst/ }).click();
    await scenarios.locator('input[data-path="executor.messages"]').fill('1500');
    await scenarios.locator('input[data-path="executor.window"]').fill('3s');
    await expect.poll(() => scenarios.getByTestId('scenario-modified').count()).toBe(1);
    await scenarios.getByRole('button', { name: 'Start run' }).click();
    const run = page.locator('[data-page=run]');
    // The previous run's summary is on the page until this one ends: wait for this one's.
    await expect
      .poll(() => run.getByRole('progressbar').textContent(), { timeout: 60_000 })
      // 1,500 viewers' messages, and a few of the probe's own while it stays connected.
      .toMatch(/finished: burst-draft · [\d.]+ s · 1,5\d\d sent/);

    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    const rows = reports.getByLabel('saved runs').locator('tbody tr', { hasText: 'burst-draft' });
    await expect
      .poll(
        async () => {
          await reports.getByRole('button', { name: 'Refresh' }).click();
          return rows.count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(2);
    // Saved as it goes: wait until its end is saved too.
    await expect
      .poll(
        async () => {
          await reports.getByRole('button', { name: 'Refresh' }).click();
          return rows.first().textContent();
        },
        { timeout: 20_000, interval: 500 },
      )
      .not.toMatch(/running/);
    await rows.first().click(); // newest first
    const report = reports.getByLabel('report');
    await expect.poll(() => report.getByRole('button', { name: 'Compare', exact: true }).isEnabled()).toBe(true);
    await report.getByRole('button', { name: 'Compare', exact: true }).click();
    const comparison = report.getByLabel('comparison');
    await comparison.waitFor({ timeout: 10_000 });
    expect(await comparison.textContent()).toMatch(
      /p = [\d.e-]+ \([<≥] α = 0\.01\).*Cliff's δ = -?[\d.]+ \((negligible|small|medium|large)\)/s,
    );
    // One story: which figure the verdict is about, and what the whole-run figure did.
    expect(await comparison.getByTestId('comparison-reading').textContent()).toMatch(
      /^The verdict is about the typical interval's e2e p99 \(the median of [\d,]+ and [\d,]+ intervals\): .* ms, .*\. The whole-run e2e p99 \(all messages merged\): .* ms, /,
    );
    await comparison.getByRole('img', { name: /per-interval e2e p99 of both runs/ }).waitFor();
    expect(await report.getByTestId('comparison-differences').textContent()).toMatch(
      /executor messages differs: 4000 .* 1500/,
    );
    const sideBySide = await report.getByRole('table', { name: 'the two runs side by side' }).textContent();
    expect(sideBySide).toMatch(/e2e p99 \(typical interval\).*e2e p99 \(whole run\).*p99\.9.*throughput.*errors/s);
    // The lab notebook: a note with a tag on this run, found by the tag filter, shown beside the comparison.
    await report.getByLabel('note', { exact: true }).fill('smaller burst, cable B');
    await report.getByLabel('tags', { exact: true }).fill('cable-b');
    await report.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => report.getByRole('list', { name: 'notes', exact: true }).textContent(), { timeout: 10_000 }).toMatch(/smaller burst, cable B.*cable-b/);
    await reports.getByLabel('filter by tag').fill('cable-b');
    await expect.poll(() => reports.getByLabel('saved runs').locator('tbody tr[data-run-id]').count(), { timeout: 10_000 }).toBe(1);
    await reports.getByLabel('filter by tag').fill('');
    await report.getByRole('button', { name: 'Compare', exact: true }).click();
    await expect.poll(() => report.getByTestId('comparison-notes').textContent(), { timeout: 10_000 }).toMatch(/smaller burst, cable B/);
    await screenshots('reports-compared');
    expect(await sidewaysOverflow()).toBe(0);
    // Any two runs: the older run against the newer one, picked from the list.
    const olderId = (await rows.nth(1).getAttribute('data-run-id'))!;
    await report.getByLabel('Compare with').selectOption(olderId);
    await report.getByRole('button', { name: 'Compare', exact: true }).click();
    await expect.poll(() => comparison.textContent(), { timeout: 10_000 }).toContain(`against ${olderId}`);
    expect(await sidewaysOverflow()).toBe(0);
  }, 120_000);

  it('refuses a WebSocket without the token, in the browser and from a tool', async () => {
    // A string, so the browser's own WebSocket is used (not the ws import of this file). The page
    // is told by a close code it can read; no call gets through.
    const closed = await page.evaluate(`new Promise((resolve) => {
      const socket = new WebSocket('ws://${consoleUrl.host}/lab');
      socket.onopen = () => socket.send(JSON.stringify({ type: 'call', id: 1, command: 'about', args: [] }));
      socket.onmessage = () => resolve('answered');
      socket.onclose = (event) => resolve(event.code);
    })`);
    expect(closed).toBe(4401);
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`ws://${consoleUrl.host}/lab?token=wrong`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the socket opened with a wrong token')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });
});

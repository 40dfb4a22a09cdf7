// Chat → CV and the loop-back notebook in the console, in Debian's Chromium against a real
// `cvlab serve` and the probe emulator (its own process, on a real pseudo-terminal): the Loop-back
// page's calibration tiles explain themselves, a measurement is saved, listed and takes a note;
// a load run started with the probe connected draws chat → OSC → CV live and after, and the
// Reports page shows the same with the loop-back measurements listed. Screenshots go to artifacts/.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERM_GLOSSARY } from '../../src/shared/glossary';
import { EmulatorChild } from '../../src/main/lab/loopback/emulator-child';
import { freePort } from '../setup/services';
import { openConsole, requireChromium, screenshotAfterPaint } from '../setup/chromium';
import { startCvlabServe } from '../setup/cvlab-serve';
import { waitFor } from '../setup/wait-for';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'artifacts');
const DATA = join(ARTIFACTS, 'e2e-chat-to-cv-data');

let server: ChildProcess | undefined;
let emulator: EmulatorChild | undefined;
let emulatorFolder: string;
let browser: Browser | undefined;
let page: Page;

async function shoot(name: string, width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  await screenshotAfterPaint(page, join(ARTIFACTS, `${name}-${width}x${height}.png`));
}

async function noSidewaysScroll(): Promise<boolean> {
  return (await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')) as boolean;
}

/** The saved loop-back measurements' table on a page, once it lists at least one. */
async function savedMeasurements(scope: Locator): Promise<Locator> {
  const table = scope.getByRole('table', { name: 'saved loop-back measurements' });
  await waitFor(async () => (await table.locator('tr[data-loopback-id]').count()) > 0, 'a saved loop-back measurement in the list', 60_000);
  return table;
}

/** The cv-bench rig in use and the emulated probe connected: each test starts from here, whatever ran before it. */
async function useRigAndProbe(): Promise<void> {
  await page.setViewportSize({ width: 1440, height: 900 });
  if ((await page.getByText(/^rig: /).first().textContent()) !== 'rig: cv-bench') {
    await page.keyboard.press('Alt+1');
    const rigPage = page.locator('[data-page=rig]');
    await rigPage.getByRole('button', { name: /^cv-bench/ }).click();
    // The file is read before it can be used: wait for the editor to hold it, then for the engine to use it.
    await expect.poll(() => rigPage.locator('.editor-header h2').textContent(), { timeout: 20_000 }).toMatch(/^cv-bench/);
    await rigPage.getByRole('button', { name: 'Use this rig' }).click();
    await expect.poll(() => page.getByText(/^rig: /).first().textContent(), { timeout: 20_000 }).toBe('rig: cv-bench');
  }
  await page.keyboard.press('Alt+4');
  const loopback = page.locator('[data-page=loopback]');
  if (!/^connected/.test(((await loopback.getByTestId('probe-state').textContent()) ?? '').trim())) {
    await loopback.getByLabel('probe serial port').fill(emulator?.hostPath ?? '');
    await loopback.getByRole('button', { name: 'Connect' }).click();
  }
  await expect.poll(() => loopback.getByTestId('probe-state').textContent(), { timeout: 30_000 }).toContain('connected: emulator-1.1');
}

/** Starts cv-check from the Scenarios page and waits for the summary of that run (not of an earlier one). */
async function runCvCheck(): Promise<void> {
  const run = page.locator('[data-page=run]');
  const before = (await run.getByTestId('summary-title').count()) > 0 ? await run.getByTestId('summary-title').textContent() : null;
  await page.keyboard.press('Alt+2');
  const scenarios = page.locator('[data-page=scenarios]');
  await scenarios.getByRole('button', { name: /^cv-check/ }).click();
  await expect.poll(() => scenarios.locator('.editor-header h2').textContent()).toMatch(/^cv-check/);
  await scenarios.getByRole('button', { name: 'Start run' }).click();
  await waitFor(async () => (await run.getByTestId('summary-title').count()) > 0 && (await run.getByTestId('summary-title').textContent()) !== before, 'the summary of the new run', 120_000);
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(DATA, { recursive: true, force: true });
  emulatorFolder = mkdtempSync(join(tmpdir(), 'cvlab-e2e-cv-'));
  const oscPort = await freePort();
  // The demo rig pointed at the emulated converter, with limits out of reach: every probe message moves the CV.
  const demo = JSON.parse(readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(join(DATA, 'rigs'), { recursive: true });
  writeFileSync(
    join(DATA, 'rigs', 'cv-bench.json'),
    JSON.stringify({
      ...demo,
      name: 'cv-bench',
      osc: { host: '127.0.0.1', port: oscPort },
      limiter: { userRate: 1000, userBurst: 1000, globalRate: 100_000, globalBurst: 10_000 },
      variables: (demo['variables'] as Record<string, unknown>[]).map((variable) => ({ ...variable, cooldownMs: 0 })),
    }),
  );
  mkdirSync(join(DATA, 'scenarios'), { recursive: true });
  writeFileSync(
    join(DATA, 'scenarios', 'cv-check.json'),
    JSON.stringify({ name: 'cv-check', executor: { type: 'constant-arrival-rate', rate: 100, duration: '8s' }, traffic: { users: 100 }, probe: { rateHz: 4, timeoutMs: 2000 }, seed: 11 }),
  );
  emulator = await EmulatorChild.start({ oscPort, address: '/lzx/proc/invert', link: join(emulatorFolder, 'probe'), delayMs: 3, serialJitterMs: 1 });
  const { DATABASE_URL: _databaseUrl, ...environment } = process.env;
  const serve = startCvlabServe(await freePort(), DATA, environment);
  server = serve.child;
  ({ browser, page } = await openConsole(await serve.url));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  await emulator?.close();
  rmSync(emulatorFolder, { recursive: true, force: true });
});

describe('chat → CV and the loop-back notebook in the console', () => {
  it('explains the calibration tiles, saves a loop-back measurement, lists it on the Loop-back page and takes a note there', async () => {
    await useRigAndProbe();
    const loopback = page.locator('[data-page=loopback]');

    // Calibration: each tile's word carries its one-line explanation.
    await loopback.getByRole('button', { name: 'Calibrate' }).click();
    const tiles = loopback.getByLabel('clock fit');
    await tiles.waitFor({ timeout: 60_000 });
    for (const term of ['drift', 'fit residual', 'samples kept', 'clock offset', 'min round trip'] as const) {
      expect(await tiles.locator('.term', { hasText: term }).getAttribute('title')).toBe(TERM_GLOSSARY[term]);
    }
    await shoot('chat-to-cv-calibration', 1440, 900);

    await loopback.locator('label', { hasText: 'edges' }).locator('input').fill('40');
    await loopback.locator('label', { hasText: 'rate' }).locator('input').fill('40');
    await loopback.getByRole('button', { name: 'Run' }).click();
    await loopback.getByTestId('loopback-verdict').waitFor({ timeout: 90_000 });

    // Saved just after its result shows: the page's list finds it, and it takes a note with a tag.
    const table = await savedMeasurements(loopback);
    const row = table.locator('tr[data-loopback-id]').first();
    await row.getByRole('button', { name: 'Note…' }).click();
    await table.getByLabel('note', { exact: true }).fill('probe on cable B');
    await table.getByLabel('tags').fill('cable-b');
    await table.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toMatch(/probe on cable B\s*cable-b/);
    await shoot('chat-to-cv-loopback-noted', 1440, 900);
    await page.setViewportSize({ width: 1024, height: 700 });
    expect(await noSidewaysScroll()).toBe(true);

    // Found again on the Reports page, with its note; a second note from there.
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    const listed = await savedMeasurements(reports);
    const saved = listed.locator('tr[data-loopback-id]').first();
    expect(await saved.textContent()).toMatch(/probe on cable B/);
    // A second note, from the Reports page this time.
    await saved.getByRole('button', { name: 'Note…' }).click();
    await listed.getByLabel('note', { exact: true }).fill('re-seated the probe');
    await listed.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => saved.textContent(), { timeout: 20_000 }).toMatch(/re-seated the probe/);
    // The list of loop-back measurements in view at both sizes (the page scrolls inside its panel).
    for (const [width, height] of [[1440, 900], [1024, 700]] as const) {
      await page.setViewportSize({ width, height });
      await listed.scrollIntoViewIfNeeded();
      await screenshotAfterPaint(page, join(ARTIFACTS, `reports-loopback-list-${width}x${height}.png`));
    }
    expect(await noSidewaysScroll()).toBe(true);
  }, 300_000);

  it('draws chat → OSC → CV live and after a run started with the probe connected, and the Reports page shows the same', async () => {
    await useRigAndProbe();
    // The Run page offers the connected probe (on by default).
    await page.keyboard.press('Alt+3');
    const offer = page.locator('[data-page=run]').getByTestId('probe-offer');
    await expect.poll(() => offer.textContent(), { timeout: 20_000 }).toMatch(/chat → CV with the connected probe \(.*probe: emulator-1\.1/);
    expect(await offer.getByRole('checkbox').isChecked()).toBe(true);
    await shoot('run-probe-offer', 1440, 900);
    await page.keyboard.press('Alt+2');
    const scenarios = page.locator('[data-page=scenarios]');
    await scenarios.getByRole('button', { name: /^cv-check/ }).click();
    await expect.poll(() => scenarios.locator('.editor-header h2').textContent()).toMatch(/^cv-check/);
    await scenarios.getByRole('button', { name: 'Start run' }).click();

    // Live: the picture fills as edges are matched.
    const run = page.locator('[data-page=run]');
    const live = run.getByTestId('run-kind-live').or(run.getByTestId('cv-decomposition'));
    await waitFor(async () => /live/.test((await run.getByTestId('cv-decomposition').first().textContent().catch(() => '')) ?? ''), 'the live chat → CV picture', 90_000);
    await waitFor(async () => /CV edges: [1-9]\d* matched/.test((await run.getByTestId('cv-edges').first().textContent().catch(() => '')) ?? ''), 'a matched CV edge, live', 60_000);
    expect(await live.count()).toBeGreaterThan(0);
    await shoot('chat-to-cv-live', 1440, 900);

    // After: the summary's picture, every leg with p50 and p99, the bound beside the probe-timed ones.
    await run.getByTestId('run-verdict').waitFor({ timeout: 90_000 });
    const after = run.locator('.summary').getByTestId('cv-decomposition');
    await after.waitFor({ timeout: 30_000 });
    expect(await after.locator('h3').textContent()).toMatch(/^Chat → OSC → CV · clock fit ± [\d.,]+ µs$/);
    expect(await after.getByTestId('cv-leg-chatToOsc').textContent()).toMatch(/^due → OSCp50 [\d.]+ · p99 [\d.]+ ms$/);
    expect(await after.getByTestId('cv-leg-oscToCv').textContent()).toMatch(/^OSC → CVp50 [\d.]+ · p99 [\d.]+ ms ± [\d.,]+ µs$/);
    expect(await after.getByTestId('cv-leg-chatToCv').textContent()).toMatch(/^due → CVp50 [\d.]+ · p99 [\d.]+ ms ± [\d.,]+ µs$/);
    const edges = (await after.getByTestId('cv-edges').textContent()) ?? '';
    const counts = /(\d+) matched · (\d+) missed · (\d+) unexplained \(of (\d+) expected\)/.exec(edges);
    expect(counts, edges).not.toBeNull();
    // 4 Hz for 8 s: about 32 probe messages; a busy machine may lose a few edges, never most.
    expect(Number(counts?.[1])).toBeGreaterThan(15);
    expect(Number(counts?.[1]) + Number(counts?.[2])).toBe(Number(counts?.[4]));
    // The bars are drawn: the converter's leg starts where the pipeline's ends, inside the track.
    const start = await after.getByTestId('cv-leg-oscToCv').locator('.cv-leg-bar').evaluate((bar) => Number.parseFloat((bar as unknown as { style: { left: string } }).style.left));
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThan(100);
    await after.scrollIntoViewIfNeeded();
    await shoot('chat-to-cv-after', 1440, 900);
    await shoot('chat-to-cv-after', 1024, 700);
    expect(await noSidewaysScroll()).toBe(true);

    // The Reports page: the same picture for the saved run, and the loop-back measurements listed with their notes.
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    await waitFor(async () => (await reports.getByText(/cv-check/).count()) > 0, 'the saved run in the list', 60_000);
    await reports.getByText(/cv-check/).first().click();
    const saved = reports.getByTestId('cv-decomposition');
    await saved.waitFor({ timeout: 60_000 });
    expect(await saved.getByTestId('cv-edges').textContent()).toBe(edges);
    expect(await reports.getByTestId('scenario-facts').locator('.term').first().getAttribute('title')).toBe(TERM_GLOSSARY.executor);
    // Started here, in a browser through cvlab serve, and the report says so.
    expect(await reports.locator('.report .editor-header').textContent()).toContain('started from a browser console (cvlab serve)');
  }, 300_000);

  it('compares two runs without contradicting itself, and the trend marks the run that has a note', async () => {
    await useRigAndProbe();
    // Two runs of the same scenario (this file's earlier test may have made one; a second is made here either way).
    await runCvCheck();
    // The second without the probe: the technician unticks it on the Run page, and the run has no chat → CV.
    await page.keyboard.press('Alt+3');
    const run = page.locator('[data-page=run]');
    await run.getByTestId('probe-offer').getByRole('checkbox').uncheck();
    await runCvCheck();
    expect(await run.locator('.summary').getByTestId('cv-decomposition').count()).toBe(0);
    await page.keyboard.press('Alt+3');
    await run.getByTestId('probe-offer').getByRole('checkbox').check();
    await page.keyboard.press('Alt+5');
    const reports = page.locator('[data-page=reports]');
    const savedRuns = reports.locator('tr[data-run-id]', { hasText: 'cv-check' });
    // The console hears a run end before its saving ends: look again until both are saved.
    await waitFor(
      async () => {
        await reports.getByRole('button', { name: 'Refresh' }).click();
        return (await savedRuns.count()) >= 2 && (await savedRuns.first().locator('td.verdict').textContent()) !== 'running';
      },
      'two saved cv-check runs',
      60_000,
      500,
    );
    await savedRuns.first().click();

    // What changed, noted on this run: the trend marks its point and lists the note.
    const notebook = reports.getByRole('region', { name: 'lab notebook' });
    await notebook.getByLabel('note', { exact: true }).fill('moved Redis to the NUC');
    await notebook.getByLabel('tags').fill('redis-nuc');
    await notebook.getByRole('button', { name: 'Add note' }).click();
    const mark = reports.getByTestId('trend-note-mark');
    await mark.first().waitFor({ timeout: 30_000 });
    expect(await mark.first().getAttribute('title')).toBe('moved Redis to the NUC');
    expect(await reports.getByRole('list', { name: 'notes in the trend' }).textContent()).toMatch(/moved Redis to the NUC\s*redis-nuc/);

    // Compared with the other cv-check run: the whole-run row is red only when the verdict is a regression.
    await reports.locator('#compare-with').selectOption({ index: 1 });
    await reports.getByRole('button', { name: 'Compare' }).click();
    const comparison = reports.getByRole('region', { name: 'comparison' });
    await comparison.getByTestId('comparison-reading').waitFor({ timeout: 30_000 });
    expect(await comparison.getByTestId('comparison-reading').textContent()).toMatch(/^The verdict is about the typical interval's e2e p99/);
    const headline = (await comparison.locator('.comparison-verdict').textContent()) ?? '';
    const row = comparison.getByTestId('whole-run-row');
    expect(((await row.getAttribute('class')) ?? '').split(' ').includes('bad')).toBe(headline === 'REGRESSED');
    if (headline !== 'REGRESSED' && headline !== 'IMPROVED' && (await row.getByTestId('whole-run-driver').count()) > 0) {
      expect(await row.getByTestId('whole-run-driver').textContent()).toMatch(/^driven by \d+ of \d+ intervals of (this|the other) run .*; the verdict is about the typical interval$/);
    }
    await comparison.scrollIntoViewIfNeeded();
    await screenshotAfterPaint(page, join(ARTIFACTS, 'chat-to-cv-comparison-1440x900.png'));
    await page.setViewportSize({ width: 1024, height: 700 });
    expect(await noSidewaysScroll()).toBe(true);
  }, 420_000);
});

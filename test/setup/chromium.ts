// How the tests and the console benchmark start Debian's Chromium: headless, and without the
// background connections a closed network refuses (and that would slow every start).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from './wait-for';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium on the console at `url` (1440×900), once the page says it is connected to the engine. */
export async function openConsole(url: URL): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url.href);
  await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 20_000 });
  return { browser, page };
}

/** Stops a browser test at once, naming what to install, where Debian's Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH).`);
}

/** A full-page screenshot once the page has painted twice (canvases follow their new size first). */
export async function screenshotAfterPaint(page: Page, path: string): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true))))');
  await page.screenshot({ path, fullPage: true });
}

/**
 * Opens the rig file `name` on the Rig page and makes it the rig in use. The file is read before it
 * can be used: clicking "Use this rig" before the editor holds it would use the rig shown before.
 */
export async function useRig(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Alt+1');
  const rigPage = page.locator('[data-page=rig]');
  await rigPage.getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await waitFor(async () => ((await rigPage.locator('.editor-header h2').textContent()) ?? '').startsWith(name), `the Rig page to show rig ${name}`, 20_000);
  await rigPage.getByRole('button', { name: 'Use this rig' }).click();
  await waitFor(async () => (await page.getByText(/^rig: /).first().textContent()) === `rig: ${name}`, `the console to use rig ${name}`, 20_000);
}

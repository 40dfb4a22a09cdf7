// A saved run's HTML report opened in Chromium: its charts are drawn (SVG with paths), it asks
// the network for nothing, and it prints on A4. Screenshot: artifacts/report.png.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { captureEnvironment } from '../../src/main/lab/report/capture-environment';
import { ReportService } from '../../src/main/lab/report/report-service';
import { createSyntheticRun } from '../fixtures/synthetic-run';
import { RunRecorder } from '../../src/main/lab/store/run-recorder';
import { Store } from '../../src/main/lab/store/store';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../setup/chromium';

/** The node project has no DOM types: the one SVG method used. */
interface Drawn {
  getBBox(): { x: number; width: number };
}

const artifacts = resolve(__dirname, '../../artifacts');
let browser: Browser;
let store: Store;

beforeAll(async () => {
  store = await Store.open({ dataDir: 'memory' });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await store?.close();
});

async function save(id: string, scale: number, seed: number, startedAtMs: number): Promise<void> {
  const run = createSyntheticRun({ id, scale, seed, startedAtMs, intervals: 150, messagesPerInterval: 120 });
  const recorder = new RunRecorder(store, {
    environment: captureEnvironment(),
    details: () => ({ rig: { name: 'demo' }, scenario: { name: 'sustained' } }),
  });
  await recorder.start(run.info);
  for (const frame of run.frames) recorder.frame(frame);
  await recorder.finish(run.summary);
  recorder.dispose();
}

it('shows its charts in Chromium, loads nothing from the network and prints on A4', async () => {
  const now = Date.now();
  await save('e2e-baseline', 1, 3, now - 60_000);
  await save('e2e-candidate', 1.25, 4, now - 30_000);
  await store.alerts.add('e2e-candidate', {
    atMs: now - 29_000,
    severity: 'warning',
    metric: 'e2e.p99',
    message: 'e2e p99 above 5 ms for 2 s',
  });
  const service = new ReportService({ get: async () => store });
  await service.markBaseline('e2e-baseline');
  const html = await service.exportHtml('latest');
  mkdirSync(artifacts, { recursive: true });
  const file = resolve(artifacts, 'report.html');
  writeFileSync(file, html);

  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) requests.push(request.url());
  });
  await page.goto(pathToFileURL(file).href);

  const charts = await page.$$eval('svg.chart', (svgs) =>
    svgs.map((svg) => ({
      title: svg.getAttribute('aria-label'),
      paths: [...svg.querySelectorAll('path')].filter((path) => (path.getAttribute('d') ?? '').split('L').length > 5)
        .length,
      // The per-interval distribution is boxes and dots, not lines.
      boxes: svg.querySelectorAll('rect').length,
      width: svg.getBoundingClientRect().width,
      // Legend names measured as drawn: each must end inside the chart, never cut at its edge.
      legendsInside: [...svg.querySelectorAll('text.legend')].every(
        (text) =>
          (text as unknown as Drawn).getBBox().x + (text as unknown as Drawn).getBBox().width <=
          (svg as unknown as { viewBox: { baseVal: { width: number } } }).viewBox.baseVal.width,
      ),
      legends: [...svg.querySelectorAll('text.legend')].map((text) => text.textContent),
    })),
  );
  expect(charts.map((chart) => chart.title)).toEqual(
    expect.arrayContaining([
      'Percentile distribution: the other run vs this run',
      'e2e latency over time',
      'Latency by percentile (from the full histograms)',
      'Throughput',
    ]),
  );
  for (const chart of charts) {
    if (chart.title === 'per-interval e2e p99 of both runs') expect(chart.boxes, 'a box for each run').toBeGreaterThanOrEqual(2);
    else expect(chart.paths, `chart "${chart.title}" has drawn lines`).toBeGreaterThan(0);
    expect(chart.width).toBeGreaterThan(300);
    expect(chart.legendsInside, `every legend of "${chart.title}" fits: ${chart.legends.join(', ')}`).toBe(true);
  }
  expect(charts.find((chart) => chart.title === 'e2e latency over time')?.legends).toContain('10 ms target');
  expect(await page.textContent('.comparison .badge')).toBe('regressed');
  expect(await page.textContent('body')).toContain('e2e p99 above 5 ms for 2 s');
  expect(requests).toEqual([]);

  await page.screenshot({ path: resolve(artifacts, 'report.png'), fullPage: true });
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  writeFileSync(resolve(artifacts, 'report.pdf'), pdf);
  // An A4 PDF: its MediaBox is 595 × 842 points.
  expect(pdf.toString('latin1')).toMatch(/MediaBox\s*\[\s*0 0 595(\.\d+)? 841\.9|MediaBox\s*\[\s*0 0 595(\.\d+)? 842/);
  await page.close();
}, 60_000);

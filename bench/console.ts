// Console benchmark (issue 4): a 20 s sustained run with the console open in Chromium.
// Measures the page's frame rate and longest frame from requestAnimationFrame, the bytes and
// updates per second from engine to page, and the engine's end-to-end p99 with the console
// attached vs detached, alternating within the same run. Prints one JSON line.
// Targets: ≥ 55 frames/s and longest frame < 50 ms while streaming; ≤ 20 updates/s on the wire;
// attaching changes e2e p99 by < 10 %.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Lab } from '../src/main/lab/lab';
import { RunController } from '../src/main/lab/run/run-controller';
import { createHistogram, initHistograms } from '../src/main/lab/common/create-histogram';
import { loadRig } from '../src/main/lab/files/rig-file';
import { LabServer } from '../src/main/lab/server/lab-server';
import type { RunSummary } from '../src/shared/run';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from '../test/setup/chromium';

const ROOT = join(import.meta.dirname, '..');
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 20_000);
const WARMUP_MS = 2_000;
/** Detached and attached alternate in this many blocks after the warm-up, detached first. */
const BLOCKS = 10;
const BLOCK_MS = (DURATION_MS - WARMUP_MS) / BLOCKS;
/**
 * Messages per second. The sustained scenario's 5,000/s already saturates a 2-core bench machine
 * without any console, which hides what the console costs; 1,000/s keeps the engine in its linear range.
 */
const RATE = Number(process.env['BENCH_RATE'] ?? 1000);

type Phase = 'warmup' | 'attached' | 'detached';
const sleep = (delayMs: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, delayMs));
const ATTACH_SETTLE_MS = 1000;
/** After each freeze or wake, Chrome's lifecycle change and the queued catch-up are left out. */
const TOGGLE_SETTLE_MS = 300;

// The engine's histograms' own kind (WebAssembly where it loads): only those add into each other.
const newHistogram = (): hdr.Histogram => createHistogram();
const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) {
  console.error('The console is not built: run `npx electron-vite build` first.');
  process.exit(1);
}

await initHistograms();
const histograms: Record<Exclude<Phase, 'warmup'>, hdr.Histogram> = {
  attached: newHistogram(),
  detached: newHistogram(),
};
let phase: Phase = 'warmup';

const runs = new RunController();
// Each interval's e2e histogram (from the engine's thread) goes to the phase it arrived in.
runs.onDidRecordInterval(({ histogram }) => {
  const e2e = histogram('e2e');
  if (phase !== 'warmup' && e2e.totalCount > 0) histograms[phase].add(e2e);
});
// Runs are not saved here: the figures are the console's cost, not the store's.
const lab = new Lab({ host: 'serve', runs, stores: null, dataDir: join(ROOT, 'artifacts', 'bench-data') });
const server = await LabServer.start({ lab, rendererDir: join(ROOT, 'out', 'renderer'), port: 0 });
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

/** CPU seconds used so far by the descendants of a process (Linux /proc): here, Chromium's processes. */
function treeCpuSeconds(rootPid: number): number {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (const [pid, seconds] of cpu) {
    if (pid === rootPid) continue;
    for (let at: number | undefined = pid; at !== undefined && at > 1; at = parents.get(at)) {
      if (at === rootPid) {
        total += seconds;
        break;
      }
    }
  }
  return total;
}

interface PageTiming {
  frames: number;
  spanMs: number;
  longestMs: number;
}

/** Opens the console on the Run page and starts counting animation frames. */
async function attach(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  // Page scripts are strings: this file is checked without DOM types.
  await page.addInitScript(`
    const timing = { frames: 0, first: 0, last: 0, longest: 0 };
    window.cvlabTiming = timing;
    const tick = (now) => {
      if (timing.frames > 0) timing.longest = Math.max(timing.longest, now - timing.last);
      else timing.first = now;
      timing.last = now;
      timing.frames++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  `);
  await page.goto(`${server.url}&page=${process.env['BENCH_PAGE'] ?? 'run'}`);
  await page.getByTestId('connection').getByText('connected').waitFor({ timeout: 10_000 });
  // Opening is a one-off (page load, the frames kept so far fetched in pieces): let it finish.
  await sleep(ATTACH_SETTLE_MS);
  // Count from here: streaming only.
  await page.evaluate('window.cvlabTiming.frames = 0; window.cvlabTiming.longest = 0;');
  return page;
}

async function readTiming(page: Page): Promise<PageTiming> {
  return (await page.evaluate(
    '({ frames: window.cvlabTiming.frames, spanMs: window.cvlabTiming.last - window.cvlabTiming.first, longestMs: window.cvlabTiming.longest })',
  )) as PageTiming;
}

const scenario = JSON.parse(readFileSync(join(ROOT, 'resources', 'scenarios', 'sustained.json'), 'utf8')) as Record<
  string,
  unknown
>;
const rig = await loadRig();

// The console is open before the run starts; detaching freezes it (Chrome's page lifecycle:
// no script, no drawing, socket left open), attaching wakes it. Toggling without reloads lets
// the two conditions alternate often, so noise from the rest of the machine falls on both.
const page = await attach();
const cdp = await page.context().newCDPSession(page);
const setAttached = async (attached: boolean): Promise<void> => {
  await cdp.send('Page.setWebLifecycleState', { state: attached ? 'active' : 'frozen' });
};

const finished = new Promise<RunSummary>((resolve) => lab.onDidFinishRun(resolve));
const info = await lab.startRun({
  scenario: scenario as never,
  rig,
  overrides: { durationMs: DURATION_MS, rate: RATE },
});

const timings: PageTiming[] = [];
let attachedMs = 0;
let wireBytes = 0;
let wireMessages = 0;
let frameUpdates = 0;
let browserCpuSeconds = 0;
const browserPid = process.pid; // Chromium runs as this process's child
const runStart = performance.now();
const until = (offsetMs: number): Promise<void> => sleep(Math.max(0, runStart + offsetMs - performance.now()));
for (let block = 0; block < BLOCKS; block++) {
  const start = WARMUP_MS + block * BLOCK_MS;
  await until(start);
  const attached = block % 2 === 1;
  phase = 'warmup'; // the toggle and its settling count as neither (the same for both conditions)
  await setAttached(attached);
  await sleep(TOGGLE_SETTLE_MS);
  if (attached) await page.evaluate('window.cvlabTiming.frames = 0; window.cvlabTiming.longest = 0;');
  phase = attached ? 'attached' : 'detached';
  if (!attached) continue;
  const before = {
    bytes: server.counters.bytes,
    messages: server.counters.messages,
    frames: server.counters.events['onDidRunFrames'] ?? 0,
    cpu: treeCpuSeconds(browserPid),
  };
  const startedAt = performance.now();
  await until(start + BLOCK_MS - 5);
  phase = 'warmup';
  attachedMs += performance.now() - startedAt;
  wireBytes += server.counters.bytes - before.bytes;
  wireMessages += server.counters.messages - before.messages;
  frameUpdates += (server.counters.events['onDidRunFrames'] ?? 0) - before.frames;
  browserCpuSeconds += treeCpuSeconds(browserPid) - before.cpu;
  timings.push(await readTiming(page));
}
phase = 'warmup';
const summary = await finished;

const frames = timings.reduce((sum, timing) => sum + timing.frames, 0);
const spanMs = timings.reduce((sum, timing) => sum + timing.spanMs, 0);
const attachedP99 = histograms.attached.getValueAtPercentile(99);
const detachedP99 = histograms.detached.getValueAtPercentile(99);
const seconds = attachedMs / 1000;
const result = {
  bench: 'console',
  scenario: info.scenario,
  rate: RATE,
  durationMs: DURATION_MS,
  /** Detached: the open console frozen (no script, no drawing; its socket stays open). */
  detachedMeans: 'page frozen through the Chrome DevTools Protocol, socket open',
  page: {
    framesPerSecond: Math.round((frames / (spanMs / 1000)) * 10) / 10,
    longestFrameMs: Math.round(Math.max(...timings.map((timing) => timing.longestMs)) * 10) / 10,
    frames,
    /** Chromium's processes together, in % of one core, while streaming. */
    browserCpuPercent: Math.round((browserCpuSeconds / seconds) * 1000) / 10,
  },
  wire: {
    bytesPerSecond: Math.round(wireBytes / seconds),
    messagesPerSecond: Math.round((wireMessages / seconds) * 10) / 10,
    frameUpdatesPerSecond: Math.round((frameUpdates / seconds) * 10) / 10,
    droppedEvents: server.counters.droppedEvents,
  },
  engine: {
    e2eP99AttachedMs: ms(attachedP99),
    e2eP99DetachedMs: ms(detachedP99),
    attachedOverDetached: Math.round((attachedP99 / detachedP99) * 1000) / 1000,
    samplesAttached: histograms.attached.totalCount,
    samplesDetached: histograms.detached.totalCount,
    runE2eP99Ms: ms(summary.stages.e2e?.p99 ?? Number.NaN),
    runPassed: summary.passed,
  },
  targets: {
    framesPerSecond: '>= 55',
    longestFrameMs: '< 50',
    frameUpdatesPerSecond: '<= 20',
    attachedOverDetached: '< 1.10',
  },
};
console.log(JSON.stringify(result));

await page.close();
await browser.close();
await server.close();
await lab.dispose();
process.exit(0);

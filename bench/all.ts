// `npm run bench:all`: every benchmark one after another, each in a process of its own, each
// started only once the 1-minute load average is at or below 1.5 (it waits; a bench that starts
// above it anyway has its line marked busy). Writes one JSON file per run under bench/results/
// (figures, ratios, the goals, machine, commit), compares it with the previous file — naming
// every figure worse by more than its noise — and rewrites the README's benchmark table.
//
// Noise: the first time on a machine (no bench/results/noise.json for it, or --noise), each
// bench runs three times; the spread of each figure is kept in noise.json (unless a bench ran
// on a busy machine) and the figures are the medians. Prints progress on stderr and ONE JSON
// line on stdout.
// Exit codes: 0 every goal met and nothing worse, 1 a goal missed, a figure worse than its noise
// or a bench without figures, 2 bad flags, 3 Redis or PostgreSQL did not answer.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { benchReadmeTable, withBenchReadmeTable } from './bench-readme-table';
import { compareBenchResults, figuresOf, goalRows, sameMachine, spreadsOf, type BenchResults, type BenchRun, type Machine, type Noise } from './compare-bench-results';
import { BENCH_NAMES, type BenchLine, type BenchName } from './tracked-figures';

const ROOT = join(import.meta.dirname, '..');
const NOISE_FILE = 'noise.json';
const NOISE_RUNS = 3;

const usage = `usage: npm run bench:all -- [--only pipeline,load,…] [--noise] [--wait <seconds>] [--load-limit <n>] [--no-build] [--no-readme] [--results <folder>]
  --only        run these benches only (of ${BENCH_NAMES.join(', ')})
  --noise       measure the noise again: three runs of each bench (done anyway the first time on a machine)
  --wait        how long to wait for a quiet machine before each bench, seconds (default 600)
  --load-limit  the 1-minute load average a bench may start at (default 1.5)
  --no-build    use the build in out/ as it is (console and engine need one)
  --no-readme   leave the README's table alone
  --results     where the results files go (default bench/results)`;

function fail(message: string, code: number): never {
  process.stderr.write(`bench:all: ${message}\n`);
  process.exit(code);
}

let flags;
try {
  flags = parseArgs({
    options: {
      only: { type: 'string' },
      noise: { type: 'boolean', default: false },
      wait: { type: 'string', default: '600' },
      'load-limit': { type: 'string', default: '1.5' },
      'no-build': { type: 'boolean', default: false },
      'no-readme': { type: 'boolean', default: false },
      results: { type: 'string', default: join(ROOT, 'bench', 'results') },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)}\n${usage}`, 2);
}
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const waitSeconds = Number(flags.wait);
const loadLimit = Number(flags['load-limit']);
if (!Number.isFinite(waitSeconds) || waitSeconds < 0) fail(`--wait: expected seconds (0 or more), got "${flags.wait}"`, 2);
if (!Number.isFinite(loadLimit) || loadLimit <= 0) fail(`--load-limit: expected a load average above 0, got "${flags['load-limit']}"`, 2);
const only = flags.only?.split(',').map((name) => name.trim()).filter(Boolean);
const unknown = only?.filter((name) => !(BENCH_NAMES as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) fail(`--only: no bench named ${unknown.map((name) => `"${name}"`).join(', ')}; expected some of ${BENCH_NAMES.join(', ')}`, 2);
const benches: BenchName[] = BENCH_NAMES.filter((name) => !only || only.includes(name));
const resultsDir = flags.results;

const log = (line: string): void => void process.stderr.write(`bench:all: ${line}\n`);
const round2 = (value: number): number => Math.round(value * 100) / 100;
const load1m = (): number => round2(loadavg()[0] ?? 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function machine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** The services the benches need answer, or exit 3 saying which did not. */
async function checkServices(): Promise<void> {
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    fail(`Redis at ${redisUrl} did not answer (${error instanceof Error ? error.message : String(error)}): start it, or set REDIS_URL`, 3);
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    fail(`PostgreSQL at ${databaseUrl.replace(/:[^:@/]*@/, ':…@')} did not answer (${error instanceof Error ? error.message : String(error)}): start it, or set DATABASE_URL`, 3);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Waits until the 1-minute load average is at or below the limit, or the wait is over; true when quiet. */
async function waitForQuiet(name: string): Promise<boolean> {
  const deadline = Date.now() + waitSeconds * 1000;
  let said = false;
  while (load1m() > loadLimit) {
    if (Date.now() >= deadline) return false;
    if (!said) log(`${name}: waiting for the 1-minute load average (${load1m()}) to fall to ${loadLimit} (up to ${waitSeconds} s)`);
    said = true;
    await sleep(5000);
  }
  return true;
}

/** How long one bench may take before it is stopped. */
const BENCH_TIMEOUT_MS = 30 * 60 * 1000;

/** Runs `bench/<name>.ts` in a process (group) of its own; its last JSON line naming the bench is its figures. */
async function runBench(name: BenchName): Promise<BenchRun> {
  const quiet = await waitForQuiet(name);
  const loadBefore = load1m();
  log(`${name}: started (1-minute load average ${loadBefore}${quiet ? '' : `, above ${loadLimit}: marked busy`})`);
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderrTail = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-2000)));
  // Stopping bench:all stops the bench too (it runs in a process group of its own).
  const stopBench = (): void => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', stopBench);
  process.once('SIGTERM', stopBench);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, BENCH_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  process.off('SIGINT', stopBench);
  process.off('SIGTERM', stopBench);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  let line: BenchLine | null = null;
  for (const text of stdout.trim().split('\n').reverse()) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && (parsed as BenchLine)['bench'] === name) {
        line = parsed as BenchLine;
        break;
      }
    } catch {
      // progress text, not the line
    }
  }
  const error = timedOut
    ? `stopped after ${BENCH_TIMEOUT_MS / 60_000} minutes`
    : line === null
      ? `printed no JSON line (exit code ${exitCode}); its last output: ${stderrTail.trim().split('\n').slice(-5).join(' | ')}`
      : undefined;
  log(`${name}: ${error ?? 'done'} in ${seconds} s`);
  return { line, exitCode, seconds, loadAverage1mBefore: loadBefore, loadAverage1mAfter: load1m(), busy: !quiet, ...(error ? { error } : {}) };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

await checkServices();
if (!flags['no-build']) {
  log('building (electron-vite build): the console and engine benches run the build');
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    fail('the build failed (see above)', 1);
  }
}

mkdirSync(resultsDir, { recursive: true });
const here = machine();
const noisePath = join(resultsDir, NOISE_FILE);
const knownNoise = readJson<Noise>(noisePath);
const measureNoise = flags.noise || !knownNoise || !sameMachine(knownNoise.machine, here);
const runsPerBench = measureNoise ? NOISE_RUNS : 1;
if (measureNoise) log(`measuring the noise: each bench runs ${NOISE_RUNS} times${knownNoise && !flags.noise ? ' (noise.json is from another machine)' : ''}`);

const commit = git('rev-parse', 'HEAD') || 'unknown';
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
const date = new Date().toISOString();
const runs: Partial<Record<BenchName, BenchRun[]>> = {};
for (let round = 0; round < runsPerBench; round++) {
  for (const name of benches) (runs[name] ??= []).push(await runBench(name));
}

let noise: Noise | null = measureNoise ? null : (knownNoise ?? null);
const anyBusy = benches.some((name) => (runs[name] ?? []).some((run) => run.busy));
if (measureNoise) {
  // A partial run (--only) keeps the spreads already known for the benches it left out.
  const kept = knownNoise && sameMachine(knownNoise.machine, here) ? knownNoise.spreads : {};
  noise = { machine: here, measuredAt: date, commit, runsPerBench: NOISE_RUNS, spreads: { ...kept, ...spreadsOf(runs) } };
  // The spread of a busy machine would hide every later regression: it is used now, not kept.
  if (anyBusy) log(`not keeping the noise in ${NOISE_FILE}: some benches started on a busy machine; measure it again on a quiet one`);
  else writeFileSync(noisePath, `${JSON.stringify(noise, null, 2)}\n`);
}

const figures = figuresOf(runs);
const previousFile = readdirSync(resultsDir)
  .filter((file) => file.endsWith('.json') && file !== NOISE_FILE)
  .sort()
  .at(-1);
const previous = previousFile ? readJson<BenchResults>(join(resultsDir, previousFile)) : undefined;
const file = `${date.replace(/[:.]/g, '-')}-${commit.slice(0, 7)}.json`;
const results: BenchResults = {
  date,
  commit,
  dirty,
  machine: here,
  loadLimit,
  benches: runs,
  figures,
  goals: goalRows(figures, runs),
  noise: noise ? { file: NOISE_FILE, measuredAt: noise.measuredAt, commit: noise.commit } : null,
  comparison: compareBenchResults(previous && previousFile ? { file: previousFile, results: previous } : null, { figures, machine: here }, noise),
};
writeFileSync(join(resultsDir, file), `${JSON.stringify(results, null, 2)}\n`);
if (!flags['no-readme']) {
  const readmePath = join(ROOT, 'README.md');
  writeFileSync(readmePath, withBenchReadmeTable(readFileSync(readmePath, 'utf8'), benchReadmeTable(results, relative(ROOT, join(resultsDir, file)))));
}

const missed = results.goals.filter((goal) => !goal.met);
const failed = benches.filter((name) => (runs[name] ?? []).some((run) => run.line === null));
for (const goal of missed) log(`goal missed: ${goal.label}: ${goal.value ?? 'no figure'} (goal ${goal.goal.op} ${goal.goal.value})`);
for (const change of results.comparison.worse) log(`worse than its noise: ${change.label}: ${change.previous} → ${change.current} (noise allows ${change.allowed})`);
for (const name of failed) log(`${name}: no figures (${(runs[name] ?? []).find((run) => run.error)?.error ?? ''})`);
process.stdout.write(
  `${JSON.stringify({
    bench: 'all',
    results: relative(ROOT, join(resultsDir, file)),
    benches,
    runsPerBench,
    goalsMet: `${results.goals.length - missed.length}/${results.goals.length}`,
    missed: missed.map((goal) => goal.id),
    worse: results.comparison.worse.map((change) => change.id),
    comparedWith: results.comparison.previous,
    busy: benches.filter((name) => (runs[name] ?? []).some((run) => run.busy)),
    failed,
    machine: here,
  })}\n`,
);
process.exit(missed.length > 0 || results.comparison.worse.length > 0 || failed.length > 0 ? 1 : 0);

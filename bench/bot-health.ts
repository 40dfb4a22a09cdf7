// The cost of watching a black-box bot's health: reading a three-process tree (a shell and two
// node processes, as `npm start` makes) from /proc, as the host does every interval. Figures: the
// CPU this process spends per reading (the host's thread and libuv's pool together), with and
// without looking for new descendants, against the floor measured in the same run: cvlab's own
// resource reading per interval (process.cpuUsage + process.memoryUsage). At 100 ms intervals a
// reading's cost over 100 ms is the share of a core the watch takes.
// Prints ONE JSON line.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { ProcessTreeSampler } from '../src/main/lab/metrics/process-tree-sampler';

const READINGS = Number(process.env['BENCH_BOT_HEALTH_READINGS'] ?? 2000);
const idle = `${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1000)"`;
const tree = spawn('sh', ['-c', `${idle} & ${idle} & wait`], { stdio: 'ignore', detached: true });

/** CPU µs of this whole process per call of `work`, over `count` calls. */
async function cpuPerCall(count: number, work: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  for (let index = 0; index < count; index++) await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

try {
  // Wait for the shell's two children to be there.
  const probe = await ProcessTreeSampler.watch(tree.pid as number, { discoverEveryMs: 0 });
  for (let tries = 0; tries < 200 && probe.processes.length < 3; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await probe.read();
  }
  const processes = probe.processes.length;
  await probe.close();

  const floorUs = await cpuPerCall(READINGS, () => {
    process.cpuUsage();
    return process.memoryUsage();
  });
  const steady = await ProcessTreeSampler.watch(tree.pid as number, { discoverEveryMs: 1e12 });
  await steady.read();
  const readingUs = await cpuPerCall(READINGS, () => steady.read());
  await steady.close();
  const discovering = await ProcessTreeSampler.watch(tree.pid as number, { discoverEveryMs: 0 });
  const discoveringUs = await cpuPerCall(Math.max(100, READINGS / 4), () => discovering.read());
  await discovering.close();

  const round = (value: number): number => Math.round(value * 10) / 10;
  console.log(
    JSON.stringify({
      bench: 'bot-health',
      processes,
      readings: READINGS,
      readingCpuUs: round(readingUs),
      readingWithDiscoveryCpuUs: round(discoveringUs),
      ownResourcesCpuUs: round(floorUs),
      ratioReadingToOwn: round(readingUs / floorUs),
      // Reading every 100 ms and looking for descendants once a second: share of one core.
      shareOfCoreAt100ms: Math.round(((readingUs * 9 + discoveringUs) / 10 / 100_000) * 1e5) / 1e5,
      cores: cpus().length,
      load1: round(loadavg()[0] ?? 0),
    }),
  );
} finally {
  process.kill(-(tree.pid as number), 'SIGKILL');
}

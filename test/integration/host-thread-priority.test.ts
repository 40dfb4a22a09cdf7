// The host's thread gives way to the engine's: once a run's engine thread is started, the host
// thread's nice value is CVLAB_HOST_NICE, and every engine thread — the second run's too —
// keeps the normal priority (they are started from a thread of their own, not the host's).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostNice } from '../../src/main/lab/run/host-thread-priority';

describe("the host thread's priority", () => {
  it.runIf(process.platform === 'linux')('is lowered once the engine thread runs, and each engine thread keeps the normal one', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cvlab-nice-'));
    const niceFile = join(folder, 'engine-threads.jsonl');
    try {
      const output = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', 'test/fixtures/two-engine-runs.ts'], { env: { ...process.env, CVLAB_HOST_NICE: '7', CVLAB_TEST_NICE_FILE: niceFile }, timeout: 60_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        );
      });
      const runs = output.trim().split('\n').map((line) => JSON.parse(line) as { engineThreadId: number; sent: number; hostNice: number });
      expect(runs).toHaveLength(2);
      for (const run of runs) {
        expect(run.sent).toBe(20);
        expect(run.hostNice).toBe(7);
      }
      const engines = readFileSync(niceFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { threadId: number; kernelThread: number; nice: number });
      expect(engines.map((engine) => engine.threadId)).toEqual(runs.map((run) => run.engineThreadId));
      // Both engine threads, the one started after the host's priority was lowered too.
      expect(engines.map((engine) => engine.nice)).toEqual([0, 0]);
      expect(new Set(engines.map((engine) => engine.kernelThread)).size).toBe(2);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reads CVLAB_HOST_NICE, keeping 10 for anything that is not a nice value it may take', () => {
    expect(hostNice({})).toBe(10);
    expect(hostNice({ CVLAB_HOST_NICE: '0' })).toBe(0);
    expect(hostNice({ CVLAB_HOST_NICE: '19' })).toBe(19);
    for (const text of ['-5', '20', 'low', '2.5', '']) expect(hostNice({ CVLAB_HOST_NICE: text })).toBe(10);
  });
});

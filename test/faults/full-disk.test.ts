import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/run';
import { cvlab } from '../setup/cvlab-run';
import { freePort } from '../setup/services';

// A full disk under the embedded database: a small tmpfs (a real file system that fills up),
// filled to the brim before the run. The run is measured and printed; what failed is named in
// the kernel's words (ENOSPC) with the folder, and the exit code says "unavailable" (3).

let folder: string;
let fullDisk: string;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-full-disk-'));
  fullDisk = join(folder, 'disk');
  execFileSync('mkdir', ['-p', fullDisk]);
  // Mounting needs root, which the test machines and CI have; anywhere else this says why it failed.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', fullDisk]);
  execFileSync('sh', ['-c', `dd if=/dev/zero of='${fullDisk}/filler' bs=4k 2>/dev/null || true`]);
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify({ ...demo, osc: { host: '127.0.0.1', port: await freePort(), tapPort: await freePort() } }));
});
afterAll(async () => {
  // Lazily: a process that still has a file there (it should not) does not keep the mount.
  execFileSync('umount', ['--lazy', fullDisk]);
  await rm(folder, { recursive: true, force: true });
});

describe('a full disk under the embedded database', () => {
  it('names ENOSPC and the folder, exits 3, and still prints the summary and writes --json', async () => {
    const dataDir = join(fullDisk, 'db');
    const jsonPath = join(folder, 'summary.json');
    const result = await cvlab(['run', 'resources/scenarios/burst.json', '--rig', rigPath, '--duration', '500ms', '--rate', '100', '--data-dir', dataDir, '--json', jsonPath]);
    expect(result.code, result.stderr).toBe(3);
    const cause = `the embedded database in ${dataDir} cannot use its files: no space left on the device (ENOSPC)`;
    expect(result.stderr).toContain(`the run store did not open, this run is not saved: ${cause}`);
    expect(result.stderr).toContain(`the run's result could not be saved: ${cause}. It is in the summary above and in ${jsonPath}.`);
    expect(result.stderr).not.toMatch(/\[object Object\]|did not answer/);
    expect(result.stdout).toMatch(/^sent 50 of 50 planned/m);
    expect(result.stdout).toMatch(/^(PASSED|FAILED)$/m);
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as RunSummary;
    expect(summary.sent).toBe(50);
  }, 120_000);
});

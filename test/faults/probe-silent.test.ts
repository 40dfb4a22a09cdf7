import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../setup/services';
import { EmulatorChild } from '../../src/main/lab/loopback/emulator-child';
import { LoopbackSession } from '../../src/main/lab/loopback/loopback-session';
import { PseudoTerminalPair } from '../../src/main/lab/loopback/pseudo-terminal-pair';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { LoopbackResult } from '../../src/shared/loopback';
import { waitFor } from '../setup/wait-for';
import { CVLAB_CLI } from '../setup/cvlab-run';

// A probe that stops answering while its port stays open: the emulator process killed (its
// socat keeps the pseudo-terminal alive, as a USB bridge stays enumerated when the board behind
// it crashes) or hung with SIGSTOP. The run must notice, stop, keep what it measured, and say so.

const folder = mkdtempSync(join(tmpdir(), 'cvlab-probe-silent-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let links = 0;

function rigFor(port: number): RigConfig {
  return RigSchema.parse({
    name: 'probe-silent',
    osc: { host: '127.0.0.1', port },
    variables: [{ name: 'invert', address: '/lzx/proc/invert', kind: 'bool', min: 0, max: 1, out: { min: 0, max: 1, unit: 'V' }, test: true }],
  });
}

async function emulator(): Promise<{ child: EmulatorChild; oscPort: number }> {
  const oscPort = await freePort();
  links += 1;
  const child = await EmulatorChild.start({ oscPort, address: '/lzx/proc/invert', link: join(folder, `probe-${links}`), delayMs: 2, baud: 115200 });
  return { child, oscPort };
}

/** Resolves once the emulator has emitted `count` edges (waits on the condition, not on a clock). */
function afterEdges(child: EmulatorChild, count: number): Promise<void> {
  return waitFor(() => child.truths.length >= count, `${count} edges from the emulator`, 60_000, 5);
}

const EDGES = 400;

describe('a probe that goes silent mid-run', () => {
  // A hung probe (SIGSTOP) goes silent on an open port; a killed emulator takes its socat along
  // (nothing it started outlives it), so the port closes: the cable pulled.
  it.each([
    { signal: 'SIGKILL', kind: 'closed', reason: 'serial port closed' },
    { signal: 'SIGSTOP', kind: 'silent', reason: 'the probe went silent' },
  ] as const)('ends the run with the edges measured so far when the emulator gets $signal ($kind)', async ({ signal, kind, reason }) => {
    const { child, oscPort } = await emulator();
    const session = new LoopbackSession({ rig: rigFor(oscPort), path: child.hostPath, autoReconnect: false });
    try {
      await session.connect();
      const running = session.run({ edges: EDGES, rateHz: 50, calibrationMs: 500, timeoutMs: 2000, silenceTimeoutMs: 1000 });
      await afterEdges(child, 20);
      child.signal(signal);
      const result = await running;
      expect(result.complete).toBe(false);
      expect(result.stopKind).toBe(kind);
      expect(result.stopReason).toMatch(new RegExp(`^${reason} after \\d+ of ${EDGES} edges`));
      // The last EDGE lines may still be on the emulated wire when the process dies.
      expect(result.matched).toBeGreaterThanOrEqual(10);
      expect(result.matched).toBeLessThan(EDGES);
      expect(result.sent).toBeLessThan(EDGES);
      // Every edge measured before the silence is kept, with its latency.
      expect(result.latency?.count).toBe(result.matched);
      expect(result.edges.filter((edge) => edge.status === 'matched' && edge.latencyUs !== null)).toHaveLength(result.matched);
    } finally {
      await session.close();
      await child.close();
    }
  });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CVLAB_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (text: Buffer) => (stdout += text.toString()));
    child.stderr.on('data', (text: Buffer) => (stderr += text.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cvlab loopback and a silent probe', () => {
  it('exits 1, prints how far it got, and keeps (and saves) the partial result', async () => {
    const { child, oscPort } = await emulator();
    const rigFile = join(folder, 'rig-kill.json');
    writeFileSync(rigFile, JSON.stringify(rigFor(oscPort)));
    const json = join(folder, 'silent.json');
    try {
      const run = cli(['loopback', '--serial', child.hostPath, '--rig', rigFile, '--edges', String(EDGES), '--rate', '50', '--timeout-ms', '2000', '--json', json, '--data-dir', join(folder, 'db')]);
      await afterEdges(child, 20);
      child.signal('SIGSTOP');
      const { code, stdout, stderr } = await run;
      expect(stderr).toMatch(new RegExp(`the probe went silent after \\d+ of ${EDGES} edges`));
      expect(code).toBe(1);
      expect(stdout).toMatch(/stopped early: the probe went silent/);
      const result = JSON.parse(readFileSync(json, 'utf8')) as LoopbackResult;
      expect(result.complete).toBe(false);
      expect(result.matched).toBeGreaterThanOrEqual(10);
      expect(stderr).toMatch(/saved as loopback-/);
    } finally {
      await child.close();
    }
  }, 180_000); // the emulator starts under tsx and the embedded database opens to save: slow on a busy machine

  it('exits 3 when nothing on the port ever answers', async () => {
    const pair = await PseudoTerminalPair.open({ hostPath: join(folder, 'mute-host'), devicePath: join(folder, 'mute-device') });
    try {
      const { code, stderr } = await cli(['loopback', '--serial', pair.hostPath, '--no-save']);
      expect(stderr).toMatch(/the loop-back probe on .*mute-host did not answer: no HELLO from/);
      expect(code).toBe(3);
    } finally {
      await pair.close();
    }
  }, 60_000);
});

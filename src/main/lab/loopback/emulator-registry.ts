import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A running `cvlab probe-emulator` serves a pseudo-terminal, which the operating system does not
// list as a serial port. Each emulator leaves a small file here with its port and process id, so
// the console's port list can offer it; entries whose process is gone are pruned on reading.

export interface EmulatorEntry {
  /** Serial path the host opens. */
  path: string;
  pid: number;
  /** UDP port it listens to OSC on. */
  oscPort: number;
  startedAt: string;
}

/** The folder emulators register in: CVLAB_EMULATOR_DIR, else a cvlab folder in the temp dir. */
export function emulatorRegistryDir(environment: NodeJS.ProcessEnv = process.env): string {
  return environment['CVLAB_EMULATOR_DIR'] || join(tmpdir(), 'cvlab-probe-emulators');
}

/** Records a running emulator; returns a function that removes the record. */
export function registerEmulator(entry: EmulatorEntry, folder = emulatorRegistryDir()): () => void {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${entry.pid}.json`);
  writeFileSync(file, `${JSON.stringify(entry)}\n`);
  return () => rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The emulators running now; files of processes that are gone are removed. */
export function runningEmulators(folder = emulatorRegistryDir()): EmulatorEntry[] {
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const entries: EmulatorEntry[] = [];
  for (const name of names) {
    const file = join(folder, name);
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as EmulatorEntry;
      if (typeof entry.pid === 'number' && typeof entry.path === 'string' && alive(entry.pid)) entries.push(entry);
      else rmSync(file, { force: true });
    } catch {
      rmSync(file, { force: true });
    }
  }
  return entries;
}

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A spool file this process holds the lock of, and the orphaned spools it took over. */
export interface SpoolClaim {
  readonly spoolPath: string;
  /** Spools of dead processes (same database) whose rows were moved into this one. */
  readonly adopted: readonly string[];
  /** Removes the lock (and the spool when it is empty). */
  release(): void;
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat): a pid reused later has another. */
function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function lockIsLive(lockPath: string): boolean {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return false;
  }
  const [pidText, start = ''] = text.trim().split(' ');
  const pid = Number(pidText);
  // A lock being written this instant is empty: count it as live, the next slot serves.
  if (!pidText) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return start === '' || processStart(pid) === '' || processStart(pid) === start;
}

/** Takes `lockPath` with O_EXCL; a lock left by a dead process is taken over. */
function tryLock(lockPath: string): boolean {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, `${process.pid} ${processStart(process.pid)}\n`);
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (lockIsLive(lockPath)) return false;
    // Rename first: of two processes taking over one stale lock, only one rename succeeds.
    const stale = `${lockPath}.stale-${process.pid}`;
    try {
      renameSync(lockPath, stale);
      unlinkSync(stale);
    } catch {
      // another process took it over first; try again
    }
  }
  return false;
}

const SPOOL_NAME = /^audit-spool-(\d+)\.jsonl$/;

/**
 * Claims a spool of its own for this process under `spoolDir/<key>/`: the lowest slot whose
 * lock is free or left by a dead process. Spools of other dead processes of the same database
 * are moved into it, so their rows replay too (rows carry (source, seq): a replay never doubles).
 */
export function claimSpool(spoolDir: string, key: string): SpoolClaim {
  const dir = join(spoolDir, key);
  mkdirSync(dir, { recursive: true });
  let slot = 1;
  while (!tryLock(join(dir, `audit-spool-${slot}.lock`))) slot++;
  const spoolPath = join(dir, `audit-spool-${slot}.jsonl`);
  const lockPath = join(dir, `audit-spool-${slot}.lock`);
  const adopted: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = SPOOL_NAME.exec(name);
    if (!match || Number(match[1]) === slot) continue;
    const orphan = join(dir, name);
    const orphanLock = join(dir, `audit-spool-${match[1]}.lock`);
    if (statSync(orphan).size === 0 || !tryLock(orphanLock)) continue;
    const text = readFileSync(orphan, 'utf8');
    // A torn last line stays one line of its own, set aside by the replay; the rows after it are whole.
    const fd = openSync(spoolPath, 'a');
    writeSync(fd, text.endsWith('\n') ? text : `${text}\n`);
    // On disk before the orphan goes: a crash here leaves the rows twice, never zero times.
    fsyncSync(fd);
    closeSync(fd);
    unlinkSync(orphan);
    unlinkSync(orphanLock);
    adopted.push(orphan);
  }
  return {
    spoolPath,
    adopted,
    release() {
      try {
        if (existsSync(spoolPath) && statSync(spoolPath).size === 0) unlinkSync(spoolPath);
        unlinkSync(lockPath);
      } catch {
        // already gone
      }
    },
  };
}

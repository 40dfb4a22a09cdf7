import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

// A child cvlab starts (socat, a bot, an instance agent, a subscriber process) must not outlive
// it, however cvlab ends. Two layers: when cvlab exits (a signal it handles, an error, the end
// of a command), every tied child still running gets SIGTERM; when cvlab dies without a word
// (SIGKILL, a crash of the runtime), Linux sends the child SIGTERM itself (PR_SET_PDEATHSIG,
// set by util-linux's setpriv before it execs the command; nothing is left in between).

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => process.platform === 'linux' && existsSync(path));

const running = new Set<ChildProcess>();
let exitHooked = false;

/** Stops every tied child still running: synchronous, so it can run in process.on('exit'). */
function stopAll(): void {
  for (const child of running) stopTied(child);
}

/** SIGTERM to a tied child (its whole process group when it leads one). */
export function stopTied(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(isGroupLeader.has(child) ? -pid : pid, signal);
  } catch {
    // already gone
  }
}

const isGroupLeader = new WeakSet<ChildProcess>();

/**
 * spawn() for a child that must end with cvlab. `shell: true` is honoured by running the command
 * through /bin/sh -c; `detached: true` makes it the leader of a process group, stopped whole.
 */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const { shell, ...rest } = options;
  const [file, argv] = shell ? ['/bin/sh', ['-c', [command, ...args].join(' ')]] : [command, [...args]];
  // A command that is not there is spawned bare, so it fails as Node says it (ENOENT).
  const child = SETPRIV && isOnPath(file) ? spawn(SETPRIV, ['--pdeathsig', 'SIGTERM', '--', file, ...argv], rest) : spawn(file, argv, rest);
  if (rest.detached) isGroupLeader.add(child);
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', stopAll);
  }
  return child;
}

function isOnPath(file: string): boolean {
  if (isAbsolute(file)) return existsSync(file);
  return (process.env['PATH'] ?? '').split(delimiter).some((folder) => folder !== '' && existsSync(join(folder, file)));
}

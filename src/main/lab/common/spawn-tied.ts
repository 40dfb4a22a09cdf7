import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

// A child cvlab starts (socat, a bot, an instance agent, a subscriber process) must not outlive
// it, however cvlab ends. Two layers: when cvlab exits (a signal it handles, an error, the end
// of a command), every tied child still running gets SIGTERM; when cvlab dies without a word
// (SIGKILL, a crash of the runtime), Linux sends the child SIGTERM itself (PR_SET_PDEATHSIG,
// set by util-linux's setpriv before it execs the command; nothing is left in between).

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => process.platform === 'linux' && existsSync(path));

const running = new Set<ChildProcess>();
let exitHooked = false;

// A child spawned on another thread (a bot on the engine thread): that thread's exit hooks do not
// run when the process exits, so it tells the main thread the child's pid, and the main thread
// stops it with its own.
const TIED_CHANNEL = 'cvlab-tied-children';
interface TiedNotice {
  readonly pid: number;
  readonly group: boolean;
  readonly running: boolean;
}
const tiedElsewhere = new Map<number, boolean>();
let tiedChannel: BroadcastChannel | undefined;

function channel(): BroadcastChannel {
  if (!tiedChannel) {
    tiedChannel = new BroadcastChannel(TIED_CHANNEL);
    tiedChannel.unref();
  }
  return tiedChannel;
}

if (isMainThread) {
  channel().onmessage = (event: unknown) => {
    const notice = (event as { data: TiedNotice }).data;
    if (notice.running) tiedElsewhere.set(notice.pid, notice.group);
    else tiedElsewhere.delete(notice.pid);
  };
  exitHooked = true;
  process.once('exit', stopAll);
}

/** Stops every tied child still running: synchronous, so it can run in process.on('exit'). */
function stopAll(): void {
  for (const child of running) stopTied(child);
  for (const [pid, group] of tiedElsewhere) {
    try {
      process.kill(group ? -pid : pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
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
  const tellMainThread = (isRunning: boolean): void => {
    if (!isMainThread && child.pid !== undefined) channel().postMessage({ pid: child.pid, group: rest.detached === true, running: isRunning } satisfies TiedNotice);
  };
  tellMainThread(true);
  child.once('exit', () => {
    running.delete(child);
    tellMainThread(false);
  });
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

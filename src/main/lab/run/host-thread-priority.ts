import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value the host's thread takes once an engine thread measures: it yields the CPU when both want it. */
export const DEFAULT_HOST_NICE = 10;

/**
 * The host thread's nice value: DEFAULT_HOST_NICE unless CVLAB_HOST_NICE says otherwise (the test
 * suite sets 0: its runner is this thread, and on a machine busy with other work it would crawl).
 */
export function hostNice(environment: NodeJS.ProcessEnv = process.env): number {
  const text = environment['CVLAB_HOST_NICE']?.trim();
  const chosen = text ? Number(text) : Number.NaN;
  return Number.isInteger(chosen) && chosen >= 0 && chosen <= 19 ? chosen : DEFAULT_HOST_NICE;
}

/** This thread's kernel id (Linux): /proc/thread-self links to /proc/<pid>/task/<tid>. */
export function currentThreadId(): number | undefined {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowers the priority of the calling thread (only it: on Linux a nice value belongs to a thread)
 * to hostNice(). The host's work during a run — frames, saving, the audit log's encoding —
 * then gives way to the engine's thread whenever both want a core, instead of taking turns
 * with it. A thread may lower its own priority but not raise it again, so this happens once
 * and threads started from this one afterwards inherit it: engine threads are started from a
 * thread of their own (engine-thread.ts). Elsewhere than Linux a nice value is the whole
 * process's, the engine's thread included, so nothing is changed there.
 * Returns the thread's nice value after the call, or undefined when it was left alone.
 */
export function lowerHostThreadPriority(environment: NodeJS.ProcessEnv = process.env): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const thread = currentThreadId();
  if (thread === undefined) return undefined;
  try {
    const wanted = hostNice(environment);
    if (getPriority(thread) < wanted) setPriority(thread, wanted);
    return getPriority(thread);
  } catch {
    // A system that refuses (a sandbox without setpriority) leaves the host as it was.
    return undefined;
  }
}

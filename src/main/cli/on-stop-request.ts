/** Why a long-running command was asked to stop, in the user's words. */
export type StopReason = 'interrupted (Ctrl-C)' | 'terminated (SIGTERM)' | 'its terminal closed (SIGHUP)' | 'the process that started it ended';

const SIGNALS: Readonly<Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', StopReason>> = {
  SIGINT: 'interrupted (Ctrl-C)',
  SIGTERM: 'terminated (SIGTERM)',
  SIGHUP: 'its terminal closed (SIGHUP)',
};
/** How often a long-running command looks whether its parent is still there. */
const PARENT_CHECK_MS = 500;

/**
 * Calls `stop` once when a long-running command is asked to end: Ctrl-C, SIGTERM, SIGHUP, or
 * the process that started it going away (a shell or script killed without a word: the
 * command is then the child of init, and nothing would ever stop it). A second signal calls
 * `again` (a command that takes its time to stop cleanly can leave at once). Returns the
 * function that stops listening.
 */
export function onStopRequest(stop: (reason: StopReason) => void, again?: (reason: StopReason) => void): () => void {
  let stopping = false;
  const handlers = new Map<NodeJS.Signals, () => void>();
  const request = (reason: StopReason): void => {
    if (!stopping) {
      stopping = true;
      stop(reason);
    } else again?.(reason);
  };
  for (const [signal, reason] of Object.entries(SIGNALS) as [NodeJS.Signals, StopReason][]) {
    const handler = (): void => request(reason);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) request('the process that started it ended');
  }, PARENT_CHECK_MS);
  watch.unref();
  return () => {
    clearInterval(watch);
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/**
 * A run stopped before its first message, while its engine waited (a bot's JOIN, the fan-out's
 * subscribers, the other instances). The message says what it waited for and how far that got;
 * the run is kept as stopped, not failed.
 */
export class StoppedWhileWaitingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoppedWhileWaitingError';
  }
}

/** Rejects with `StoppedWhileWaitingError(words())` once `signal` is aborted; never settles otherwise. */
export function whenStopped(signal: AbortSignal | undefined, words: () => string): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (!signal) return;
    const fire = (): void => reject(new StoppedWhileWaitingError(words()));
    if (signal.aborted) fire();
    else signal.addEventListener('abort', fire, { once: true });
  });
}

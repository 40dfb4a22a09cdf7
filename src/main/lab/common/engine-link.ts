import type { BotProcessRef, EngineEvent, HostCommand } from './engine-protocol';

/** The host's end of a running engine, in its own thread or (for injected functions) in this one. */
export interface EngineLink {
  /** The thread the engine runs on (the host's own in in-thread mode). */
  readonly threadId: number;
  readonly startNs: number;
  /** Black box: where the bot's processes are, as the engine said when it started. */
  readonly bot?: BotProcessRef;
  /** Every event after `started`, in order; events that came before a listener are replayed. */
  listen(listener: (event: EngineEvent) => void): void;
  /** Asks the engine to stop sending, drain, post its final snapshot and close the pipeline. */
  stop(): void;
  /** Any other command (an instance taking over the converter). */
  command(command: HostCommand): void;
  /** Ends the engine's thread (after `closed`, or when it no longer answers). */
  terminate(): Promise<void>;
}

/** Events the engine posts before it has started its run (a bot's endpoint, the fan-out server listening). */
export const isEarlyEvent = (event: EngineEvent): boolean => event.type === 'bot-listening' || event.type === 'bot-status' || event.type === 'fanout-listening' || event.type === 'ready';

/** What the host does with an early event: it may answer the engine at once (`start-at`). */
export type EarlyListener = (event: EngineEvent, command: (command: HostCommand) => void) => void;

/** Buffers events until the host listens, so none is lost between `started` and listen(). */
export class EventQueue {
  private queued: EngineEvent[] = [];
  private listener: ((event: EngineEvent) => void) | undefined;

  push(event: EngineEvent): void {
    if (this.listener) this.listener(event);
    else this.queued.push(event);
  }

  listen(listener: (event: EngineEvent) => void): void {
    this.listener = listener;
    const queued = this.queued;
    this.queued = [];
    for (const event of queued) listener(event);
  }
}

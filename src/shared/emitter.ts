/** A subscription that can be ended. */
export interface Disposable {
  dispose(): void;
}

/** The `onDid…` event type: subscribe with a listener, get a Disposable back. */
export type Event<T> = (listener: (value: T) => void) => Disposable;

/**
 * A minimal typed event emitter in VS Code's style: `readonly onDidX = this.xEmitter.event`.
 * A throwing listener is isolated so one bad subscriber cannot break the engine.
 */
export class Emitter<T> {
  private listeners: ((value: T) => void)[] = [];

  readonly event: Event<T> = (listener) => {
    this.listeners = [...this.listeners, listener];
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((candidate) => candidate !== listener);
      },
    };
  };

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  fire(value: T): void {
    for (const listener of this.listeners) {
      try {
        listener(value);
      } catch (error) {
        console.error('cvlab: an event listener failed:', error);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}

/**
 * One requestAnimationFrame for every chart and readout, asked for only when something changed
 * (new frames, a control moved, a page shown). Between deliveries the page's main thread sleeps,
 * which leaves the shared CPU to the engine.
 */
export class FrameClock {
  private readonly callbacks = new Set<(now: number) => void>();
  private pending = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  subscribe(callback: (now: number) => void): () => void {
    this.callbacks.add(callback);
    this.request();
    return () => this.callbacks.delete(callback);
  }

  /** Draws on the next animation frame (once, however often it is asked). */
  request(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame((now) => {
      this.pending = 0;
      for (const callback of this.callbacks) callback(now);
    });
  }

  /** Draws again after `delayMs` (a panel that limits its own redraw rate). */
  requestLater(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.request();
    }, delayMs);
  }
}

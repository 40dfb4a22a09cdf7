import { runAt, type Cancelable } from './run-at';

// The emulator's events (a line reaching the probe, the CV changing, a line leaving on the
// link) are due at exact times and must happen in that order, as on a real UART. One runAt per
// event does not promise that: when the event loop is late, several due callbacks fire in the
// order their timers happened to wake, and EDGE lines could leave out of order. One queue,
// sorted by due time (first come first served on ties), serviced by one runAt, keeps it.

interface Entry {
  atNs: bigint;
  run: () => void;
}

/** Runs callbacks at hrtime targets, strictly in order of target (then of scheduling). */
export class Timeline {
  private readonly entries: Entry[] = [];
  private pending: Cancelable | undefined;
  private pendingAtNs: bigint | undefined;

  /** Schedules `run` at hrtime `atNs` (never before it, never before an earlier-due entry). */
  at(atNs: bigint, run: () => void): void {
    let index = this.entries.length;
    while (index > 0 && (this.entries[index - 1] as Entry).atNs > atNs) index -= 1;
    this.entries.splice(index, 0, { atNs, run });
    this.arm();
  }

  /** Drops every entry not yet run. */
  clear(): void {
    this.entries.length = 0;
    this.pending?.cancel();
    this.pending = undefined;
    this.pendingAtNs = undefined;
  }

  private arm(): void {
    const head = this.entries[0];
    if (!head || this.pendingAtNs === head.atNs) return;
    this.pending?.cancel();
    this.pendingAtNs = head.atNs;
    this.pending = runAt(head.atNs, () => {
      this.pending = undefined;
      this.pendingAtNs = undefined;
      this.drain();
    });
  }

  private drain(): void {
    const now = process.hrtime.bigint();
    // Entries a callback adds that are already due run in this pass, in their place.
    for (let head = this.entries[0]; head && head.atNs <= now; head = this.entries[0]) {
      this.entries.shift();
      head.run();
    }
    this.arm();
  }
}

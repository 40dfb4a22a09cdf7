// Node's timers have millisecond granularity and fire up to a millisecond late. Loop-back
// timing works in tens of microseconds, so: sleep on a timer until about a millisecond
// before the target, then yield with setImmediate until the monotonic clock reaches it.
// The last millisecond costs some CPU; I/O callbacks still run in between.

const COARSE_MARGIN_NS = 1_500_000n;

export interface Cancelable {
  cancel(): void;
}

/** Calls `callback` as close as the event loop allows to hrtime `targetNs` (never before it). */
export function runAt(targetNs: bigint, callback: () => void): Cancelable {
  let canceled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;
  const spin = (): void => {
    if (canceled) return;
    if (process.hrtime.bigint() >= targetNs) callback();
    else immediate = setImmediate(spin);
  };
  const remaining = targetNs - process.hrtime.bigint();
  if (remaining > COARSE_MARGIN_NS) timer = setTimeout(spin, Number(remaining - COARSE_MARGIN_NS) / 1e6);
  else spin();
  return {
    cancel: () => {
      canceled = true;
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

/** Resolves at hrtime `targetNs` (see runAt). */
export function waitUntil(targetNs: bigint): Promise<void> {
  return new Promise((resolve) => runAt(targetNs, resolve));
}

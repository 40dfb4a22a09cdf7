import { useEffect, useRef } from 'react';
import type { FrameClock } from './frame-clock';
import type { FrameStore, SeriesKey } from './frame-store';
import { formatValue } from '../format/format';

/**
 * Writes the latest value of a series into an element on the shared animation frame, so the big
 * numerals follow the frames without a React render per frame.
 */
export function useLiveReadout<T extends HTMLElement>(
  store: FrameStore,
  clock: FrameClock,
  key: SeriesKey,
  paused: boolean,
): React.RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    let drawn = -1;
    const tick = (): void => {
      const element = ref.current;
      if (!element || paused || store.version === drawn) return;
      drawn = store.version;
      const value = store.ring(key).last();
      element.textContent = Number.isNaN(value) ? '–' : formatValue(value);
    };
    return clock.subscribe(tick);
  }, [store, clock, key, paused]);
  return ref;
}

import { useEffect, useRef } from 'react';
import type { FrameStore, SeriesKey } from './frame-store';
import { formatValue } from './ScopeChart';

/**
 * Writes the latest value of a series into an element from the animation loop, so the big
 * numerals follow the frames without a React render per frame.
 */
export function useLiveReadout<T extends HTMLElement>(store: FrameStore, key: SeriesKey, paused: boolean): React.RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    let animation = 0;
    let drawn = -1;
    const tick = (): void => {
      animation = requestAnimationFrame(tick);
      const element = ref.current;
      if (!element || paused || store.version === drawn) return;
      drawn = store.version;
      const value = store.ring(key).last();
      element.textContent = Number.isNaN(value) ? '–' : formatValue(value);
    };
    animation = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(animation);
  }, [store, key, paused]);
  return ref;
}

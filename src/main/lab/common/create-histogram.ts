import * as hdr from 'hdr-histogram-js';

let backend: 'wasm' | 'js' | undefined;

/**
 * Loads hdr-histogram-js's WebAssembly build once (several times faster per record); where
 * WebAssembly is unavailable the pure JS histograms are used. Safe to call repeatedly.
 */
export async function initHistograms(): Promise<'wasm' | 'js'> {
  if (backend) return backend;
  try {
    await hdr.initWebAssembly();
    backend = 'wasm';
  } catch {
    backend = 'js';
  }
  return backend;
}

/** The backend in use ('js' until initHistograms() has loaded WebAssembly). */
export function histogramBackend(): 'wasm' | 'js' {
  return backend ?? 'js';
}

/**
 * A latency histogram in nanoseconds: 3 significant digits, auto-resizing from 1 ns, so
 * anything from a 50 ns validate to a minutes-long stall is kept. WebAssembly histograms hold
 * native memory: call destroy() when done.
 */
export function createHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: backend === 'wasm',
  });
}

/** Reads a histogram sent as compressed base64 (from another instance, or a stored run). */
export function decodeHistogram(base64: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(base64, 32, backend === 'wasm');
}

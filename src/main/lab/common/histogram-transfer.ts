import { encodeIntoCompressedBase64, WasmHistogram, type Histogram } from 'hdr-histogram-js';
import { decodeHistogram } from './create-histogram';

/**
 * A histogram on its way between threads: the WebAssembly build's plain V2 encoding (no
 * compression: cheap to make on the engine thread, and its buffer can be transferred), or the
 * compressed base64 form where the JS build is in use.
 */
export type EncodedHistogram = Uint8Array | string;

/** Encodes a histogram for another thread. */
export function encodeForTransfer(histogram: Histogram): EncodedHistogram {
  if (histogram instanceof WasmHistogram) return histogram.encode();
  return encodeIntoCompressedBase64(histogram);
}

/** The buffer to list for transfer, when the encoding owns one whole. */
export function transferableOf(encoded: EncodedHistogram): ArrayBuffer | undefined {
  if (typeof encoded === 'string') return undefined;
  const buffer = encoded.buffer;
  return buffer instanceof ArrayBuffer && encoded.byteOffset === 0 && encoded.byteLength === buffer.byteLength ? buffer : undefined;
}

/** Reads a histogram another thread encoded (destroy it after use). */
export function decodeTransferred(encoded: EncodedHistogram): Histogram {
  if (typeof encoded === 'string') return decodeHistogram(encoded);
  return WasmHistogram.decode(encoded);
}

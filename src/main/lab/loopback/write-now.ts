import { writeSync } from 'node:fs';
import type { SerialPort } from 'serialport';

// serialport writes through libuv's thread pool: the bytes reach the driver some tens to
// hundreds of microseconds after write() returns, later still when the pool is busy. A
// timed line (PING, PONG, EDGE) must leave when it is stamped, so it is written straight to
// the descriptor in the same tick; the stream stays the fallback (driver buffer full, a
// queue already waiting, a binding without a descriptor).

/** Writes `text` to an open port now when it can (else through the stream); returns the hrtime ns taken right before the write. */
export function writeNow(port: SerialPort, text: string): bigint {
  const fd = (port as unknown as { port?: { fd?: number | null } }).port?.fd;
  if (typeof fd !== 'number' || port.writableLength > 0) {
    const at = process.hrtime.bigint();
    port.write(text);
    return at;
  }
  const bytes = Buffer.from(text);
  const at = process.hrtime.bigint();
  let written = 0;
  try {
    written = writeSync(fd, bytes);
  } catch {
    // EAGAIN (driver buffer full) and the like: the stream queues the rest.
  }
  if (written < bytes.length) port.write(bytes.subarray(written));
  return at;
}

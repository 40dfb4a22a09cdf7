import { performance } from 'node:perf_hooks';

/**
 * process.hrtime's monotonic clock as a plain number of nanoseconds, read through
 * performance.now() so that a stamp allocates no BigInt. performance.now() and process.hrtime
 * read the same clock (libuv's uv_hrtime), so stamps taken in different threads of one process
 * compare directly; only the origin differs, and it is measured once per thread here.
 */
const originNs = Number(process.hrtime.bigint()) - performance.now() * 1e6;

/** Now, in process.hrtime nanoseconds (the same time base in every thread of the process). */
export function monotonicNs(): number {
  return originNs + performance.now() * 1e6;
}

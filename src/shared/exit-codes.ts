/**
 * What a `cvlab` exit code means; each means one thing. Scripts and CI at the bench read these.
 */
export const EXIT_CODES = {
  /** Ran, and every threshold (and baseline comparison) passed. */
  passed: 0,
  /** A threshold broke, a regression against the baseline, or a measurement that did not hold. */
  failed: 1,
  /** Bad input: a flag, a rig or scenario file, a chat message that was rejected. */
  badInput: 2,
  /** A service the command needs (Redis, PostgreSQL, the OSC target, the probe) did not answer. */
  serviceUnreachable: 3,
} as const;

/** A service the command needs did not answer; the CLI exits with EXIT_CODES.serviceUnreachable. */
export class ServiceUnreachableError extends Error {
  /** Which service, in the user's words (e.g. "PostgreSQL at 127.0.0.1:5432"). */
  readonly service: string;
  constructor(service: string, detail: string) {
    super(`${service} did not answer: ${detail}`);
    this.name = 'ServiceUnreachableError';
    this.service = service;
  }
}

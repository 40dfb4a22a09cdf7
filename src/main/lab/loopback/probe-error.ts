/** What went wrong with the probe, for callers that react differently (the CLI's exit code, the console's hint). */
export type ProbeErrorCode = 'missing' | 'permission' | 'busy' | 'no-hello' | 'no-answer' | 'closed' | 'open-failed' | 'not-connected';

/** An error talking to the loop-back probe, worded for the person at the bench. */
export class ProbeError extends Error {
  readonly code: ProbeErrorCode;
  constructor(code: ProbeErrorCode, message: string) {
    super(message);
    this.name = 'ProbeError';
    this.code = code;
  }
}

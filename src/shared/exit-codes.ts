/**
 * What a `cvlab` exit code means; each means one thing. Scripts and CI at the bench read these;
 * the CLI sets them in one place (src/main/cli/exit-status.ts), every command's --help lists
 * them, and the README's table is this one.
 */
export const EXIT_CODES = {
  /** Did what it was asked: a run held every threshold (and, with a baseline, did not regress). */
  passed: 0,
  /** A threshold broke, a regression against the baseline, or a measurement that did not hold. */
  failed: 1,
  /** Bad input: a flag, an argument, a file, an id that names nothing, a rejected chat message. */
  badInput: 2,
  /** Something the command needs is unavailable: a service that did not answer, a port taken, a full disk. */
  serviceUnreachable: 3,
  /** cvlab itself failed unexpectedly (a bug): never a verdict on what was measured. */
  internalError: 4,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Each code in a line, as the README's table and every command's --help say it. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'passed: the command did what it was asked; a run held every threshold (and, with --baseline, no regression)',
  1: 'failed: a threshold broke, --baseline found a regression, or a measurement did not hold',
  2: 'bad input: an unknown or malformed flag, a missing argument, a file that is missing or not valid (each bad field is named), an id that names no saved run',
  3: 'unavailable: something the command needs did not answer or is taken: Redis, PostgreSQL (or the disk under the database), the probe, a port to listen on',
  4: 'cvlab itself failed unexpectedly (a bug: the message says where; please report it)',
};

/** The input names something that is not there or not valid; the CLI exits with EXIT_CODES.badInput. */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

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

/** Something the command must hold is taken or full (a port in use, a disk with no space): exit 3. */
export class ResourceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceUnavailableError';
  }
}

/** Errno codes of something full or taken (a disk, a port): the command cannot go on, and it is not the input. */
const RESOURCE_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EADDRINUSE', 'EADDRNOTAVAIL']);

/** The exit code an error stands for (commander's own errors aside: the CLI reads those). */
export function exitCodeOfError(error: unknown): ExitCode {
  if (error instanceof BadInputError) return EXIT_CODES.badInput;
  if (error instanceof ServiceUnreachableError || error instanceof ResourceUnavailableError) return EXIT_CODES.serviceUnreachable;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && RESOURCE_ERRNO.has(code)) return EXIT_CODES.serviceUnreachable;
  return EXIT_CODES.internalError;
}

/**
 * An error rebuilt on this side of a thread or process boundary (where classes do not cross)
 * from its message and the exit code it stood for.
 */
export function errorWithExitCode(message: string, code: ExitCode | undefined): Error {
  if (code === EXIT_CODES.badInput) return new BadInputError(message);
  if (code === EXIT_CODES.serviceUnreachable) return new ResourceUnavailableError(message);
  return new Error(message);
}

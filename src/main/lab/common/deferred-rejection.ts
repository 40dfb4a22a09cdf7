import type { Rejection } from '../../../shared/message';
import type { RejectionCode } from '../../../shared/rejection';

/**
 * A rejection whose plain-words detail is written only when someone reads it. The hot path keeps
 * the code and the facts (a module-level formatter and up to three arguments it already holds);
 * the prose costs nothing unless the audit log, `cvlab send` or a test asks for it.
 * The detail is a prototype getter: a structured clone (postMessage) carries `code` only, so read
 * `detail` (or call describeRejection) before a rejection crosses a thread.
 */
export class DeferredRejection<A = unknown, B = unknown, C = unknown> implements Rejection {
  private written: string | undefined;

  constructor(
    readonly code: RejectionCode,
    private readonly format: (a: A, b: B, c: C) => string,
    private readonly a: A,
    private readonly b: B,
    private readonly c: C,
  ) {}

  get detail(): string {
    this.written ??= this.format(this.a, this.b, this.c);
    return this.written;
  }

  /** JSON (reports, WebSocket, the console) shows the code and the detail, never the formatter. */
  toJSON(): Rejection {
    return { code: this.code, detail: this.detail };
  }
}

/** Builds a rejection whose detail `format(a, b, c)` is written on first read. */
export function deferRejection<A, B = undefined, C = undefined>(
  code: RejectionCode,
  format: (a: A, b: B, c: C) => string,
  a: A,
  b?: B,
  c?: C,
): Rejection {
  return new DeferredRejection(code, format, a, b as B, c as C);
}

/** The plain-words detail of any rejection, written now if it was deferred. */
export function describeRejection(rejection: Rejection): string {
  return rejection.detail;
}

/** A copy with the detail written out: plain data that survives postMessage and JSON. */
export function materializeRejection(rejection: Rejection): Rejection {
  return { code: rejection.code, detail: rejection.detail };
}

import type { z } from 'zod';
import { BadInputError } from './exit-codes';

/**
 * Turns zod issues into one plain line each: where the problem is (a dotted path such as
 * `variables[2].out.unit`) and what was expected. Used for rig files, scenario files,
 * IPC/WebSocket arguments, so every border reports errors the same way.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], source?: string): string[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    const where = path ? `${path}: ` : '';
    return `${source ? `${source}: ` : ''}${where}${issue.message}`;
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Error raised when a value crossing a border does not match its schema. */
export class ValidationError extends BadInputError {
  readonly problems: string[];
  constructor(what: string, problems: string[]) {
    super(`${what} is not valid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Parses `value` with `schema`, throwing a ValidationError that names each bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(what, formatIssues(result.error.issues));
}

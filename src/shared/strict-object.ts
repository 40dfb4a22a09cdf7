import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';

/** "did you mean …" for a misspelt key: the nearest known key when it is close enough to be a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const nearest = closest(key, [...known]);
  // Two swapped or missing letters (a third of a long key, at most 3) still read as a typo.
  const allowed = key.length <= 2 ? 1 : Math.min(3, Math.max(2, Math.floor(key.length / 3)));
  return distance(key.toLowerCase(), nearest.toLowerCase()) <= allowed ? nearest : undefined;
}

/** One plain sentence for keys the schema does not know, with a suggestion where one is close. */
export function describeUnknownKeys(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((key) => {
      const suggestion = suggestKey(key, known);
      return suggestion
        ? `unknown key "${key}": did you mean "${suggestion}"?`
        : `unknown key "${key}": expected one of ${known.map((name) => `"${name}"`).join(', ')}`;
    })
    .join('; ');
}

/**
 * A zod object that refuses keys it does not know (a typo in a file must not be silently
 * ignored) and says which key was meant: `duraton` → `unknown key "duraton": did you mean "duration"?`.
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape): z.ZodObject<Shape, z.core.$strict> {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? describeUnknownKeys(issue.keys, known) : undefined),
  });
}

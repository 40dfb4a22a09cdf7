// Arbitraries for damaged JSON files, shared by the property tests and bench/fuzz.ts.
import fc from 'fast-check';

/** One damaged copy of a file's text, with how it was damaged (for a failure's message). */
export interface FileMutation {
  readonly kind: string;
  readonly text: string;
}

/** Every path to a value inside a JSON value (["osc","port"], ["variables",0,"min"], …). */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  return paths;
}

function replaced(value: unknown, path: readonly (string | number)[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && remove) copy.splice(head as number, 1);
    else copy[head as number] = replaced(copy[head as number], rest, replacement, remove);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && remove) delete copy[head as string];
  else copy[head as string] = replaced(copy[head as string], rest, replacement, remove);
  return copy;
}

/** Field values a schema must refuse or take: wrong types, extremes, huge and hostile text. */
const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(null, -1, 0, 1e308, -1e308, 2 ** 53, 0.5, '', ' ', '1e9s', '-5ms', 'NaN', 'Infinity', '__proto__', '\u0000', '💥', '<script>', 'x'.repeat(70_000)),
  fc.string({ maxLength: 30 }),
  fc.double(),
);

/** A damaged copy of `text` (JSON): cut short, bytes overwritten or inserted, a field replaced or removed. */
export function fileMutation(text: string): fc.Arbitrary<FileMutation> {
  const parsed = JSON.parse(text) as unknown;
  const paths = pathsOf(parsed);
  return fc.oneof(
    fc.nat({ max: text.length }).map((at) => ({ kind: `cut at ${at}`, text: text.slice(0, at) })),
    fc.tuple(fc.nat({ max: text.length }), fc.string({ minLength: 1, maxLength: 8 })).map(([at, junk]) => ({ kind: `inserted ${JSON.stringify(junk)} at ${at}`, text: text.slice(0, at) + junk + text.slice(at) })),
    fc.tuple(fc.nat({ max: Math.max(0, text.length - 1) }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => ({ kind: `byte ${byte} at ${at}`, text: text.slice(0, at) + String.fromCharCode(byte) + text.slice(at + 1) })),
    fc.tuple(fc.constantFrom(...paths), hostileValue, fc.boolean()).map(([path, value, remove]) => ({
      kind: `${remove ? 'removed' : 'replaced'} ${path.join('.') || '(root)'}`,
      text: JSON.stringify(replaced(parsed, path, value, remove && path.length > 0)) ?? 'null',
    })),
  );
}

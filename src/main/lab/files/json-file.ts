import { readFile, rename, writeFile } from 'node:fs/promises';
import type { z } from 'zod';
import { parseOrThrow, ValidationError } from '../../../shared/format-issues';

/**
 * Reads a JSON file and checks it against a schema. Every failure names the file and what was
 * expected: a missing file, broken JSON (with line and column), or each bad field.
 */
export async function readJsonFile<T extends z.ZodType>(path: string, schema: T, what: string): Promise<z.output<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new ValidationError(`${what} ${path}`, [`cannot read it: ${reason}`]);
  }
  return parseJsonText(text, schema, `${what} ${path}`);
}

/** Parses JSON text against a schema; errors carry the line and column of a syntax error. */
export function parseJsonText<T extends z.ZodType>(text: string, schema: T, what: string): z.output<T> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset).split('\n');
      where = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    }
    throw new ValidationError(what, [`not valid JSON${where}: ${message}`]);
  }
  return parseOrThrow(schema, data, what);
}

/** Writes JSON atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeJsonFile(path: string, data: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(data, null, 2) + '\n');
  await rename(temporary, path);
}

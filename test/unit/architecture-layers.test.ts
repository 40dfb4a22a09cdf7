// The folder table is one list (eslint-rules/layers.js): the lint holds the code to it, and this
// test holds the list to the folders on disk and to the table in docs/architecture.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCEPTIONS, LAYERS } from '../../eslint-rules/layers.js';
import { layerOf } from '../../eslint-rules/layering-rule.js';

const root = resolve(__dirname, '../..');
const sourceFiles = (folder: string): string[] =>
  readdirSync(folder).flatMap((name) => {
    const full = join(folder, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') && !name.endsWith('.test.tsx') ? [relative(root, full)] : [];
  });

/** The folder name as the architecture document writes it. */
const written = (folder: string): string => folder.replace(/^src\/main\/lab\//, 'lab/').replace(/^src\/main\/lab$/, 'lab/*.ts');

describe('the layer table', () => {
  it('places every source file under src/ in a layer', () => {
    const unplaced = sourceFiles(join(root, 'src')).filter((file) => layerOf(file) === undefined);
    expect(unplaced).toEqual([]);
  });

  it('lets no two folders import each other, directly or round a loop', () => {
    const edges = new Map(LAYERS.map((layer) => [layer.folder, layer.imports]));
    const loops: string[] = [];
    const visit = (folder: string, path: string[]): void => {
      if (path.includes(folder)) {
        loops.push([...path.slice(path.indexOf(folder)), folder].join(' → '));
        return;
      }
      for (const next of edges.get(folder) ?? []) visit(next, [...path, folder]);
    };
    for (const layer of LAYERS) visit(layer.folder, []);
    expect(loops).toEqual([]);
  });

  it('names only folders that exist, and exceptions between files that exist', () => {
    const exists = (path: string): boolean => {
      try {
        statSync(join(root, path));
        return true;
      } catch {
        return false;
      }
    };
    expect(LAYERS.filter((layer) => !exists(layer.folder)).map((layer) => layer.folder)).toEqual([]);
    expect(LAYERS.flatMap((layer) => layer.imports).filter((folder) => !LAYERS.some((layer) => layer.folder === folder))).toEqual([]);
    expect(EXCEPTIONS.filter((exception) => !exists(exception.from) || !exists(exception.to))).toEqual([]);
  });

  it('is the table docs/architecture.md shows', () => {
    const document = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const rows = document
      .split('\n')
      .filter((line) => /^\| `(src|lab)\//.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .map((cells) => ({ folder: cells[1]?.replace(/`/g, ''), imports: cells[3] }));
    const expected = LAYERS.map((layer) => ({
      folder: written(layer.folder),
      imports: [...layer.imports.map((folder) => `\`${written(folder)}\``), ...(layer.types ?? []).map((folder) => `types of \`${written(folder)}\``)].join(', ') || '—',
    }));
    expect(rows).toEqual(expected);
  });
});

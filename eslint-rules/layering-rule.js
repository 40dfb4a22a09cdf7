// The `cvlab/layers` rule: an import is allowed when the folder of the file importing (its layer,
// from LAYERS) lists the folder of the file imported, or both are in one folder. Resolved paths,
// not import strings, are compared, so `../store/x` and `../../store/x` are judged alike.
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { EXCEPTIONS, LAYERS } from './layers.js';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const byLength = [...LAYERS].sort((a, b) => b.folder.length - a.folder.length);

/** The layer a repository path belongs to: the longest folder (or the file itself) that holds it. */
export function layerOf(path) {
  return byLength.find((layer) => path === layer.folder || path.startsWith(`${layer.folder}/`));
}

function resolveImport(fromFile, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`]) if (existsSync(candidate)) return candidate;
  return `${base}.ts`;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: { type: 'problem', docs: { description: 'each folder imports only what docs/architecture.md allows it' }, schema: [] },
  create(context) {
    const file = relative(root, context.filename);
    const own = layerOf(file);
    if (!own) return {};
    const check = (node, specifier, typeOnly) => {
      if (typeof specifier !== 'string') return;
      const target = resolveImport(context.filename, specifier);
      if (!target) return;
      const targetPath = relative(root, target);
      const theirs = layerOf(targetPath);
      if (!theirs || theirs === own) return;
      if (own.imports.includes(theirs.folder)) return;
      if (typeOnly && own.types?.some((folder) => theirs.folder === folder || theirs.folder.startsWith(`${folder}/`))) return;
      if (EXCEPTIONS.some((exception) => exception.from === file && exception.to === targetPath)) return;
      const allowed = [...own.imports, ...(own.types ?? []).map((folder) => `types of ${folder}`)].join(', ') || 'nothing outside itself';
      context.report({ node, message: `${own.folder} (${own.runs}) may not import ${theirs.folder} (${theirs.runs}): ${targetPath}. It may import ${allowed} (docs/architecture.md, eslint-rules/layers.js).` });
    };
    const typeOnlyImport = (node) => node.importKind === 'type' || (node.specifiers?.length > 0 && node.specifiers.every((item) => item.importKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source.value, typeOnlyImport(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value, false),
    };
  },
};
